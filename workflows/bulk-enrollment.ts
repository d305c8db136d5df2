import { CancellationScope, CancelledFailure, continueAsNew, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { pageOptions, quickStepOptions } from './activity-options';

export interface BulkEnrollmentInput {
  /** The BulkEnrollment row: segment filter, sequence, counters and the keyset cursor. */
  jobId: string;
  /** Contacts per page; each page is one activity. */
  pageSize: number;
  /** Pages per run before continuing as new (default 100), keeping each run's history short. */
  pagesPerRun?: number;
}

const defaultPagesPerRun = 100;

// A page of 500 takes seconds; the heartbeat (one per contact) is what notices a dead worker.
const pages = proxyActivities<Activities>(pageOptions);
const bookkeeping = proxyActivities<Activities>(quickStepOptions);

/**
 * Enrolls a segment into a sequence page by page (workflow `bulk-enroll:{jobId}`). All state is
 * in the job row, cursor included, so a crashed worker's page is simply done again (it enrolls
 * nobody twice and counts once, see activities/bulk-enrollment.ts) and continue-as-new carries
 * nothing but the input. Cancelling the workflow lets the page under way finish and be
 * counted, then marks the job cancelled.
 */
export async function bulkEnrollment(input: BulkEnrollmentInput): Promise<void> {
  const { jobId, pageSize } = input;
  const pagesPerRun = input.pagesPerRun ?? defaultPagesPerRun;
  for (let page = 0; page < pagesPerRun && !workflowInfo().continueAsNewSuggested; page += 1) {
    try {
      const { done } = await CancellationScope.nonCancellable(() => pages.enrollBulkPage({ jobId, pageSize }));
      if (done) return;
      if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('Bulk enrollment cancelled');
    } catch (error) {
      await CancellationScope.nonCancellable(() => bookkeeping.finishBulkEnrollment({ jobId, status: isCancellation(error) ? 'cancelled' : 'failed' }));
      throw error;
    }
  }
  await continueAsNew<typeof bulkEnrollment>(input);
}
