import { z } from 'zod';
import { isRegionCode } from '../lead-territory';
import { routingRuleKinds } from '../routing';
import { CountrySchema, IdSchema } from './common';

const RegionSchema = z
  .string()
  .transform((value) => value.trim().toUpperCase())
  .refine(isRegionCode, 'must be an ISO 3166-2 region code such as US-CA')
  .meta({ example: 'US-CA' });

const TeamSchema = z.array(IdSchema).min(1, 'name at least one user').max(200).meta({ description: 'Active reps or managers the rule rotates through, each within their lead capacity.' });

const common = {
  name: z.string().trim().min(1).max(200),
  active: z.boolean().default(true),
  position: z.int().min(1).optional().meta({ description: 'Where to insert a new rule (1 = tried first); later rules move down. Default: last.' }),
};

/** A rule by kind; the strict objects reject fields that the kind does not use. */
export const RoutingRuleCreateSchema = z
  .discriminatedUnion('kind', [
    z
      .strictObject({
        ...common,
        kind: z.literal('territory'),
        countries: z.array(CountrySchema).max(300).default([]),
        regions: z.array(RegionSchema).max(2000).default([]),
        userIds: TeamSchema,
      })
      .refine((rule) => rule.countries.length + rule.regions.length > 0, { message: 'give at least one country or region', path: ['countries'] }),
    z.strictObject({ ...common, kind: z.literal('company_owner') }),
    z.strictObject({ ...common, kind: z.literal('round_robin'), userIds: TeamSchema }),
  ])
  .meta({ id: 'RoutingRuleCreate' });
export type RoutingRuleCreate = z.infer<typeof RoutingRuleCreateSchema>;

/** Changes to a rule; the result is checked as a whole against its (possibly new) kind. */
export const RoutingRuleUpdateSchema = z
  .strictObject({
    name: z.string().optional(),
    active: z.boolean().optional(),
    kind: z.enum(routingRuleKinds).optional(),
    countries: z.array(z.string()).optional(),
    regions: z.array(z.string()).optional(),
    userIds: z.array(z.string()).optional(),
  })
  .meta({ id: 'RoutingRuleUpdate' });
export type RoutingRuleUpdate = z.infer<typeof RoutingRuleUpdateSchema>;

export const RoutingRuleReorderSchema = z
  .strictObject({ ruleIds: z.array(IdSchema).max(1000).meta({ description: 'Every rule\'s id, in the order they are tried.' }) })
  .meta({ id: 'RoutingRuleReorder' });

export const RoutingRuleSchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    position: z.int(),
    kind: z.enum(routingRuleKinds),
    countries: z.array(z.string()),
    regions: z.array(z.string()),
    userIds: z.array(IdSchema),
    active: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'RoutingRule' });
export type RoutingRuleView = z.infer<typeof RoutingRuleSchema>;

export const RoutingRuleListSchema = z.object({ data: z.array(RoutingRuleSchema) }).meta({ id: 'RoutingRuleList' });
