import { z } from 'zod';
import { enrollmentRejections } from '../enrollment-policy';
import { SegmentFilterSchema } from '../segment';
import { CursorQuerySchema, IdSchema, pageSchema } from './common';
import { EnrollmentStatusSchema, StopReasonSchema } from './sequence';

export const EnrollmentCreateSchema = z.strictObject({ contactId: IdSchema }).meta({ id: 'EnrollmentCreate' });

export const EnrollmentListQuerySchema = CursorQuerySchema.extend({ status: EnrollmentStatusSchema.optional() }).strict();

export const UnenrollSchema = z
  .strictObject({ reason: z.string().trim().min(1, 'give a reason').max(500) })
  .meta({ id: 'Unenroll', description: 'Why the contact leaves the sequence; kept as the enrollment\'s stop detail.' });

export const EnrollmentRejectionSchema = z.enum(enrollmentRejections).meta({ id: 'EnrollmentRejection' });

export const EnrollmentSchema = z
  .object({
    id: IdSchema,
    sequenceId: IdSchema,
    version: z.number().int().meta({ description: 'The sequence version this enrollment runs, pinned when it started.' }),
    contactId: IdSchema,
    status: EnrollmentStatusSchema,
    source: z.string(),
    sourceRef: z.string().nullable(),
    enrolledById: IdSchema.nullable(),
    workflowId: z.string(),
    currentStepKey: z.string().nullable(),
    variants: z.record(z.string(), z.string()).meta({ description: 'Split step key -> variant key, decided once per enrollment.' }),
    stopReason: StopReasonSchema.nullable(),
    stopDetail: z.string().nullable(),
    converted: z.boolean(),
    enrolledAt: z.string(),
    endedAt: z.string().nullable(),
  })
  .meta({ id: 'Enrollment' });
export type EnrollmentView = z.infer<typeof EnrollmentSchema>;
export const EnrollmentPageSchema = pageSchema(EnrollmentSchema, 'EnrollmentPage');

export const EnrollmentStepSchema = z
  .object({
    stepKey: z.string(),
    stepType: z.string(),
    visit: z.number().int(),
    outcome: z.string(),
    variant: z.string().nullable(),
    messageId: IdSchema.nullable(),
    taskId: IdSchema.nullable(),
    detail: z.record(z.string(), z.unknown()),
    at: z.string(),
  })
  .meta({ id: 'EnrollmentStep' });

/** The workflow's progress query (workflows/enrollment-messages.ts EnrollmentProgress). */
export const EnrollmentProgressSchema = z
  .object({
    enrollmentId: IdSchema,
    status: EnrollmentStatusSchema,
    currentStepKey: z.string().nullable(),
    waitingUntil: z.string().nullable(),
    stopReason: StopReasonSchema.nullable(),
    history: z.array(z.object({ stepKey: z.string(), outcome: z.string(), at: z.string() })),
  })
  .meta({ id: 'EnrollmentProgress' });

export const EnrollmentDetailSchema = EnrollmentSchema.extend({
  steps: z.array(EnrollmentStepSchema).meta({ description: 'Every step the enrollment executed, oldest first.' }),
  progress: EnrollmentProgressSchema.nullable().meta({ description: 'Live from the running workflow; null once it ended or when it does not answer within 2 s.' }),
}).meta({ id: 'EnrollmentDetail' });

export const bulkEnrollmentStatuses = ['running', 'completed', 'failed', 'cancelled'] as const;

export const BulkEnrollmentCreateSchema = z.strictObject({ filter: SegmentFilterSchema }).meta({ id: 'BulkEnrollmentCreate' });

export const BulkEnrollmentSchema = z
  .object({
    id: IdSchema,
    sequenceId: IdSchema,
    filter: SegmentFilterSchema,
    status: z.enum(bulkEnrollmentStatuses),
    matched: z.number().int().meta({ description: 'Contacts in the segment when the job started; only they are enrolled (contacts created later are not).' }),
    processed: z.number().int().meta({ description: 'enrolled + skipped + failed: reaches `matched` at the end unless contacts left or joined the segment meanwhile.' }),
    enrolled: z.number().int().meta({ description: 'Contacts the job enrolled.' }),
    skipped: z.number().int().meta({ description: 'Contacts the sequence refused (already active, re-enrollment policy, suppression...).' }),
    skipReasons: z.partialRecord(EnrollmentRejectionSchema, z.number().int()),
    failed: z.number().int().meta({ description: 'Contacts whose enrollment still failed after ten minutes of retrying their page.' }),
    workflowId: z.string(),
    createdById: IdSchema.nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'BulkEnrollment' });
export type BulkEnrollmentView = z.infer<typeof BulkEnrollmentSchema>;
export const BulkEnrollmentListSchema = z.object({ data: z.array(BulkEnrollmentSchema) }).meta({ id: 'BulkEnrollmentList' });

export const SequenceMigrationCreateSchema = z
  .strictObject({
    fromVersion: z.number().int().min(1).meta({ description: 'The version whose running enrollments move.' }),
    toVersion: z.number().int().min(1).optional().meta({ description: 'A published version; default: the sequence\'s published version.' }),
    stepMap: z
      .record(z.string().min(1).max(100), z.string().min(1).max(100))
      .default({})
      .meta({ description: 'Old step key -> the new version\'s step its enrollments continue at. Keys the new version still has map to themselves; every other key of `fromVersion` must be named here.' }),
    dryRun: z.boolean().default(false).meta({ description: 'Check the mapping and count the enrollments per step that would move, changing nothing.' }),
  })
  .meta({ id: 'SequenceMigrationCreate' });

export const sequenceMigrationStatuses = ['running', 'completed', 'failed'] as const;

export const SequenceMigrationSchema = z
  .object({
    id: IdSchema,
    sequenceId: IdSchema,
    fromVersion: z.number().int(),
    toVersion: z.number().int(),
    mapping: z.record(z.string(), z.string()).meta({ description: 'Every step key of `fromVersion` -> the step of `toVersion` it continues at.' }),
    status: z.enum(sequenceMigrationStatuses),
    matched: z.number().int().meta({ description: 'Live enrollments on `fromVersion` when the job started.' }),
    migrated: z.number().int(),
    skipped: z.number().int().meta({ description: 'Enrollments that ended before the job reached them.' }),
    failed: z.number().int().meta({ description: 'Enrollments whose workflow refused or could not be reached; they stay on `fromVersion`.' }),
    workflowId: z.string(),
    createdById: IdSchema.nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'SequenceMigration' });
export type SequenceMigrationView = z.infer<typeof SequenceMigrationSchema>;
export const SequenceMigrationListSchema = z.object({ data: z.array(SequenceMigrationSchema) }).meta({ id: 'SequenceMigrationList' });

export const SequenceMigrationPreviewSchema = z
  .object({
    fromVersion: z.number().int(),
    toVersion: z.number().int(),
    mapping: z.record(z.string(), z.string()),
    matched: z.number().int(),
    byStep: z.record(z.string(), z.number().int()).meta({ description: 'Live enrollments per current step key of `fromVersion` (`(start)` before their first step).' }),
  })
  .meta({ id: 'SequenceMigrationPreview' });
export type SequenceMigrationPreview = z.infer<typeof SequenceMigrationPreviewSchema>;
