import { z } from 'zod';
import { IdSchema, LifecycleStageSchema } from './common';
import { EventMatchSchema, PropertyMatcherSchema, reportMatchProblems } from './scoring';
import { TrackedEventTypeSchema } from './tracked-event';

/** Behaviour rules: an event of a type (and matching properties) moves a contact from one of some stages to another. */
const ruleName = z.string().trim().min(1).max(200);

export const LifecycleRuleCreateSchema = z
  .strictObject({
    name: ruleName,
    eventType: TrackedEventTypeSchema,
    match: EventMatchSchema,
    fromStages: z.array(LifecycleStageSchema).min(1).meta({ description: 'The rule applies only to contacts in one of these stages.' }),
    toStage: LifecycleStageSchema,
    active: z.boolean().default(true),
  })
  .superRefine((rule, ctx) => {
    reportMatchProblems(rule.eventType, rule.match, ctx);
    if (rule.fromStages.includes(rule.toStage)) ctx.addIssue({ code: 'custom', path: ['toStage'], message: 'must not be one of fromStages' });
  })
  .transform((rule) => ({ ...rule, fromStages: [...new Set(rule.fromStages)] }))
  .meta({ id: 'LifecycleRuleCreate', example: { name: 'Pricing page qualifies', eventType: 'page_view', match: { url: { contains: '/pricing' } }, fromStages: ['lead', 'mql'], toStage: 'sql' } });
export type LifecycleRuleInput = z.infer<typeof LifecycleRuleCreateSchema>;

export const LifecycleRuleUpdateSchema = z
  .strictObject({
    name: ruleName.optional(),
    eventType: TrackedEventTypeSchema.optional(),
    match: z.record(z.string(), PropertyMatcherSchema).optional(),
    fromStages: z.array(LifecycleStageSchema).optional(),
    toStage: LifecycleStageSchema.optional(),
    active: z.boolean().optional(),
  })
  .meta({ id: 'LifecycleRuleUpdate', description: 'The fields to change; the rule as a whole is then checked like a new one.' });

export const LifecycleRuleSchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    eventType: TrackedEventTypeSchema,
    match: z.record(z.string(), PropertyMatcherSchema),
    fromStages: z.array(LifecycleStageSchema),
    toStage: LifecycleStageSchema,
    active: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'LifecycleRule' });
export type LifecycleRuleView = z.infer<typeof LifecycleRuleSchema>;

export const ReengagementSettingsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Off: quiet customers are neither marked at risk nor churned.' }),
    sequenceId: IdSchema.nullable().default(null).meta({ description: 'Published sequence that at-risk customers are enrolled in; null marks them at risk without a sequence.' }),
    afterDays: z.number().int().min(1).max(3650).default(180).meta({ description: 'Days without a purchase after which a customer is at risk.' }),
    churnAfterDays: z.number().int().min(1).max(3650).default(60).meta({ description: 'Days an at-risk customer has to purchase before it counts as churned.' }),
  })
  .meta({ id: 'ReengagementSettings' });
export type ReengagementSettings = z.infer<typeof ReengagementSettingsSchema>;
