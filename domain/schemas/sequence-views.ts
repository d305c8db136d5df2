import { z } from 'zod';
import { TemplatePinsSchema } from '../template-pins';
import { IdSchema } from './common';
import { SequenceDefinitionSchema, SequenceSummarySchema, sequenceVersionStatuses, stopReasons } from './sequence';

/** What the sequences API answers; requests are in sequence.ts. */

export const SequenceParamsSchema = z.object({ id: IdSchema });
export const SequenceVersionParamsSchema = z.object({ id: IdSchema, version: z.coerce.number().int().min(1).max(1_000_000) });

export const SequenceVersionSchema = z
  .object({
    version: z.number().int(),
    status: z.enum(sequenceVersionStatuses),
    definition: SequenceDefinitionSchema,
    templatePins: TemplatePinsSchema,
    createdAt: z.string(),
    publishedAt: z.string().nullable(),
  })
  .meta({ id: 'SequenceVersion' });
export type SequenceVersionView = z.infer<typeof SequenceVersionSchema>;

export const SequenceSchema = SequenceSummarySchema.extend({
  latest: SequenceVersionSchema.meta({ description: 'The newest version, draft or published.' }),
  published: SequenceVersionSchema.nullable().meta({ description: 'The version new enrollments start on; null until the first publish.' }),
}).meta({ id: 'Sequence' });
export type SequenceView = z.infer<typeof SequenceSchema>;

export const SequenceVersionSummarySchema = z
  .object({
    version: z.number().int(),
    status: z.enum(sequenceVersionStatuses),
    current: z.boolean().meta({ description: 'The published version new enrollments start on.' }),
    createdAt: z.string(),
    publishedAt: z.string().nullable(),
  })
  .meta({ id: 'SequenceVersionSummary' });
export const SequenceVersionListSchema = z.object({ data: z.array(SequenceVersionSummarySchema) }).meta({ id: 'SequenceVersionList' });

export const SequenceStatsQuerySchema = z.strictObject({
  version: z.coerce.number().int().min(1).max(1_000_000).optional().meta({ description: 'One version only; default every published version.' }),
});

const count = z.number().int().min(0);
const countsBy = (what: string) => z.record(z.string(), count).meta({ description: what });

export const MessageCountsSchema = z
  .object({
    sent: count.meta({ description: 'Messages the step(s) sent (step outcome `sent`).' }),
    delivered: count.meta({ description: 'Of the messages sent, those the provider reported delivered, or that were opened, clicked or replied to (each implies delivery).' }),
    opened: count.meta({ description: 'Opened, or clicked (a click implies an open).' }),
    clicked: count,
    replied: count.meta({ description: 'Messages with an inbound email reply (Activity type email, direction inbound, naming the message), out-of-office auto-replies excluded.' }),
    bounced: count,
    unsubscribed: count.meta({ description: 'Unsubscribes and spam reports made through the message.' }),
  })
  .meta({ id: 'SequenceMessageCounts' });
export type MessageCounts = z.infer<typeof MessageCountsSchema>;

const outcomeCounts = z
  .object({
    enrolled: count,
    active: count.meta({ description: 'Active or paused now.' }),
    completed: count.meta({ description: 'Ran to the end of the sequence.' }),
    exited: count.meta({ description: 'Ended early (a goal, an exit event, unenrolled, deleted...).' }),
    exitedByGoal: count.meta({ description: 'Ended by a goal: replied, company_replied, meeting_booked, purchased, deal_created or lifecycle_reached.' }),
    stopReasons: countsBy('Ended enrollments by stop reason.'),
    converted: count.meta({ description: 'Ended with a stop reason the sequence counts as converted (settings.convertedOn).' }),
    conversionRate: z.number().min(0).max(1).meta({ description: 'converted / enrolled; 0 when nobody enrolled.' }),
  });

export const SequenceStepStatsSchema = MessageCountsSchema.extend({
  key: z.string(),
  type: z.string(),
  path: z.string().meta({ description: 'Where the step sits, e.g. `steps[2](follow-up).then[0](nudge)`.' }),
  entered: count.meta({ description: 'Enrollments that executed the step at least once.' }),
  outcomes: countsBy('Executions of the step by outcome (sent, skipped, failed, waited, then, else, variant, task_created, updated...); a goto loop counts each visit.'),
  current: count.meta({ description: 'Active or paused enrollments standing at this step now.' }),
  stopReasons: countsBy('Enrollments that ended while at this step, by stop reason.'),
}).meta({ id: 'SequenceStepStats' });

export const SequenceVariantStatsSchema = outcomeCounts
  .omit({ enrolled: true })
  .extend({
    split: z.string(),
    variant: z.string(),
    percent: z.number().int(),
    entered: count.meta({ description: 'Enrollments assigned to this variant.' }),
    conversionRate: z.number().min(0).max(1).meta({ description: 'converted / entered.' }),
    messages: MessageCountsSchema.meta({ description: 'Totals of the message steps inside the variant.' }),
  })
  .meta({ id: 'SequenceVariantStats' });

export const SequenceVersionStatsSchema = outcomeCounts
  .extend({
    version: z.number().int(),
    publishedAt: z.string().nullable(),
    messages: MessageCountsSchema.meta({ description: 'Totals over every message step of the version.' }),
    steps: z.array(SequenceStepStatsSchema).meta({ description: 'Every step of the version in reading order, nested ones included.' }),
    variants: z.array(SequenceVariantStatsSchema),
  })
  .meta({ id: 'SequenceVersionStats' });

export const SequenceStatsSchema = z
  .object({ sequenceId: IdSchema, generatedAt: z.string(), versions: z.array(SequenceVersionStatsSchema).meta({ description: 'Newest version first.' }) })
  .meta({ id: 'SequenceStats' });
export type SequenceStats = z.infer<typeof SequenceStatsSchema>;
export type SequenceVersionStats = z.infer<typeof SequenceVersionStatsSchema>;

/** Stop reasons that mean the contact did what the sequence was for. */
export const goalStopReasons: ReadonlySet<string> = new Set<(typeof stopReasons)[number]>(['replied', 'company_replied', 'meeting_booked', 'purchased', 'deal_created', 'lifecycle_reached']);
