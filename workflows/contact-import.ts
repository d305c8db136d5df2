import { ActivityFailure, ApplicationFailure, CancellationScope, CancelledFailure, continueAsNew, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { quickStepOptions } from './activity-options';
import type { ImportStatus } from '../domain/schemas/import';

export interface ContactImportInput {
  /** The Import row: options, the stored file, counters and the position of the next batch. */
  importId: string;
  /** Activity calls per run before continuing as new (default 100), keeping each run's history short. */
  callsPerRun?: number;
  /** Batches per activity call (default 1000, in practice the time limit ends a call first). */
  batchesPerCall?: number;
}

const defaults = { callsPerRun: 100, batchesPerCall: 1000 };
/** An activity call starts no batch after this: the worker reports back about twice a minute. */
const secondsPerCall = 30;

const batches = proxyActivities<Activities>({
  // A call is about half a minute of batches of seconds each; the heartbeat after every batch
  // notices a dead worker within 20 seconds, and the retry starts from the last committed batch.
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '20 seconds',
  // Conflicts with concurrent writers are retried at once; anything still failing after this
  // many attempts is a fault to look into, and the import ends as failed with its message.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

const bookkeeping = proxyActivities<Activities>(quickStepOptions);

/**
 * A CSV import of contacts, batch by batch (workflow `import:{id}`), each activity call running
 * batches for up to half a minute. Every batch commits its rows together with the import's
 * position, so the workflow carries nothing but the id and a crashed batch is simply run again.
 * `POST /v1/imports/{id}/cancel` marks the import and its next batch ends it; cancelling the
 * workflow in Temporal lets the call under way finish, then ends the import the same way.
 */
export async function contactImport(input: ContactImportInput): Promise<ImportStatus> {
  const { importId } = input;
  const callsPerRun = input.callsPerRun ?? defaults.callsPerRun;
  const call = { importId, maxBatches: input.batchesPerCall ?? defaults.batchesPerCall, maxSeconds: secondsPerCall };
  for (let calls = 0; calls < callsPerRun && !workflowInfo().continueAsNewSuggested; calls += 1) {
    try {
      const { status } = await CancellationScope.nonCancellable(() => batches.importBatches(call));
      if (status !== 'running') return status;
      if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('Import cancelled');
    } catch (error) {
      const cancelled = isCancellation(error);
      await CancellationScope.nonCancellable(() =>
        bookkeeping.endImport({ importId, status: cancelled ? 'cancelled' : 'failed', error: cancelled ? null : failureMessage(error) }),
      );
      if (cancelled) throw error;
      return 'failed';
    }
  }
  return continueAsNew<typeof contactImport>(input);
}

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : String(cause);
}
