import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { LifecycleStage } from '../domain/schemas/common';
import type { TrackedEventFact } from '../domain/schemas/tracked-event';
import {
  applyMerge,
  enrollFromForm,
  followExternalStage,
  handleTrackedEvent,
  notifyContactDeleted,
  notifyDeliveryEvent,
  onReengagementTimer,
  reengagementDueAt,
  startCustomerLifecycle,
  type ReengagementTimer,
} from './customer-lifecycle';
import { asLocal, quickStepOptions, sendOptions } from './activity-options';
import { LifecycleStageAttribute } from './search-attributes';
import { contactWorkflowId } from './workflow-ids';

/** Small facts only: ids, never the submitted payload, so histories stay small. */
export interface FormSubmitted {
  activityId: string;
  formKey: string;
  welcomeTemplate: string;
  /** The form's auto-enrollment sequence; absent in signals sent before customer-lifecycle-v3. */
  enrollSequenceId?: string | null;
}

export interface ContactLifecycleState {
  ownerId: string | null;
  followUpTaskId: string | null;
  welcome: 'pending' | 'sent' | 'skipped' | 'failed';
  lifecycleStage: string;
  formSubmissions: number;
  pending: FormSubmitted[];
  /** Delivery events not yet handled; optional because states carried before it existed lack it. */
  deliveryEvents?: EmailDeliveryEvent[];
  /** Ids of recently handled delivery events, so a redelivered signal is ignored. */
  handledEventIds?: string[];
  /** When the contact last replied by email (sequences exit on it). */
  lastReplyAt?: string | null;
  /** Tracked events not yet applied (customer-lifecycle-v3, as every field below). */
  trackedEvents?: TrackedEventFact[];
  lastPurchaseAt?: string | null;
  /** The armed quiet-customer timer (re-engagement, then churn). */
  reengagement?: ReengagementTimer | null;
  /** Merges into this contact not yet applied. */
  merges?: ContactsMerged[];
  /** Stages set outside this workflow, not yet followed. */
  stageChanges?: LifecycleStageChanged[];
}

export interface ContactLifecycleInput {
  contactId: string;
  /** Carried across continue-as-new. */
  state?: ContactLifecycleState;
}

/**
 * A delivery fact about one of the contact's addresses, reported by a provider webhook. The
 * webhook only records and signals; what it means for the contact happens here, once.
 */
export interface EmailDeliveryEvent {
  /** Id of the InboundEvent row that recorded it: a redelivered signal carries the same id. */
  eventId: string;
  kind: 'hard_bounce' | 'soft_bounce' | 'blocked' | 'spam_report' | 'unsubscribe' | 'reply';
  address: string;
  messageId: string | null;
  reason: string | null;
}

/**
 * Other contacts were merged into this one (POST /v1/contacts/{id}/merge): what the merge decided
 * about the facts this workflow acts on. The merged contacts' workflows end (contactDeleted), so
 * their automation goes on here, once.
 */
export interface ContactsMerged {
  mergedIds: string[];
  lifecycleStage: string;
  ownerId: string | null;
  /** The latest purchase of all the merged records: the quiet-customer timer runs from it. */
  lastPurchaseAt: string | null;
}

/** Someone or something else set the contact's stage (see customer-lifecycle.ts followExternalStage). */
export interface LifecycleStageChanged {
  /** Names the change (an audit row, a sequence step visit, a trigger action): the enrollments' event id. */
  changeId: string;
  stage: LifecycleStage;
}

export const formSubmittedSignal = defineSignal<[FormSubmitted]>('formSubmitted');
export const emailDeliveryEventSignal = defineSignal<[EmailDeliveryEvent]>('emailDeliveryEvent');
/** Page views, purchases, replies, meetings and custom events stored by POST /v1/events: one signal per contact and batch, in batch order. */
export const trackedEventsSignal = defineSignal<[TrackedEventFact[]]>('trackedEvents');
export const contactDeletedSignal = defineSignal('contactDeleted');
export const contactsMergedSignal = defineSignal<[ContactsMerged]>('contactsMerged');
export const lifecycleStageChangedSignal = defineSignal<[LifecycleStageChanged]>('lifecycleStageChanged');
export const contactStateQuery = defineQuery<ContactLifecycleState>('state');

/** Before the `lead-flow-v2` patch every step was a regular activity; kept for running workflows. */
const remoteQuickSteps = proxyActivities<Activities>(quickStepOptions);

/**
 * Short database steps run as local activities: same retries and durability of the result,
 * but no round trip through the Temporal server per step, which was the bottleneck of lead
 * throughput (bench `ingest`).
 */
const localQuickSteps = proxyLocalActivities<Activities>(asLocal(quickStepOptions));

/**
 * v2 of the first-submission flow: every step a local activity (one workflow task per lead
 * instead of three, the lead throughput limit on small machines: bench `ingest`), no repeat of
 * the search attributes signalWithStart already set, and the welcome email no longer waits for
 * a rep with free capacity (it names the owner when there is one).
 */
const leadFlowV2 = 'lead-flow-v2';

/**
 * v3 adds the customer lifecycle (workflows/customer-lifecycle.ts): tracked events, scoring and
 * stage rules, enrollment notices, form auto-enrollment and the quiet-customer timers. Runs
 * started since take it from the start; older runs switch at their first decision that has a
 * v3 branch after the deploy, since anything v3 handles reaches them through new code only.
 */
const customerLifecycleV3 = 'customer-lifecycle-v3';

/**
 * The wait for a rep with free capacity ends when the contact is deleted or merged into another,
 * instead of routing it an hour later and opening a follow-up task on a contact that is gone.
 */
const deletedEndsRoutingWait = 'deleted-ends-routing-wait';

const remoteSend = proxyActivities<Activities>(sendOptions);
/**
 * In v2 the welcome is a local activity too: one provider call, made exactly once by the
 * outbox whatever the retries, so it needs no activity task of its own; long retry waits
 * (Retry-After, reconciliation) become durable timers past the threshold.
 */
const localSend = proxyLocalActivities<Activities>(asLocal(sendOptions));

/** Enough to recognise a webhook redelivered within the same burst; older ids fall off. */
const handledEventIdsKept = 100;

/** How long to wait before trying routing again when every rep is at capacity. */
const routingRetryInterval = '1 hour';

/**
 * The contact's life as one workflow (`contact:{id}`): the first form submission routes the
 * lead to a rep, opens a follow-up task and sends the welcome email; later submissions are
 * recorded without repeating any of it. Tracked events score the contact and move its
 * lifecycle stage, and quiet customers are re-engaged (customer-lifecycle.ts).
 */
export async function contactLifecycle({ contactId, state: carried }: ContactLifecycleInput): Promise<void> {
  const state: ContactLifecycleState = carried ?? {
    ownerId: null,
    followUpTaskId: null,
    welcome: 'pending',
    lifecycleStage: 'lead',
    formSubmissions: 0,
    pending: [],
  };
  let deleted = false;
  const isDeleted = () => deleted;

  setHandler(formSubmittedSignal, (submission) => {
    state.pending.push(submission);
  });
  const alreadySeen = (eventId: string) =>
    (state.handledEventIds ?? []).includes(eventId)
    || (state.deliveryEvents ?? []).some((queued) => queued.eventId === eventId)
    || (state.trackedEvents ?? []).some((queued) => queued.eventId === eventId);
  setHandler(emailDeliveryEventSignal, (event) => {
    if (!alreadySeen(event.eventId)) (state.deliveryEvents ??= []).push(event);
  });
  setHandler(trackedEventsSignal, (events) => {
    for (const event of events) if (!alreadySeen(event.eventId)) (state.trackedEvents ??= []).push(event);
  });
  setHandler(contactDeletedSignal, () => {
    deleted = true;
  });
  setHandler(contactsMergedSignal, (merge) => {
    (state.merges ??= []).push(merge);
  });
  setHandler(lifecycleStageChangedSignal, (change) => {
    (state.stageChanges ??= []).push(change);
  });
  setHandler(contactStateQuery, () => state);

  const v2 = patched(leadFlowV2);
  const steps = v2 ? localQuickSteps : remoteQuickSteps;
  let v3 = patched(customerLifecycleV3);
  const isV3 = () => (v3 ||= patched(customerLifecycleV3));
  const customer = { contactId, state, steps: localQuickSteps };

  if (!carried) {
    const facts = await steps.getContactFacts(contactId);
    if (!facts.exists) return;
    state.lifecycleStage = facts.lifecycleStage;
    state.ownerId = facts.ownerId;
    // signalWithStart set the stage the API saw; v1 repeated it with an upsert.
    if (!v2) upsertSearchAttributes([{ key: LifecycleStageAttribute, value: state.lifecycleStage }]);
    if (v3) await startCustomerLifecycle(customer, facts.lastPurchaseAt ?? null);
  }

  const hasWork = () =>
    [state.pending, state.deliveryEvents, state.trackedEvents, state.merges, state.stageChanges].some((queue) => (queue?.length ?? 0) > 0);
  const ready = () => deleted || hasWork() || workflowInfo().continueAsNewSuggested;
  for (;;) {
    // The quiet-customer timer is this wait's timeout: no separate timer loop, no polling.
    const timerFired = await waitForWork(ready, reengagementDueAt(state));
    if (deleted) {
      if (isV3()) await notifyContactDeleted(customer);
      return;
    }
    if (timerFired) {
      await onReengagementTimer(customer);
      continue;
    }
    const work = nextWork(state);
    switch (work?.kind) {
      case 'delivery':
        await handleDeliveryEvent(contactId, state, work.event, steps);
        if (isV3()) await notifyDeliveryEvent(customer, work.event);
        break;
      case 'submission':
        if (v2) await handleFormSubmission(contactId, state, work.submission, isV3(), isDeleted);
        else await handleFormSubmissionBeforeV2(contactId, state, work.submission, isDeleted);
        break;
      case 'tracked':
        if (!isV3()) break;
        await handleTrackedEvent(customer, work.event);
        state.handledEventIds = [...(state.handledEventIds ?? []), work.event.eventId].slice(-handledEventIdsKept);
        break;
      case 'merge':
        if (isV3()) await applyMerge(customer, work.merge);
        break;
      case 'stage':
        if (isV3()) await followExternalStage(customer, work.change);
        break;
      case undefined:
        break;
    }
    if (workflowInfo().continueAsNewSuggested && !hasWork()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof contactLifecycle>({ contactId, state });
    }
  }
}

type QueuedWork =
  | { kind: 'delivery'; event: EmailDeliveryEvent }
  | { kind: 'submission'; submission: FormSubmitted }
  | { kind: 'tracked'; event: TrackedEventFact }
  | { kind: 'merge'; merge: ContactsMerged }
  | { kind: 'stage'; change: LifecycleStageChanged };

/** Takes the next queued item. Delivery events first: a bounce must stop sends before anything else is sent. */
function nextWork(state: ContactLifecycleState): QueuedWork | null {
  const event = state.deliveryEvents?.shift();
  if (event) return { kind: 'delivery', event };
  const submission = state.pending.shift();
  if (submission) return { kind: 'submission', submission };
  const tracked = state.trackedEvents?.shift();
  if (tracked) return { kind: 'tracked', event: tracked };
  const merge = state.merges?.shift();
  if (merge) return { kind: 'merge', merge };
  const change = state.stageChanges?.shift();
  return change ? { kind: 'stage', change } : null;
}

/** Waits until `ready()`, or until `dueAt` (epoch ms) when given; true when the time came first. */
async function waitForWork(ready: () => boolean, dueAt: number | null): Promise<boolean> {
  if (dueAt === null) {
    await condition(ready);
    return false;
  }
  if (ready()) return false;
  const remaining = dueAt - Date.now();
  return remaining <= 0 || !(await condition(ready, remaining));
}

type QuickSteps = typeof localQuickSteps;

async function handleDeliveryEvent(contactId: string, state: ContactLifecycleState, event: EmailDeliveryEvent, steps: QuickSteps): Promise<void> {
  switch (event.kind) {
    case 'hard_bounce':
    case 'blocked':
    case 'soft_bounce':
      await steps.applyEmailBounce({
        contactId,
        address: event.address,
        // A block is the receiving server refusing for now: it counts like a soft bounce.
        kind: event.kind === 'hard_bounce' ? 'hard' : 'soft',
        messageId: event.messageId,
        reason: event.reason,
        eventId: event.eventId,
        occurredAt: new Date().toISOString(),
      });
      break;
    case 'reply':
      state.lastReplyAt = new Date().toISOString();
      break;
    case 'spam_report':
    case 'unsubscribe':
      // The webhook already revoked consent in the ledger; sends check it before every message.
      break;
    default: {
      const unhandled: never = event.kind;
      throw new Error(`Unhandled delivery event ${String(unhandled)}`);
    }
  }
  state.handledEventIds = [...(state.handledEventIds ?? []), event.eventId].slice(-handledEventIdsKept);
}

/**
 * The lead-flow-v2 first-submission flow; handleFormSubmissionBeforeV2 keeps v1 for running
 * workflows. In v3 a form with an auto-enrollment sequence enrolls the submitter right after the
 * welcome, without waiting for a rep with free capacity.
 */
async function handleFormSubmission(contactId: string, state: ContactLifecycleState, submission: FormSubmitted, v3: boolean, deleted: () => boolean): Promise<void> {
  state.formSubmissions += 1;
  if (!state.ownerId) state.ownerId = (await localQuickSteps.assignOwner(contactId))?.ownerId ?? null;
  if (state.welcome === 'pending') await sendWelcome(contactId, state, submission, localSend);
  if (v3) await enrollFromForm({ contactId, state, steps: localQuickSteps }, submission);
  while (!state.ownerId) {
    if (await routingRetryWait(deleted)) return;
    state.ownerId = (await localQuickSteps.assignOwner(contactId))?.ownerId ?? null;
  }
  if (!state.followUpTaskId) state.followUpTaskId = await createFirstFollowUp(contactId, state.ownerId, localQuickSteps);
}

async function handleFormSubmissionBeforeV2(contactId: string, state: ContactLifecycleState, submission: FormSubmitted, deleted: () => boolean): Promise<void> {
  state.formSubmissions += 1;
  while (!state.ownerId) {
    const assigned = await remoteQuickSteps.assignOwner(contactId);
    if (assigned) state.ownerId = assigned.ownerId;
    else if (await routingRetryWait(deleted)) return;
  }
  if (!state.followUpTaskId) state.followUpTaskId = await createFirstFollowUp(contactId, state.ownerId, remoteQuickSteps);
  if (state.welcome === 'pending') await sendWelcome(contactId, state, submission, remoteSend);
}

/** The wait before routing again; true when it ended because the contact was deleted (deleted-ends-routing-wait). */
async function routingRetryWait(deleted: () => boolean): Promise<boolean> {
  if (patched(deletedEndsRoutingWait)) return condition(deleted, routingRetryInterval);
  await sleep(routingRetryInterval);
  return false;
}

async function createFirstFollowUp(contactId: string, ownerId: string, steps: QuickSteps): Promise<string> {
  const { taskId } = await steps.createFollowUpTask({
    contactId,
    assigneeId: ownerId,
    sourceKey: `${contactWorkflowId(contactId)}:first-follow-up`,
    sourceRef: contactWorkflowId(contactId),
    title: 'Follow up on new website lead',
    businessDaysDue: 1,
  });
  return taskId;
}

async function sendWelcome(contactId: string, state: ContactLifecycleState, submission: FormSubmitted, send: typeof localSend): Promise<void> {
  const outcome = await send.sendTemplatedEmail({
    idempotencyKey: `${contactWorkflowId(contactId)}:welcome`,
    contactId,
    templateKey: submission.welcomeTemplate,
    transactional: true,
  });
  // Without an address yet, a later submission that brings one still gets the welcome. A
  // provider's final refusal is recorded on the Message and the contact, and not retried.
  if (outcome.status === 'failed') state.welcome = 'failed';
  else if (outcome.status !== 'skipped') state.welcome = 'sent';
  else if (outcome.reason !== 'no_email_address') state.welcome = 'skipped';
}
