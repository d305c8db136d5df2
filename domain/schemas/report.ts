import { z } from 'zod';
import { defaultCommitThreshold } from '../forecast';
import { IdSchema } from './common';

const OwnerFilterSchema = z
  .union([IdSchema, z.literal('me')])
  .optional()
  .meta({ description: '`me` is the caller. Reps always get their own numbers; managers may pick themselves or a report.' });

const InstantSchema = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'must be an ISO date (2026-01-31, midnight UTC) or date-time with offset' })
  .transform((value) => new Date(value));

/** A half-open range [from, to); both default to the last 90 days. */
const rangeFields = {
  from: InstantSchema.optional().meta({ description: 'Start, inclusive (default: 90 days before `to`).' }),
  to: InstantSchema.optional().meta({ description: 'End, exclusive (default: now).' }),
};

export const ForecastQuerySchema = z
  .strictObject({
    pipelineId: IdSchema.optional(),
    ownerId: OwnerFilterSchema,
    closeFrom: z.iso.date().optional().meta({ description: 'Only deals expected to close on or after this date.' }),
    closeTo: z.iso.date().optional().meta({ description: 'Only deals expected to close on or before this date.' }),
    commitThreshold: z.coerce
      .number()
      .int()
      .min(0)
      .max(100)
      .default(defaultCommitThreshold)
      .meta({ description: 'Stages with at least this win probability (percent) count as commit.' }),
  });
export type ForecastQuery = z.infer<typeof ForecastQuerySchema>;

export const FunnelQuerySchema = z.strictObject({
  pipelineId: IdSchema,
  ownerId: OwnerFilterSchema,
  ...rangeFields,
});
export type FunnelQuery = z.infer<typeof FunnelQuerySchema>;

export const TimeInStageQuerySchema = z.strictObject({
  pipelineId: IdSchema,
  ownerId: OwnerFilterSchema,
  ...rangeFields,
  includeOpen: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .meta({ description: '`true`: stays still going count up to now. Default: only finished stays.' }),
});
export type TimeInStageQuery = z.infer<typeof TimeInStageQuerySchema>;

export const LeadSourcesQuerySchema = z.strictObject({
  ownerId: OwnerFilterSchema,
  ...rangeFields,
});
export type LeadSourcesQuery = z.infer<typeof LeadSourcesQuerySchema>;

const figures = {
  deals: z.number().int(),
  rotting: z.number().int().meta({ description: 'Open deals flagged as rotting (idle past the escalation ladder).' }),
  bestCase: z.string().meta({ description: 'Sum of the amounts of all open deals.' }),
  commit: z.string().meta({ description: 'Sum of the amounts of open deals in stages at or above the commit threshold.' }),
  weighted: z.string().meta({ description: 'Sum of amount x stage probability.' }),
};

export const ForecastReportSchema = z
  .object({
    commitThreshold: z.number().int(),
    asOf: z.string(),
    currencies: z.array(
      z.object({
        currency: z.string(),
        totals: z.object(figures),
        byMonth: z.array(z.object({ month: z.string().nullable().meta({ description: 'YYYY-MM of the expected close date; null: no date.' }), ...figures })),
        byOwner: z.array(z.object({ ownerId: IdSchema, ownerName: z.string(), ...figures })),
        byMonthAndOwner: z.array(z.object({ month: z.string().nullable(), ownerId: IdSchema, ownerName: z.string(), ...figures })),
      }),
    ),
  })
  .meta({ id: 'ForecastReport' });

const FunnelSchema = z.object({
  deals: z.number().int(),
  steps: z.array(
    z.object({
      stageId: IdSchema,
      name: z.string(),
      reached: z.number().int().meta({ description: 'Deals that reached this stage or a later one.' }),
      conversionToNext: z.number().nullable(),
    }),
  ),
  winRate: z.number().nullable(),
});

export const FunnelReportSchema = z
  .object({
    pipelineId: IdSchema,
    from: z.string(),
    to: z.string(),
    overall: FunnelSchema,
    bySource: z.array(z.object({ source: z.string(), ...FunnelSchema.shape })),
  })
  .meta({ id: 'FunnelReport' });

export const TimeInStageReportSchema = z
  .object({
    pipelineId: IdSchema,
    from: z.string(),
    to: z.string(),
    includeOpen: z.boolean(),
    stages: z.array(
      z.object({
        stageId: IdSchema,
        name: z.string(),
        stays: z.number().int(),
        medianSeconds: z.number().nullable(),
        p90Seconds: z.number().nullable(),
        medianDays: z.number().nullable(),
        p90Days: z.number().nullable(),
      }),
    ),
  })
  .meta({ id: 'TimeInStageReport' });

export const LeadSourcesReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    sources: z.array(
      z.object({
        source: z.string(),
        leads: z.number().int(),
        conversions: z.number().int(),
        conversionRate: z.number().nullable(),
        revenue: z.array(z.object({ currency: z.string(), amount: z.string(), wonDeals: z.number().int() })),
      }),
    ),
  })
  .meta({ id: 'LeadSourcesReport' });
