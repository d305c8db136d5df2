import { z } from 'zod';
import { IdSchema } from './common';
import { TrackedEventTypeSchema, matchableProperties, type TrackedEventType } from './tracked-event';

/**
 * Lead scoring and behaviour rules are data that sales ops edit: an event type plus matchers on
 * the event's properties. Both rule kinds share the matcher language defined here.
 */

export const PropertyMatcherSchema = z
  .strictObject({
    equals: z.union([z.string().max(2000), z.number()]).optional(),
    contains: z.string().min(1).max(2000).optional(),
    prefix: z.string().min(1).max(2000).optional(),
    gte: z.number().optional(),
    lte: z.number().optional(),
  })
  .refine((matcher) => Object.values(matcher).some((value) => value !== undefined), 'give at least one of equals, contains, prefix, gte, lte')
  .meta({
    id: 'PropertyMatcher',
    description: 'Every operator given must hold. Strings (url, currency, name): `equals`, `contains`, `prefix`, compared without regard to case. Numbers (amount): `equals`, `gte`, `lte`.',
    example: { contains: '/pricing' },
  });
export type PropertyMatcher = z.infer<typeof PropertyMatcherSchema>;

export const EventMatchSchema = z
  .record(z.string(), PropertyMatcherSchema)
  .default({})
  .meta({ id: 'EventMatch', description: 'Property name -> matcher; every property listed must match. Empty matches every event of the type. Matchable: page_view `url`; purchase `amount`, `currency`; custom `name`.' });
export type EventMatch = z.infer<typeof EventMatchSchema>;

const stringOperators = ['equals', 'contains', 'prefix'] as const;
const numberOperators = ['equals', 'gte', 'lte'] as const;

/** Checks that each matched property exists on the event type and each operator fits its kind. */
export function reportMatchProblems(eventType: TrackedEventType, match: EventMatch, ctx: z.RefinementCtx): void {
  const properties: Record<string, 'string' | 'number'> = matchableProperties[eventType];
  for (const [property, matcher] of Object.entries(match)) {
    const kind = properties[property];
    if (!kind) {
      const known = Object.keys(properties);
      ctx.addIssue({ code: 'custom', path: ['match', property], message: `${eventType} events have no property ${property}; ${known.length > 0 ? `rules can match ${known.join(', ')}` : 'rules can only match the type'}` });
      continue;
    }
    const allowed: readonly string[] = kind === 'string' ? stringOperators : numberOperators;
    for (const [operator, value] of Object.entries(matcher)) {
      if (value === undefined) continue;
      if (!allowed.includes(operator)) ctx.addIssue({ code: 'custom', path: ['match', property, operator], message: `${property} is a ${kind}; use ${allowed.join(', ')}` });
      else if (typeof value !== kind) ctx.addIssue({ code: 'custom', path: ['match', property, operator], message: `must be a ${kind}` });
    }
    if (kind === 'number' && matcher.gte !== undefined && matcher.lte !== undefined && matcher.gte > matcher.lte) {
      ctx.addIssue({ code: 'custom', path: ['match', property, 'lte'], message: 'must not be less than gte' });
    }
  }
}

const ruleName = z.string().trim().min(1).max(200);

export const ScoringRuleCreateSchema = z
  .strictObject({
    name: ruleName,
    eventType: TrackedEventTypeSchema,
    match: EventMatchSchema,
    points: z.number().int().min(-1000).max(1000).refine((points) => points !== 0, 'must not be 0').meta({ description: 'Added to the score when the rule matches; negative points lower it.' }),
    active: z.boolean().default(true),
  })
  .superRefine((rule, ctx) => reportMatchProblems(rule.eventType, rule.match, ctx))
  .meta({ id: 'ScoringRuleCreate', example: { name: 'Pricing page', eventType: 'page_view', match: { url: { contains: '/pricing' } }, points: 10 } });
export type ScoringRuleInput = z.infer<typeof ScoringRuleCreateSchema>;

export const ScoringRuleUpdateSchema = z
  .strictObject({
    name: ruleName.optional(),
    eventType: TrackedEventTypeSchema.optional(),
    match: z.record(z.string(), PropertyMatcherSchema).optional(),
    points: z.number().int().optional(),
    active: z.boolean().optional(),
  })
  .meta({ id: 'ScoringRuleUpdate', description: 'The fields to change; the rule as a whole is then checked like a new one.' });

export const ScoringRuleSchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    eventType: TrackedEventTypeSchema,
    match: z.record(z.string(), PropertyMatcherSchema),
    points: z.number().int(),
    active: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ScoringRule' });
export type ScoringRuleView = z.infer<typeof ScoringRuleSchema>;

export const ScoringSettingsSchema = z
  .strictObject({
    halfLifeDays: z.number().int().min(1).max(3650).default(30).meta({ description: 'Points lose half their value every this many days.' }),
    mqlThreshold: z.number().int().min(1).max(100_000).default(50).meta({ description: 'A lead whose score rises to this or more becomes an MQL, and its owner gets a task.' }),
  })
  .meta({ id: 'ScoringSettings' });
export type ScoringSettings = z.infer<typeof ScoringSettingsSchema>;
