import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';

export interface OverdueDigestInput {
  /** Zone whose calendar date keys the digests: one per manager per day in this zone. */
  timeZone: string;
  /** How many overdue tasks each digest lists by name. */
  topN: number;
}

export interface OverdueDigestResult {
  asOf: string;
  managers: number;
  created: number;
  existing: number;
}

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** Managers handled at once: enough to finish a large team quickly without a burst on the database. */
const batchSize = 10;

/**
 * The daily overdue digest (schedule `schedule:overdue-digest`): every manager whose reports
 * have overdue open tasks gets one review task listing them. The run's start time is its "now"
 * for every manager, and each digest is keyed by manager and date, so rerunning the same day
 * (retry, manual trigger, catch-up) creates nothing new.
 */
export async function overdueDigest(input: OverdueDigestInput): Promise<OverdueDigestResult> {
  // Workflow time is fixed by the history, so a replay or retry sees the same instant.
  const asOf = new Date().toISOString();
  const { workflowId } = workflowInfo();
  const managerIds = await steps.listManagersWithOverdueTasks({ asOf });
  const result: OverdueDigestResult = { asOf, managers: managerIds.length, created: 0, existing: 0 };
  for (let start = 0; start < managerIds.length; start += batchSize) {
    const outcomes = await Promise.all(
      managerIds.slice(start, start + batchSize).map((managerId) => steps.createOverdueDigestTask({ managerId, asOf, timeZone: input.timeZone, topN: input.topN, sourceRef: workflowId })),
    );
    for (const outcome of outcomes) {
      if (outcome.status === 'created') result.created += 1;
      if (outcome.status === 'existing') result.existing += 1;
    }
  }
  return result;
}
