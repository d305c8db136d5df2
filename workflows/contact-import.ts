import { ActivityFailure, ApplicationFailure, CancellationScope, CancelledFailure, continueAsNew, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ImportStatus } from '../domain/schemas/import';

export interface ContactImportInput {
  /** The Import row: options, the stored file, counters and the position of the next batch. */
  importId: string;
  /** Batches per run before continuing as new (default 100), keeping each run's history short. */
  batchesPerRun?: number;
}

const defaultBatchesPerRun = 100;

const batches = proxyActivities<Activities>({
  // A batch is seconds of work; the heartbeats (after reading and after writing) notice a dead
  // worker within 20 seconds, and its retry starts again from the last committed position.
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '20 seconds',
  // Conflicts with concurrent writers are retried at once; anything still failing after this
  // many attempts is a fault to look into, and the import ends as failed with its message.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * A CSV import of contacts, batch by batch (workflow `import:{id}`). Every batch commits its
 * rows together with the import's position, so the workflow carries nothing but the id and a
 * crashed batch is simply run again. `POST /v1/imports/{id}/cancel` marks the import and the
 * next batch ends it; cancelling the workflow in Temporal lets the batch under way finish, then
 * ends it the same way.
 */
export async function contactImport(input: ContactImportInput): Promise<ImportStatus> {
  const { importId } = input;
  const batchesPerRun = input.batchesPerRun ?? defaultBatchesPerRun;
  for (let batch = 0; batch < batchesPerRun && !workflowInfo().continueAsNewSuggested; batch += 1) {
    try {
      const { status } = await CancellationScope.nonCancellable(() => batches.importBatch(importId));
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
