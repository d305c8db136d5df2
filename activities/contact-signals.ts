import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { contactLifecycle, lifecycleStageChangedSignal, type LifecycleStageChanged } from '../workflows/contact-lifecycle';
import { ContactIdAttribute, LifecycleStageAttribute } from '../workflows/search-attributes';
import { contactWorkflowId } from '../workflows/workflow-ids';

/**
 * The contact's workflow receives the signal, and starts first if it is not running. One place
 * for the API's gateway and for activities that change a contact outside its workflow.
 */
export function signalContactWorkflow<T>(client: Client, taskQueue: string, contactId: string, lifecycleStage: string, signal: SignalDefinition<[T]>, payload: T): Promise<unknown> {
  return client.workflow.signalWithStart(contactLifecycle, {
    workflowId: contactWorkflowId(contactId),
    taskQueue,
    args: [{ contactId }],
    signal,
    signalArgs: [payload],
    typedSearchAttributes: [
      { key: ContactIdAttribute, value: contactId },
      { key: LifecycleStageAttribute, value: lifecycleStage },
    ],
  });
}

/**
 * A stage set outside the contact's workflow: the workflow follows it and tells the contact's
 * enrollments. Telling it twice is harmless (it follows the stage it already has), which is why
 * callers announce again on a retry rather than risk a lost announcement.
 */
export function announceStageChange(contactId: string, change: LifecycleStageChanged): Promise<unknown> {
  // Called from activities: the worker's own client, and its task queue, where contact workflows run.
  const { client, info } = Context.current();
  return signalContactWorkflow(client, info.taskQueue, contactId, change.stage, lifecycleStageChangedSignal, change);
}
