import { Duration } from 'luxon';
import { z } from 'zod';
import { CursorQuerySchema, IdSchema, LifecycleStageSchema, TagSchema, TimeZoneSchema, pageSchema } from './common';
import { taskPriorities, taskTypes } from './task';
import { TemplateKeySchema } from './template';

/**
 * A drip sequence is data: ordered steps with stable keys, interpreted by the enrollment
 * workflow (workflows/sequence-enrollment.ts). Keys are how stats, branches, goto and version
 * migration refer to a step, so they never change meaning between versions.
 */
export const StepKeySchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9, _ or -, starting with a letter or digit')
  .meta({ example: 'intro-email' });

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const WeekdaySchema = z.enum(weekdays);
export type Weekday = z.infer<typeof WeekdaySchema>;

export const LocalTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM (00:00-23:59)');

/** ISO 8601 duration such as P3D, PT4H or P1W2D; at least one minute, at most a year. */
export const IsoDurationSchema = z
  .string()
  .max(40)
  .refine((value) => {
    const duration = Duration.fromISO(value);
    if (!duration.isValid) return false;
    const ms = duration.as('milliseconds');
    return ms >= 60_000 && ms <= 366 * 24 * 3_600_000;
  }, 'must be an ISO 8601 duration between PT1M and P366D, e.g. P3D or PT4H')
  .meta({ example: 'P3D' });

/** Local weekdays and hours; `end` after `start` (no overnight windows: nobody wants a 2 a.m. email). */
export const WeeklyWindowSchema = z
  .strictObject({
    days: z.array(WeekdaySchema).min(1).max(7),
    start: LocalTimeSchema,
    end: LocalTimeSchema,
  })
  .refine((window) => window.start < window.end, { message: 'end must be after start', path: ['end'] })
  .meta({ id: 'WeeklyWindow', example: { days: ['tue'], start: '09:00', end: '11:00' } });
export type WeeklyWindow = z.infer<typeof WeeklyWindowSchema>;

export const messageFacts = ['delivered', 'opened', 'clicked', 'replied', 'bounced'] as const;

export type Condition =
  | { type: 'message'; step: string; event: (typeof messageFacts)[number] }
  | { type: 'lifecycle'; in: Array<z.infer<typeof LifecycleStageSchema>> }
  | { type: 'tag'; has: string }
  | { type: 'score'; gte?: number | undefined; lt?: number | undefined }
  | { type: 'field'; field: string; equals?: string | number | boolean | undefined; exists?: boolean | undefined }
  | { type: 'all'; conditions: Condition[] }
  | { type: 'any'; conditions: Condition[] }
  | { type: 'not'; condition: Condition };

export const ConditionSchema: z.ZodType<Condition> = z
  .lazy(() =>
    z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('message'), step: StepKeySchema.meta({ description: 'An earlier email or sms step.' }), event: z.enum(messageFacts) }),
      z.strictObject({ type: z.literal('lifecycle'), in: z.array(LifecycleStageSchema).min(1) }),
      z.strictObject({ type: z.literal('tag'), has: TagSchema }),
      z
        .strictObject({ type: z.literal('score'), gte: z.number().int().optional(), lt: z.number().int().optional() })
        .refine((score) => score.gte !== undefined || score.lt !== undefined, 'give gte, lt or both'),
      z
        .strictObject({
          type: z.literal('field'),
          field: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/, 'a custom field name'),
          equals: z.union([z.string().max(2000), z.number(), z.boolean()]).optional(),
          exists: z.boolean().optional(),
        })
        .refine((field) => (field.equals === undefined) !== (field.exists === undefined), 'give exactly one of equals or exists'),
      z.strictObject({ type: z.literal('all'), conditions: z.array(ConditionSchema).min(1).max(20) }),
      z.strictObject({ type: z.literal('any'), conditions: z.array(ConditionSchema).min(1).max(20) }),
      z.strictObject({ type: z.literal('not'), condition: ConditionSchema }),
    ]),
  )
  .meta({ id: 'SequenceCondition', description: 'What the contact did (message facts of an earlier step) or is (stage, tag, score, custom field).' });

const stepBase = { key: StepKeySchema, name: z.string().trim().max(200).optional() };

export type Step =
  | { key: string; name?: string | undefined; type: 'email'; template: string }
  | { key: string; name?: string | undefined; type: 'sms'; template: string }
  | { key: string; name?: string | undefined; type: 'wait'; duration?: string | undefined; until?: WeeklyWindow | undefined }
  | { key: string; name?: string | undefined; type: 'branch'; condition: Condition; then: Step[]; else: Step[] }
  | { key: string; name?: string | undefined; type: 'split'; variants: Array<{ key: string; percent: number; steps: Step[] }> }
  | {
      key: string;
      name?: string | undefined;
      type: 'task';
      title: string;
      description?: string | undefined;
      taskType: (typeof taskTypes)[number];
      priority: (typeof taskPriorities)[number];
      dueInBusinessDays: number;
      waitForCompletion: boolean;
    }
  | {
      key: string;
      name?: string | undefined;
      type: 'update';
      lifecycleStage?: z.infer<typeof LifecycleStageSchema> | undefined;
      addTags?: string[] | undefined;
      removeTags?: string[] | undefined;
      fields?: Record<string, string | number | boolean | null> | undefined;
    }
  | { key: string; name?: string | undefined; type: 'goto'; target: string }
  | { key: string; name?: string | undefined; type: 'end' };

export type StepType = Step['type'];

export const StepSchema: z.ZodType<Step> = z
  .lazy(() =>
    z.discriminatedUnion('type', [
      z.strictObject({ ...stepBase, type: z.literal('email'), template: TemplateKeySchema }),
      z.strictObject({ ...stepBase, type: z.literal('sms'), template: TemplateKeySchema }),
      z
        .strictObject({
          ...stepBase,
          type: z.literal('wait'),
          duration: IsoDurationSchema.optional(),
          until: WeeklyWindowSchema.optional().meta({ description: 'Wait until the next time inside this window in the contact\'s time zone (after `duration`, when both are given).' }),
        })
        .refine((wait) => wait.duration !== undefined || wait.until !== undefined, 'give duration, until or both'),
      z.strictObject({ ...stepBase, type: z.literal('branch'), condition: ConditionSchema, then: z.array(StepSchema).max(100), else: z.array(StepSchema).max(100) }),
      z
        .strictObject({
          ...stepBase,
          type: z.literal('split'),
          variants: z
            .array(z.strictObject({ key: StepKeySchema, percent: z.number().int().min(1).max(100), steps: z.array(StepSchema).max(100) }))
            .min(2)
            .max(10),
        })
        .refine((split) => split.variants.reduce((sum, variant) => sum + variant.percent, 0) === 100, { message: 'variant percents must add up to 100', path: ['variants'] }),
      z.strictObject({
        ...stepBase,
        type: z.literal('task'),
        title: z.string().trim().min(1).max(200),
        description: z.string().trim().max(5000).optional(),
        taskType: z.enum(taskTypes).default('follow_up'),
        priority: z.enum(taskPriorities).default('normal'),
        dueInBusinessDays: z.number().int().min(0).max(60).default(1),
        waitForCompletion: z.boolean().default(false).meta({ description: 'A call step: the enrollment pauses until the task is completed.' }),
      }),
      z
        .strictObject({
          ...stepBase,
          type: z.literal('update'),
          lifecycleStage: LifecycleStageSchema.optional(),
          addTags: z.array(TagSchema).max(20).optional(),
          removeTags: z.array(TagSchema).max(20).optional(),
          fields: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()])).optional(),
        })
        .refine((update) => update.lifecycleStage ?? update.addTags ?? update.removeTags ?? update.fields, 'set at least one of lifecycleStage, addTags, removeTags, fields'),
      z.strictObject({ ...stepBase, type: z.literal('goto'), target: StepKeySchema }),
      z.strictObject({ ...stepBase, type: z.literal('end') }),
    ]),
  )
  .meta({ id: 'SequenceStep' });

/** Why an enrollment ended; the sequence's `convertedOn` says which of them count as converted. */
export const stopReasons = [
  'completed',
  'replied',
  'company_replied',
  'meeting_booked',
  'purchased',
  'deal_created',
  'lifecycle_reached',
  'unsubscribed',
  'bounced',
  'unenrolled',
  'contact_deleted',
  /** The contact was merged into another one that was already enrolled in this sequence. */
  'merged',
] as const;
export const StopReasonSchema = z.enum(stopReasons).meta({ id: 'EnrollmentStopReason' });
export type StopReason = z.infer<typeof StopReasonSchema>;

/** Events that can end an enrollment early; unsubscribed and bounced always do. */
export const exitEvents = ['replied', 'company_replied', 'meeting_booked', 'purchased', 'deal_created', 'lifecycle_reached', 'unsubscribed', 'bounced'] as const;
export const ExitEventSchema = z.enum(exitEvents);
export type ExitEvent = z.infer<typeof ExitEventSchema>;

export const SequenceSettingsSchema = z
  .strictObject({
    exitOn: z
      .array(ExitEventSchema)
      .default(['replied', 'meeting_booked', 'purchased', 'unsubscribed', 'bounced'])
      .transform((events) => [...new Set<ExitEvent>([...events, 'unsubscribed', 'bounced'])])
      .meta({ description: 'Events that end an enrollment at once. `replied` ignores out-of-office auto-replies; `company_replied` is a reply from anyone at the contact\'s company. unsubscribed and bounced are always included.' }),
    /** Reaching this stage (or a later one) is the `lifecycle_reached` exit. */
    exitLifecycleStage: LifecycleStageSchema.optional(),
    convertedOn: z
      .array(StopReasonSchema)
      .default(['replied', 'meeting_booked', 'purchased', 'deal_created', 'lifecycle_reached'])
      .meta({ description: 'Stop reasons that count as converted in stats.' }),
    sendWindow: z
      .strictObject({
        days: z.array(WeekdaySchema).min(1).max(7).default(['mon', 'tue', 'wed', 'thu', 'fri']),
        start: LocalTimeSchema.default('09:00'),
        end: LocalTimeSchema.default('17:00'),
        fallbackTimeZone: TimeZoneSchema.default('UTC'),
        spreadMinutes: z.number().int().min(0).max(240).default(30).meta({ description: 'Sends that wait for the window start spread over its first minutes, not all at once.' }),
      })
      .refine((window) => window.start < window.end, { message: 'end must be after start', path: ['end'] })
      .nullable()
      .default(null)
      .meta({ description: 'Business hours for sends in the contact\'s time zone (fallback zone when it has none); null sends at any time.' }),
    limits: z
      .strictObject({
        perDay: z.number().int().min(1).max(1_000_000).optional().meta({ description: 'Most messages this sequence sends per day; the rest move to the next day.' }),
        perSenderPerDay: z.number().int().min(1).max(100_000).optional().meta({ description: 'Most messages per day for the contacts of one owner (the sending rep).' }),
      })
      .default({}),
    reenrollment: z
      .strictObject({
        policy: z.enum(['never', 'after_cooldown', 'always']).default('never'),
        cooldownDays: z.number().int().min(1).max(3650).optional(),
      })
      .refine((rule) => (rule.policy === 'after_cooldown') === (rule.cooldownDays !== undefined), { message: 'cooldownDays is required with after_cooldown and only with it', path: ['cooldownDays'] })
      .default({ policy: 'never' })
      .meta({ description: 'Never while an enrollment is active, whatever the policy.' }),
    suppression: z
      .strictObject({
        tags: z.array(TagSchema).max(50).default([]),
        lifecycleStages: z.array(LifecycleStageSchema).default([]),
        activeInSequences: z.array(IdSchema).max(50).default([]).meta({ description: 'Contacts active in any of these sequences are not enrolled.' }),
      })
      .default({ tags: [], lifecycleStages: [], activeInSequences: [] }),
  })
  .meta({ id: 'SequenceSettings' });
export type SequenceSettings = z.infer<typeof SequenceSettingsSchema>;

export const SequenceDefinitionSchema = z
  .strictObject({
    steps: z.array(StepSchema).min(1).max(200),
    settings: SequenceSettingsSchema.default(() => SequenceSettingsSchema.parse({})),
  })
  .meta({ id: 'SequenceDefinition' });
export type SequenceDefinition = z.infer<typeof SequenceDefinitionSchema>;

export const sequenceVersionStatuses = ['draft', 'published'] as const;

export const SequenceCreateSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    description: z.string().trim().max(2000).optional(),
    definition: SequenceDefinitionSchema,
    publish: z.boolean().default(false).meta({ description: 'Publish version 1 at once (validates every template and step reference).' }),
  })
  .meta({ id: 'SequenceCreate' });

export const SequenceUpdateSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().trim().max(2000).optional(),
    definition: SequenceDefinitionSchema,
    publish: z.boolean().default(false),
  })
  .meta({ id: 'SequenceUpdate' });

export const enrollmentStatuses = ['active', 'paused', 'completed', 'exited'] as const;
export const EnrollmentStatusSchema = z.enum(enrollmentStatuses).meta({ id: 'EnrollmentStatus' });

export const enrollmentSources = ['api', 'bulk', 'form', 'trigger', 'reengagement', 'migration'] as const;

export const SequenceListQuerySchema = CursorQuerySchema.extend({}).strict();
export const SequenceSummarySchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    description: z.string().nullable(),
    latestVersion: z.number().int(),
    publishedVersion: z.number().int().nullable(),
    archived: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'SequenceSummary' });
export const SequencePageSchema = pageSchema(SequenceSummarySchema, 'SequencePage');
