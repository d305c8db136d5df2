import { defineQuery, defineSignal } from '@temporalio/workflow';

/**
 * The deal workflow's public surface (workflow `deal:{id}`, see workflow-ids.ts), apart from
 * its code so the API can signal it without importing the workflow. Signals carry ids and
 * small facts; the workflow reads the rest through activities.
 */

export interface DealWorkflowInput {
  dealId: string;
}

/** A recorded DealStageChange; its id is the exactly-once key of every trigger it fires. */
export interface DealStageChanged {
  stageChangeId: string;
  fromStageId: string | null;
  toStageId: string;
  /** When the change was recorded (ISO). */
  at: string;
  byUserId: string | null;
}

/**
 * A meaningful touch on the deal or its contact: a logged call/email/meeting/note/reply, a
 * completed task, an email sent or received. Tasks due in the future are not touches.
 */
export interface DealTouched {
  /** Id of the Activity or Task behind it: a redelivered signal carries the same id. */
  sourceId: string;
  kind: 'activity' | 'task_completed' | 'email_sent' | 'email_received';
  at: string;
}

export interface DealWorkflowState {
  stageId: string;
  /** When the idle timer fires next, or null when the stage has no idle limit (or the ladder is at its top). */
  idleDeadline: string | null;
  /** 0 = not idle, 1 = owner told, 2 = escalated to the manager (rotting). */
  escalationLevel: 0 | 1 | 2;
  lastTouchAt: string;
  status: 'open' | 'won' | 'lost';
  /** The DealStageChange that entered the current stage; null for the stage the deal was created in. */
  stageEntryId: string | null;
  stageEnteredAt: string;
  /** The idle limit of the current stage entry in business days (the stage's, or an enter trigger's); null: never idle. */
  idleLimitDays: number | null;
  /**
   * The enter trigger whose `idleLimitDays` set the limit; null: the stage's own. Undefined in
   * state carried from a run before trigger idle limits, until the next stage change.
   */
  idleLimitTriggerId?: string | null;
  /** How often a touch restarted the ladder in this stage entry (part of the idle tasks' keys). */
  idleRound: number;
  rotting: boolean;
  /** Received, not yet handled, in arrival order. */
  pendingStageChanges: DealStageChanged[];
  pendingTouches: DealTouched[];
  /** Recently handled ids, so a redelivered signal is ignored (the TriggerRun ledger guards beyond them). */
  handledStageChangeIds: string[];
  handledTouchIds: string[];
  /** Trigger actions this workflow ran (across continue-as-new). */
  triggerActionsRun: number;
}

export const dealStageChangedSignal = defineSignal<[DealStageChanged]>('dealStageChanged');
export const dealTouchedSignal = defineSignal<[DealTouched]>('dealTouched');
/** The deal was deleted: the workflow ends without firing anything. */
export const dealDeletedSignal = defineSignal('dealDeleted');
export const dealStateQuery = defineQuery<DealWorkflowState>('state');

export const dealWorkflowType = 'dealLifecycle';
