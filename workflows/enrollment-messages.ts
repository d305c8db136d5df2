import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { LifecycleStage } from '../domain/schemas/common';
import type { StopReason } from '../domain/schemas/sequence';

/**
 * The enrollment workflow's public surface (workflow `enrollment:{sequenceId}:{contactId}`,
 * see workflow-ids.ts). Kept apart from the interpreter so the API, the contact workflow and
 * the merge code can signal it without importing the interpreter. Signals carry ids and small
 * facts, never event payloads, so histories stay small.
 */

export interface SequenceEnrollmentInput {
  /** The Enrollment row (status active) written before the workflow started. */
  enrollmentId: string;
}

/** Something that happened to the contact and may end the enrollment (the sequence's exitOn decides). */
export interface EnrollmentEvent {
  /** Id of the record behind it (InboundEvent, Activity, Task...): a redelivered signal carries the same id. */
  eventId: string;
  kind: 'replied' | 'company_replied' | 'meeting_booked' | 'purchased' | 'deal_created' | 'unsubscribed' | 'bounced' | 'lifecycle_changed' | 'contact_deleted';
  /** The new stage, for lifecycle_changed. */
  stage?: LifecycleStage;
}

export interface UnenrollRequest {
  reason: string;
  byUserId: string | null;
}

/** The contact was merged into `survivorContactId`; `keep` is false when the survivor already runs this sequence. */
export interface ContactMerged {
  survivorContactId: string;
  keep: boolean;
}

/** Move to `toVersion` by the step mapping of SequenceMigration `migrationId` (domain/sequence-migration.ts). */
export interface MigrateRequest {
  migrationId: string;
  /** The version the enrollment must be on (or about to be on) for the mapping to apply. */
  fromVersion: number;
  toVersion: number;
}

export interface EnrollmentStepRecord {
  stepKey: string;
  outcome: string;
  at: string;
}

export interface EnrollmentProgress {
  enrollmentId: string;
  status: 'active' | 'paused' | 'completed' | 'exited';
  currentStepKey: string | null;
  /** When the current wait ends (a wait step, a send window, a deferred send), if waiting. */
  waitingUntil: string | null;
  stopReason: StopReason | null;
  /** The latest steps, oldest first (the full record is in enrollment_steps). */
  history: EnrollmentStepRecord[];
}

export const enrollmentEventSignal = defineSignal<[EnrollmentEvent]>('enrollmentEvent');
export const unenrollSignal = defineSignal<[UnenrollRequest]>('unenroll');
export const taskCompletedSignal = defineSignal<[{ taskId: string }]>('taskCompleted');
export const contactMergedSignal = defineSignal<[ContactMerged]>('contactMerged');
export const pauseUpdate = defineUpdate<EnrollmentProgress, [{ byUserId: string | null }]>('pause');
export const resumeUpdate = defineUpdate<EnrollmentProgress, [{ byUserId: string | null }]>('resume');
/**
 * The step under way finishes on the version it started on; the enrollment then goes on at the
 * new version's step the mapping names. Rejected when the enrollment ended or runs another version.
 */
export const migrateUpdate = defineUpdate<EnrollmentProgress, [MigrateRequest]>('migrate');
export const progressQuery = defineQuery<EnrollmentProgress>('progress');

export const sequenceEnrollmentWorkflowType = 'sequenceEnrollment';
export const bulkEnrollmentWorkflowType = 'bulkEnrollment';
