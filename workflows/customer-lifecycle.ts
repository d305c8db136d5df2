import { ActivityFailure, log, upsertSearchAttributes, uuid4, type LocalActivityInterfaceFor } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EnrollmentNotice } from '../activities/enrollment-notify';
import type { LifecycleOutcome } from '../activities/lifecycle';
import { daysAfter, reengagementStages } from '../domain/lifecycle';
import type { LifecycleStage } from '../domain/schemas/common';
import type { TrackedEventFact, TrackedEventType } from '../domain/schemas/tracked-event';
import type { ContactLifecycleState, ContactsMerged, EmailDeliveryEvent, FormSubmitted, LifecycleStageChanged } from './contact-lifecycle';
import { LifecycleStageAttribute } from './search-attributes';
import { contactWorkflowId } from './workflow-ids';

/**
 * The customer part of the contact workflow (patch `customer-lifecycle-v3`): tracked events
 * scored and applied to the lifecycle stage, enrollments told about what the contact did, form
 * auto-enrollment, and the quiet-customer timers: a customer who has not bought for
 * `afterDays` becomes at_risk and is enrolled in the re-engagement sequence; one who then does
 * not buy for `churnAfterDays` more is churned. A purchase at any point makes a customer again
 * and starts the quiet period over.
 */

/** The workflow's local activities (contact-lifecycle.ts owns their options). */
export type LifecycleSteps = LocalActivityInterfaceFor<Activities>;

/** The armed quiet-customer timer. */
export interface ReengagementTimer {
  /** quiet: waiting for afterDays without a purchase; at_risk: waiting for churnAfterDays. */
  phase: 'quiet' | 'at_risk';
  dueAt: string;
  /** The length of this wait in days, recorded with the stage change it may lead to. */
  days: number;
  /** at_risk: the re-engagement enrollment, when one was made. */
  enrollmentId: string | null;
}

interface Context {
  contactId: string;
  state: ContactLifecycleState;
  steps: LifecycleSteps;
}

const trackedEventNotices: Partial<Record<TrackedEventType, EnrollmentNotice['kind']>> = {
  purchase: 'purchased',
  email_reply: 'replied',
  meeting_booked: 'meeting_booked',
};

const deliveryEventNotices: Partial<Record<EmailDeliveryEvent['kind'], EnrollmentNotice['kind']>> = {
  reply: 'replied',
  unsubscribe: 'unsubscribed',
  spam_report: 'unsubscribed',
  hard_bounce: 'bounced',
};

export async function handleTrackedEvent(ctx: Context, event: TrackedEventFact): Promise<void> {
  const { contactId, state, steps } = ctx;
  const outcome = await steps.applyTrackedEvent({ contactId, event, appliedAt: new Date().toISOString(), stageActivityId: uuid4() });
  if (!outcome.exists) return;
  // What the contact did first, then the stage it led to: an enrollment that exits on a purchase
  // stops as `purchased` (converted), not as `lifecycle_reached`.
  const kind = trackedEventNotices[event.type];
  if (kind) await steps.notifyEnrollments({ contactId, eventId: event.eventId, kind });
  await followStage(ctx, outcome);
  const move = outcome.stageChange?.move;
  if (move?.reason === 'mql_threshold') await openMqlTask(ctx, outcome, event.eventId, move.score);
  if (event.type === 'purchase') {
    state.lastPurchaseAt = outcome.lastPurchaseAt;
    await armReengagement(ctx);
  }
}

/** Enrollments end on replies, opt-outs and hard bounces (each sequence's exitOn decides). */
export async function notifyDeliveryEvent(ctx: Context, event: EmailDeliveryEvent): Promise<void> {
  const kind = deliveryEventNotices[event.kind];
  if (kind) await ctx.steps.notifyEnrollments({ contactId: ctx.contactId, eventId: event.eventId, kind });
}

export async function notifyContactDeleted(ctx: Context): Promise<void> {
  await ctx.steps.notifyEnrollments({ contactId: ctx.contactId, eventId: `${contactWorkflowId(ctx.contactId)}:deleted`, kind: 'contact_deleted' });
}

/** A form with an auto-enrollment sequence enrolls each submitter once per form. */
export async function enrollFromForm(ctx: Context, submission: FormSubmitted): Promise<void> {
  if (!submission.enrollSequenceId) return;
  await enroll(ctx, {
    sequenceId: submission.enrollSequenceId,
    contactId: ctx.contactId,
    source: 'form',
    sourceRef: submission.formKey,
    sourceKey: `form:${submission.formKey}:${ctx.contactId}`,
  });
}

/** At start: a customer whose last purchase is on record gets its quiet-customer timer. */
export async function startCustomerLifecycle(ctx: Context, lastPurchaseAt: string | null): Promise<void> {
  ctx.state.lastPurchaseAt = lastPurchaseAt;
  await armReengagement(ctx);
}

/**
 * Contacts were merged into this one: the stage, owner and last purchase become the merged
 * ones. A customer's quiet period starts over from the latest purchase of all the records, so
 * of the merged contacts' timers (ended with their workflows) one lives on, here. An at-risk
 * contact keeps its own churn wait; another stage has none.
 */
export async function applyMerge(ctx: Context, merge: ContactsMerged): Promise<void> {
  const { state } = ctx;
  state.ownerId = merge.ownerId ?? state.ownerId;
  const known = state.lastPurchaseAt ?? null;
  // A purchase this workflow applied after the merge committed is the later one.
  const lastPurchaseAt = merge.lastPurchaseAt !== null && (known === null || Date.parse(merge.lastPurchaseAt) > Date.parse(known)) ? merge.lastPurchaseAt : known;
  state.lastPurchaseAt = lastPurchaseAt;
  await adoptStage(ctx, merge.lifecycleStage as LifecycleStage, lastPurchaseAt !== known);
}

/**
 * The stage was set outside this workflow (PATCH /v1/contacts, a sequence's update step, a
 * trigger's update_field): the search attribute and the quiet-customer timer follow it, and the
 * contact's enrollments hear of it (each exits if its sequence exits at that stage).
 */
export async function followExternalStage(ctx: Context, change: LifecycleStageChanged): Promise<void> {
  await adoptStage(ctx, change.stage, false);
  await ctx.steps.notifyEnrollments({ contactId: ctx.contactId, eventId: change.changeId, kind: 'lifecycle_changed', stage: change.stage });
}

/** A customer's quiet period starts when it becomes one (or its last purchase moved); other stages but at_risk have none. */
async function adoptStage(ctx: Context, stage: LifecycleStage, purchaseMoved: boolean): Promise<void> {
  const { state } = ctx;
  const entered = stage !== state.lifecycleStage;
  if (entered) {
    state.lifecycleStage = stage;
    upsertSearchAttributes([{ key: LifecycleStageAttribute, value: stage }]);
  }
  if (stage === 'customer') {
    if (entered || purchaseMoved) await armReengagement(ctx);
  } else if (!reengagementStages.includes(stage)) state.reengagement = null;
}

/** When the main loop's wait should end for the quiet-customer timer (null: no timer armed). */
export function reengagementDueAt(state: ContactLifecycleState): number | null {
  return state.reengagement ? Date.parse(state.reengagement.dueAt) : null;
}

export async function onReengagementTimer(ctx: Context): Promise<void> {
  const { contactId, state, steps } = ctx;
  const timer = state.reengagement;
  if (!timer) return;
  // Settings are read again: turned off, the timer lapses; a quiet period lengthened since it was armed waits longer.
  const settings = await steps.loadReengagementSettings();
  if (!settings.enabled || !state.lastPurchaseAt) {
    state.reengagement = null;
    return;
  }
  if (timer.phase === 'at_risk') {
    const outcome = await steps.changeLifecycleStage({
      contactId,
      fromStages: ['at_risk'],
      move: { to: 'churned', reason: 'reengagement_unsuccessful', days: timer.days },
      stageActivityId: uuid4(),
    });
    state.reengagement = null;
    await followStage(ctx, outcome);
    return;
  }

  const due = daysAfter(new Date(state.lastPurchaseAt), settings.afterDays);
  if (due.getTime() > Date.now()) {
    state.reengagement = { ...timer, dueAt: due.toISOString() };
    return;
  }
  const outcome = await steps.changeLifecycleStage({
    contactId,
    fromStages: ['customer'],
    move: { to: 'at_risk', reason: 'no_purchase', days: settings.afterDays },
    stageActivityId: uuid4(),
  });
  await followStage(ctx, outcome);
  // Someone moved the contact on (or deleted it) while it was quiet: nothing to re-engage.
  if (!outcome.exists || outcome.stage !== 'at_risk') {
    state.reengagement = null;
    return;
  }
  const enrollmentId = settings.sequenceId
    ? await enroll(ctx, {
        sequenceId: settings.sequenceId,
        contactId,
        source: 'reengagement',
        sourceRef: contactWorkflowId(contactId),
        // Once per quiet period: a replayed or retried step finds the same enrollment.
        sourceKey: `${contactWorkflowId(contactId)}:reengagement:${state.lastPurchaseAt}`,
      })
    : null;
  state.reengagement = { phase: 'at_risk', dueAt: daysAfter(new Date(), settings.churnAfterDays).toISOString(), days: settings.churnAfterDays, enrollmentId };
}

/** Starts the quiet period over from the last purchase; settings are read as it is armed. */
async function armReengagement(ctx: Context): Promise<void> {
  const { state, steps } = ctx;
  state.reengagement = null;
  if (!state.lastPurchaseAt || !reengagementStages.includes(state.lifecycleStage as LifecycleStage)) return;
  const settings = await steps.loadReengagementSettings();
  if (!settings.enabled) return;
  state.reengagement = { phase: 'quiet', dueAt: daysAfter(new Date(state.lastPurchaseAt), settings.afterDays).toISOString(), days: settings.afterDays, enrollmentId: null };
}

/**
 * Mirrors the contact's stage: the search attribute follows it (whoever changed it), and a
 * change made here is told to the enrollments, with the lifecycle_changed Activity as event id.
 */
async function followStage(ctx: Context, outcome: LifecycleOutcome): Promise<void> {
  const { contactId, state, steps } = ctx;
  if (!outcome.exists) return;
  if (outcome.stage !== state.lifecycleStage) {
    state.lifecycleStage = outcome.stage;
    upsertSearchAttributes([{ key: LifecycleStageAttribute, value: outcome.stage }]);
  }
  if (!reengagementStages.includes(outcome.stage)) state.reengagement = null;
  if (outcome.stageChange) {
    await steps.notifyEnrollments({ contactId, eventId: outcome.stageChange.activityId, kind: 'lifecycle_changed', stage: outcome.stageChange.move.to });
  }
}

/** The owner hears about a new MQL at once; a lead without an owner is routed first. */
async function openMqlTask(ctx: Context, outcome: LifecycleOutcome, eventId: string, score: number): Promise<void> {
  const { contactId, state, steps } = ctx;
  state.ownerId = outcome.ownerId ?? (await steps.assignOwner(contactId))?.ownerId ?? null;
  // Every rep at capacity: the stage change is on the timeline for whoever takes the lead.
  if (!state.ownerId) return;
  await steps.createFollowUpTask({
    contactId,
    assigneeId: state.ownerId,
    sourceKey: `${contactWorkflowId(contactId)}:mql:${eventId}`,
    sourceRef: contactWorkflowId(contactId),
    title: `Follow up: marketing-qualified lead (score ${score})`,
    businessDaysDue: 1,
    priority: 'high',
  });
}

/** Enrolls, and keeps the contact workflow running when the sequence is gone (a configuration error). */
async function enroll(ctx: Context, request: Parameters<Activities['enrollInSequence']>[0]): Promise<string | null> {
  try {
    const result = await ctx.steps.enrollInSequence(request);
    if (result.status === 'rejected') log.info('enrollment refused', { sequenceId: request.sequenceId, reason: result.reason, detail: result.detail });
    return result.status === 'rejected' ? (result.enrollmentId ?? null) : result.enrollmentId;
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('enrollment failed', { sequenceId: request.sequenceId, error: error.cause?.message ?? error.message });
    return null;
  }
}
