import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { MatchedTrigger, TriggerActionInput } from '../activities/trigger-firing';
import { asLocal, quickStepOptions, sendOptions, templateFailureTypes, webhookOptions } from './activity-options';
import { idleStepKey, laterOf, touchRestartsClock } from '../domain/deal-idle';
import {
  dealDeletedSignal,
  dealStageChangedSignal,
  dealStateQuery,
  dealTouchedSignal,
  type DealStageChanged,
  type DealTouched,
  type DealWorkflowInput,
  type DealWorkflowState,
} from './deal-messages';

export interface DealLifecycleInput extends DealWorkflowInput {
  /** Carried across continue-as-new. */
  state?: DealWorkflowState;
}

/** Short database steps: local activities, no round trip through the server per step. */
const quickSteps = proxyLocalActivities<Activities>(asLocal(quickStepOptions));

/** The idle notification: one provider call, exactly once by the outbox key whatever the retries. */
const notificationSteps = proxyLocalActivities<Activities>(asLocal({ ...sendOptions, retry: { ...sendOptions.retry, nonRetryableErrorTypes: templateFailureTypes } }));

/**
 * Trigger actions: each its own activity, retried until it is done or refuses for good. Local
 * activities, like the short steps: a stage move's whole trigger runs in one or two workflow
 * tasks instead of a server round trip per action (bench `deals`), and after a worker crash the
 * next worker re-runs the unfinished action as soon as it takes the workflow over. Long retry
 * waits become durable timers past the threshold.
 */
const actionSteps = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: templateFailureTypes },
  localRetryThreshold: '10 seconds',
});

/**
 * Webhook actions (webhookOptions). The deal's later events wait behind a webhook that is still
 * being retried, which bounds how long that may be.
 */
const webhookSteps = proxyActivities<Activities>(webhookOptions);

/** Enough to recognise a redelivered signal of the same burst; older ids fall off (the ledger still guards). */
const handledIdsKept = 100;
const idleNotificationTemplate = 'deal-idle';

/**
 * The deal's life as one workflow (`deal:{id}`), until it is won, lost or deleted:
 *
 * - Stage changes (signal `dealStageChanged`, one per recorded DealStageChange) fire the
 *   matching stage-move triggers, each action once (activities/trigger-firing.ts), then start
 *   the new stage's idle clock, on the stage's idle limit or the one a fired enter trigger set
 *   (chosen by the matching activity, kept in the state for the whole entry). A change into a
 *   won or lost stage ends the workflow after its triggers have run.
 * - The idle ladder (domain/deal-idle.ts): after the entry's idle limit in business days
 *   without a touch, a task and an email for the owner; after another such period, a task for
 *   the owner's manager and the deal flagged rotting. A touch (signal `dealTouched`) restarts it
 *   on the same limit.
 */
export async function dealLifecycle({ dealId, state: carried }: DealLifecycleInput): Promise<void> {
  const run: Run = {
    dealId,
    deleted: false,
    state: carried ?? {
      stageId: '',
      idleDeadline: null,
      escalationLevel: 0,
      lastTouchAt: new Date().toISOString(),
      status: 'open',
      stageEntryId: null,
      stageEnteredAt: new Date().toISOString(),
      idleLimitDays: null,
      idleLimitTriggerId: null,
      idleRound: 0,
      rotting: false,
      pendingStageChanges: [],
      pendingTouches: [],
      handledStageChangeIds: [],
      handledTouchIds: [],
      triggerActionsRun: 0,
    },
  };
  const { state } = run;

  setHandler(dealStageChangedSignal, (change) => {
    const known = state.handledStageChangeIds.includes(change.stageChangeId) || state.pendingStageChanges.some((queued) => queued.stageChangeId === change.stageChangeId);
    if (!known) state.pendingStageChanges.push(change);
  });
  setHandler(dealTouchedSignal, (touch) => {
    const known = state.handledTouchIds.includes(touch.sourceId) || state.pendingTouches.some((queued) => queued.sourceId === touch.sourceId);
    if (!known) state.pendingTouches.push(touch);
  });
  setHandler(dealDeletedSignal, () => {
    run.deleted = true;
  });
  setHandler(dealStateQuery, () => state);

  if (!carried) {
    const facts = await quickSteps.loadDealFacts(dealId);
    if (!facts.exists) return;
    Object.assign(state, {
      stageId: facts.stageId,
      status: facts.status,
      stageEntryId: facts.stageEntryId,
      stageEnteredAt: facts.stageEnteredAt,
      lastTouchAt: laterOf(facts.lastTouchAt, facts.stageEnteredAt),
      idleLimitDays: facts.idleLimitDays,
      idleDeadline: facts.idleDeadline,
      rotting: facts.rotting,
    } satisfies Partial<DealWorkflowState>);
  }

  const hasWork = () => run.deleted || state.pendingStageChanges.length > 0 || state.pendingTouches.length > 0 || workflowInfo().continueAsNewSuggested;
  for (;;) {
    if (run.deleted) return;
    const change = state.pendingStageChanges.shift();
    if (change) {
      if ((await handleStageChange(run, change)) === 'deal_gone') return;
      continue;
    }
    // A closed deal ends here, once every change received before it closed has fired its triggers.
    if (state.status !== 'open') return;
    const touch = state.pendingTouches.shift();
    if (touch) {
      await handleTouch(run, touch);
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof dealLifecycle>({ dealId, state });
    }
    if (state.idleDeadline === null) {
      await condition(hasWork);
      continue;
    }
    const untilDeadline = Date.parse(state.idleDeadline) - Date.now();
    if (untilDeadline > 0 && (await condition(hasWork, untilDeadline))) continue;
    if ((await escalate(run)) === 'deal_gone') return;
  }
}

/** One run's mutable facts: the state queries show and continue-as-new carries, and deletion. */
interface Run {
  dealId: string;
  state: DealWorkflowState;
  deleted: boolean;
}

type StepResult = 'ok' | 'deal_gone';

async function handleStageChange(run: Run, change: DealStageChanged): Promise<StepResult> {
  const { dealId, state } = run;
  // Handled from now on: a redelivery arriving while its triggers run is ignored too.
  state.handledStageChangeIds = [...state.handledStageChangeIds, change.stageChangeId].slice(-handledIdsKept);
  const lastTouchAt = laterOf(state.lastTouchAt, change.at);
  const match = await quickSteps.matchStageTriggers({ dealId, change, idleFrom: lastTouchAt });
  if (!match.deal) return 'deal_gone';
  for (const trigger of match.triggers) {
    if (run.deleted) return 'deal_gone';
    await fireTrigger(run, change, trigger);
  }

  if (state.rotting) await quickSteps.clearDealRotting(dealId);
  Object.assign(state, {
    stageId: change.toStageId,
    stageEntryId: change.stageChangeId,
    stageEnteredAt: change.at,
    lastTouchAt,
    idleLimitDays: match.toStage.idleLimitDays,
    // Results recorded before trigger idle limits have no trigger id: the stage's limit.
    idleLimitTriggerId: match.toStage.idleLimitTriggerId ?? null,
    idleDeadline: match.toStage.idleDeadline,
    escalationLevel: 0,
    idleRound: 0,
    rotting: false,
    status: match.toStage.isWon ? 'won' : match.toStage.isLost ? 'lost' : match.deal.status,
  } satisfies Partial<DealWorkflowState>);
  return 'ok';
}

/** The trigger's actions in order, each its own activity behind the TriggerRun ledger. */
async function fireTrigger(run: Run, change: DealStageChanged, trigger: MatchedTrigger): Promise<void> {
  for (const [actionIndex, action] of trigger.actions.entries()) {
    if (run.deleted) return;
    const input: TriggerActionInput = { triggerId: trigger.triggerId, triggerName: trigger.name, version: trigger.version, event: trigger.event, dealId: run.dealId, change, actionIndex, action };
    const steps = action.type === 'webhook' ? webhookSteps : actionSteps;
    try {
      for (;;) {
        const outcome = await steps.runTriggerAction(input);
        if (outcome.status !== 'deferred') break;
        // Quiet hours or the frequency cap: ask again then, with the same key.
        await sleep(Math.max(1_000, Date.parse(outcome.until) - Date.now()));
      }
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      // Out of retries (a webhook) or refused for good: recorded as failed, and the next action runs.
      await quickSteps.failTriggerAction({ input, reason: error.cause?.message ?? error.message });
    }
    run.state.triggerActionsRun += 1;
  }
}

async function handleTouch({ dealId, state }: Run, touch: DealTouched): Promise<void> {
  state.handledTouchIds = [...state.handledTouchIds, touch.sourceId].slice(-handledIdsKept);
  if (!touchRestartsClock(touch.at, laterOf(state.lastTouchAt, state.stageEnteredAt), Date.now())) return;
  const restart = state.idleLimitDays !== null || state.rotting;
  const idleDeadline = restart ? await quickSteps.restartIdleClock({ dealId, from: touch.at, businessDays: state.idleLimitDays, clearRotting: state.rotting }) : null;
  Object.assign(state, {
    lastTouchAt: touch.at,
    idleDeadline,
    escalationLevel: 0,
    idleRound: state.idleRound + 1,
    rotting: false,
  } satisfies Partial<DealWorkflowState>);
}

/** How long a deal found closed in the database waits for the stage change that closed it, so its triggers still fire. */
const closingSignalGrace = '1 minute';

/** The next rung of the ladder: owner task and email, then manager task and rotting. */
async function escalate(run: Run): Promise<StepResult> {
  const { dealId, state } = run;
  const level = state.escalationLevel === 0 ? 1 : 2;
  const limit = state.idleLimitDays ?? 0;
  const stepKey = idleStepKey(dealId, state.stageEntryId, state.idleRound, level);
  const firedAt = state.idleDeadline ?? new Date().toISOString();
  const outcome = await quickSteps.escalateIdleDeal({ dealId, level, stepKey, idleDays: limit * level, ...(level === 1 ? { nextPeriod: { from: firedAt, businessDays: limit } } : {}) });
  if (outcome.status === 'deleted') return 'deal_gone';
  if (outcome.status === 'closed') {
    state.idleDeadline = null;
    if (!(await condition(() => state.pendingStageChanges.length > 0, closingSignalGrace))) state.status = outcome.dealStatus;
    return 'ok';
  }
  state.escalationLevel = level;
  if (level === 1) {
    try {
      // The email goes with the task: to the owner, or to whoever stands in for a deactivated one.
      if (outcome.assigneeId) await notificationSteps.sendDealNotification({ idempotencyKey: `${stepKey}:notify`, userId: outcome.assigneeId, dealId, templateKey: idleNotificationTemplate, idleDays: limit });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      // The task is in the owner's inbox either way; a broken template must not stop the ladder.
      log.warn('idle notification not sent', { dealId, error: error.cause?.message ?? error.message });
    }
    state.idleDeadline = outcome.nextDeadline;
  } else {
    state.rotting = true;
    state.idleDeadline = null;
  }
  return 'ok';
}
