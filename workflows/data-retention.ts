import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RetentionOutcome, RetentionRequest } from '../activities/retention';

const steps = proxyActivities<Activities>({
  // A backlog after a long outage is deleted in slices; ten minutes is room for millions of rows.
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * Hourly clean-up of bookkeeping rows past their use (schedule `schedule:data-retention`):
 * Idempotency-Key responses older than IDEMPOTENCY_RETENTION_HOURS and rate-limit windows older
 * than a day. A Schedule for the same reasons as the upload clean-up: once per deployment,
 * visible and pausable. Idempotent: a rerun finds nothing left.
 */
export async function dataRetention(input: RetentionRequest): Promise<RetentionOutcome> {
  return steps.purgeExpiredRecords(input);
}
