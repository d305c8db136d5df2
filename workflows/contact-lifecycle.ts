import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { LifecycleStageAttribute } from './search-attributes';
import { contactWorkflowId } from './workflow-ids';

/** Small facts only: ids, never the submitted payload, so histories stay small. */
export interface FormSubmitted {
  activityId: string;
  formKey: string;
  welcomeTemplate: string;
}

export interface ContactLifecycleState {
  ownerId: string | null;
  followUpTaskId: string | null;
  welcome: 'pending' | 'sent' | 'skipped';
  lifecycleStage: string;
  formSubmissions: number;
  pending: FormSubmitted[];
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

export const formSubmittedSignal = defineSignal<[FormSubmitted]>('formSubmitted');
export const emailDeliveryEventSignal = defineSignal<[EmailDeliveryEvent]>('emailDeliveryEvent');
export const contactDeletedSignal = defineSignal('contactDeleted');
export const contactStateQuery = defineQuery<ContactLifecycleState>('state');

const { getContactFacts, assignOwner, createFollowUpTask } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const { sendTemplatedEmail } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/** How long to wait before trying routing again when every rep is at capacity. */
const routingRetryInterval = '1 hour';

/**
 * The contact's life as one workflow (`contact:{id}`): the first form submission routes the
 * lead to a rep, opens a follow-up task and sends the welcome email; later submissions are
 * recorded without repeating any of it. Later issues add scoring, lifecycle and re-engagement.
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

  setHandler(formSubmittedSignal, (submission) => {
    state.pending.push(submission);
  });
  setHandler(contactDeletedSignal, () => {
    deleted = true;
  });
  setHandler(contactStateQuery, () => state);

  if (!carried) {
    const facts = await getContactFacts(contactId);
    if (!facts.exists) return;
    state.lifecycleStage = facts.lifecycleStage;
    state.ownerId = facts.ownerId;
    upsertSearchAttributes([{ key: LifecycleStageAttribute, value: state.lifecycleStage }]);
  }

  for (;;) {
    await condition(() => deleted || state.pending.length > 0 || workflowInfo().continueAsNewSuggested);
    if (deleted) return;
    const submission = state.pending.shift();
    if (submission) await handleFormSubmission(contactId, state, submission);
    if (workflowInfo().continueAsNewSuggested && state.pending.length === 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof contactLifecycle>({ contactId, state });
    }
  }
}

async function handleFormSubmission(contactId: string, state: ContactLifecycleState, submission: FormSubmitted): Promise<void> {
  state.formSubmissions += 1;
  while (!state.ownerId) {
    const assigned = await assignOwner(contactId);
    if (assigned) state.ownerId = assigned.ownerId;
    else await sleep(routingRetryInterval);
  }
  if (!state.followUpTaskId) {
    const { taskId } = await createFollowUpTask({
      contactId,
      assigneeId: state.ownerId,
      sourceKey: `${contactWorkflowId(contactId)}:first-follow-up`,
      sourceRef: contactWorkflowId(contactId),
      title: 'Follow up on new website lead',
      businessDaysDue: 1,
    });
    state.followUpTaskId = taskId;
  }
  if (state.welcome === 'pending') {
    const outcome = await sendTemplatedEmail({
      idempotencyKey: `${contactWorkflowId(contactId)}:welcome`,
      contactId,
      templateKey: submission.welcomeTemplate,
      transactional: true,
    });
    // Without an address yet, a later submission that brings one still gets the welcome.
    if (outcome.status !== 'skipped') state.welcome = 'sent';
    else if (outcome.reason !== 'no_email_address') state.welcome = 'skipped';
  }
}
