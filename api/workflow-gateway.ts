import { WorkflowNotFoundError } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import {
  contactDeletedSignal,
  contactLifecycle,
  emailDeliveryEventSignal,
  formSubmittedSignal,
  type EmailDeliveryEvent,
  type FormSubmitted,
} from '../workflows/contact-lifecycle';
import { ContactIdAttribute, LifecycleStageAttribute } from '../workflows/search-attributes';
import { contactWorkflowId } from '../workflows/workflow-ids';
import type { ApiDeps } from './deps';

/** The API's only doorway into Temporal: every start and signal goes through here. */
export function createWorkflowGateway({ temporal, config, metrics }: Pick<ApiDeps, 'temporal' | 'config' | 'metrics'>) {
  /** The contact's workflow receives the signal, and starts first if it is not running. */
  async function signalContact<T>(contactId: string, lifecycleStage: string, signal: SignalDefinition<[T]>, payload: T): Promise<void> {
    const labels = { workflow: 'contactLifecycle', signal: signal.name };
    try {
      await temporal.workflow.signalWithStart(contactLifecycle, {
        workflowId: contactWorkflowId(contactId),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ contactId }],
        signal,
        signalArgs: [payload],
        typedSearchAttributes: [
          { key: ContactIdAttribute, value: contactId },
          { key: LifecycleStageAttribute, value: lifecycleStage },
        ],
      });
      metrics.workflowSignals.inc({ ...labels, outcome: 'ok' });
    } catch (error) {
      metrics.workflowSignals.inc({ ...labels, outcome: 'error' });
      throw error;
    }
  }

  return {
    signalFormSubmitted(contactId: string, lifecycleStage: string, submission: FormSubmitted): Promise<void> {
      return signalContact(contactId, lifecycleStage, formSubmittedSignal, submission);
    },

    signalEmailDeliveryEvent(contactId: string, lifecycleStage: string, event: EmailDeliveryEvent): Promise<void> {
      return signalContact(contactId, lifecycleStage, emailDeliveryEventSignal, event);
    },

    /** Ends the contact's workflow; a contact that never had one needs nothing. */
    async signalContactDeleted(contactId: string): Promise<void> {
      try {
        await temporal.workflow.getHandle(contactWorkflowId(contactId)).signal(contactDeletedSignal);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
    },
  };
}

export type WorkflowGateway = ReturnType<typeof createWorkflowGateway>;
