import { WorkflowNotFoundError } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { TrackedEventFact } from '../domain/schemas/tracked-event';
import {
  contactDeletedSignal,
  contactsMergedSignal,
  emailDeliveryEventSignal,
  formSubmittedSignal,
  lifecycleStageChangedSignal,
  trackedEventsSignal,
  type ContactsMerged,
  type LifecycleStageChanged,
  type EmailDeliveryEvent,
  type FormSubmitted,
} from '../workflows/contact-lifecycle';
import {
  dealDeletedSignal,
  dealStageChangedSignal,
  dealTouchedSignal,
  dealWorkflowType,
  type DealStageChanged,
  type DealTouched,
  type DealWorkflowInput,
} from '../workflows/deal-messages';
import { contactMergedSignal, enrollmentEventSignal, taskCompletedSignal, type ContactMerged, type EnrollmentEvent } from '../workflows/enrollment-messages';
import type { contactImport } from '../workflows/contact-import';
import type { webhookRedelivery } from '../workflows/webhook-redelivery';
import { contactWorkflowId, dealWorkflowId, importWorkflowId, webhookDeliveryWorkflowId } from '../workflows/workflow-ids';
import { signalContactWorkflow } from '../activities/contact-signals';
import type { ApiDeps } from './deps';

/** The API's only doorway into Temporal: every start and signal goes through here. */
export function createWorkflowGateway({ temporal, config, metrics }: Pick<ApiDeps, 'temporal' | 'config' | 'metrics'>) {
  /** Every signal is counted by workflow, signal and outcome (`touchpoint_workflow_signal_with_start_total`, a name kept from when every signal was a signalWithStart). */
  async function counted(workflow: string, signal: string, send: () => Promise<unknown>): Promise<void> {
    const labels = { workflow, signal };
    try {
      await send();
      metrics.workflowSignals.inc({ ...labels, outcome: 'ok' });
    } catch (error) {
      metrics.workflowSignals.inc({ ...labels, outcome: 'error' });
      throw error;
    }
  }

  /** The contact's workflow receives the signal, and starts first if it is not running. */
  async function signalContact<T>(contactId: string, lifecycleStage: string, signal: SignalDefinition<[T]>, payload: T): Promise<void> {
    await counted('contactLifecycle', signal.name, () => signalContactWorkflow(temporal, config.TEMPORAL_TASK_QUEUE, contactId, lifecycleStage, signal, payload));
  }

  /**
   * An open deal's workflow receives the signal, and starts first if it is not running (its
   * start failed after the deal was stored, or the deal was reopened). A closed deal's workflow
   * has ended or is ending: it gets the signal only if still running, and none is started.
   * Only the Temporal server is needed: a worker without the deal workflow leaves it queued.
   */
  async function signalDeal<T>(dealId: string, startIfAbsent: boolean, signal: SignalDefinition<[T]>, payload: T): Promise<void> {
    await counted(dealWorkflowType, signal.name, () =>
      startIfAbsent
        ? temporal.workflow.signalWithStart<DealWorkflow, [T]>(dealWorkflowType, {
            workflowId: dealWorkflowId(dealId),
            taskQueue: config.TEMPORAL_TASK_QUEUE,
            args: [{ dealId }],
            signal,
            signalArgs: [payload],
          })
        : ignoreEnded(temporal.workflow.getHandle(dealWorkflowId(dealId)).signal(signal, payload)),
    );
  }

  return {
    /** Starts an uploaded import's batches; a second start of the same import keeps the first. */
    async startContactImport(importId: string): Promise<void> {
      await temporal.workflow.start<typeof contactImport>('contactImport', {
        workflowId: importWorkflowId(importId),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ importId }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    },

    /** Sends a redelivery that POST /v1/webhook-deliveries/{id}/redeliver wrote; a second start keeps the first. */
    async startWebhookRedelivery(deliveryId: string): Promise<void> {
      await temporal.workflow.start<typeof webhookRedelivery>('webhookRedelivery', {
        workflowId: webhookDeliveryWorkflowId(deliveryId),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ deliveryId }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    },

    /** Starts a new deal's workflow; one already running under its id is kept. */
    async startDeal(dealId: string): Promise<void> {
      await temporal.workflow.start<DealWorkflow>(dealWorkflowType, {
        workflowId: dealWorkflowId(dealId),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ dealId }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    },

    signalDealStageChanged(dealId: string, dealIsOpen: boolean, change: DealStageChanged): Promise<void> {
      return signalDeal(dealId, dealIsOpen, dealStageChangedSignal, change);
    },

    /** Touches matter only to open deals (they reset the idle timer). */
    signalDealTouched(dealId: string, touch: DealTouched): Promise<void> {
      return signalDeal(dealId, true, dealTouchedSignal, touch);
    },

    signalDealDeleted(dealId: string): Promise<void> {
      return counted(dealWorkflowType, dealDeletedSignal.name, () => ignoreEnded(temporal.workflow.getHandle(dealWorkflowId(dealId)).signal(dealDeletedSignal)));
    },

    /** A call step's task was completed: its enrollment goes on (one that has ended needs nothing). */
    signalTaskCompleted(workflowId: string, taskId: string): Promise<void> {
      return ignoreEnded(temporal.workflow.getHandle(workflowId).signal(taskCompletedSignal, { taskId }));
    },

    /** An enrollment's contact was merged: it goes on for the survivor (keep) or ends; an ended one needs nothing. */
    signalContactMerged(workflowId: string, merged: ContactMerged): Promise<void> {
      return ignoreEnded(temporal.workflow.getHandle(workflowId).signal(contactMergedSignal, merged));
    },

    /** Tells one running enrollment what happened to its contact; an ended one needs nothing. */
    signalEnrollmentEvent(workflowId: string, event: EnrollmentEvent): Promise<void> {
      return ignoreEnded(temporal.workflow.getHandle(workflowId).signal(enrollmentEventSignal, event));
    },

    /** PATCH /v1/contacts set the stage: the contact's workflow follows it and tells its enrollments. */
    signalLifecycleStageChanged(contactId: string, change: LifecycleStageChanged): Promise<void> {
      return signalContact(contactId, change.stage, lifecycleStageChangedSignal, change);
    },

    signalFormSubmitted(contactId: string, lifecycleStage: string, submission: FormSubmitted): Promise<void> {
      return signalContact(contactId, lifecycleStage, formSubmittedSignal, submission);
    },

    signalEmailDeliveryEvent(contactId: string, lifecycleStage: string, event: EmailDeliveryEvent): Promise<void> {
      return signalContact(contactId, lifecycleStage, emailDeliveryEventSignal, event);
    },

    signalTrackedEvents(contactId: string, lifecycleStage: string, events: TrackedEventFact[]): Promise<void> {
      return signalContact(contactId, lifecycleStage, trackedEventsSignal, events);
    },

    /** Ends the contact's workflow; a contact that never had one needs nothing. Resolves to whether one was running. */
    signalContactDeleted(contactId: string): Promise<boolean> {
      return delivered(temporal.workflow.getHandle(contactWorkflowId(contactId)).signal(contactDeletedSignal));
    },

    /**
     * Contacts were merged into this one. Its workflow takes the merged facts; when a merged
     * contact's workflow was running (`startIfAbsent`), the survivor's starts first if it has
     * none, so that automation goes on for the person. Otherwise a survivor without a workflow
     * stays without one, like an imported contact, until its first form submission or event.
     */
    signalContactsMerged(contactId: string, merged: ContactsMerged, startIfAbsent: boolean): Promise<void> {
      if (startIfAbsent) return signalContact(contactId, merged.lifecycleStage, contactsMergedSignal, merged);
      return counted('contactLifecycle', contactsMergedSignal.name, () => ignoreEnded(temporal.workflow.getHandle(contactWorkflowId(contactId)).signal(contactsMergedSignal, merged)));
    },
  };
}

/** A signal to a workflow that has already ended has nobody left to tell. */
async function ignoreEnded(signalling: Promise<void>): Promise<void> {
  await delivered(signalling);
}

/** Whether a running workflow got the signal (false: it had ended, or never ran). */
async function delivered(signalling: Promise<void>): Promise<boolean> {
  try {
    await signalling;
    return true;
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    return false;
  }
}

/** The deal workflow's signature, for typing its start without importing its code. */
type DealWorkflow = (input: DealWorkflowInput) => Promise<void>;

export type WorkflowGateway = ReturnType<typeof createWorkflowGateway>;
