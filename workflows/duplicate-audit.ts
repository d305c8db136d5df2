import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { runDuplicateAuditPlan, type DuplicateAuditOptions, type DuplicateAuditSummary } from '../domain/duplicate-audit-plan';

/** Sizes of one run; the schedule passes none and takes the plan's defaults. */
export type DuplicateAuditInput = Omit<DuplicateAuditOptions, 'auditKey'>;

const steps = proxyActivities<Activities>({
  // A page of 5000 contacts or 2000 blocks takes about a second; minutes mean trouble.
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * The nightly duplicate audit (schedule `schedule:duplicate-audit`): index, score, retire,
 * hand out review tasks. The run's workflow id names it, so review tasks a retried or re-run
 * step creates carry the same business keys.
 */
export async function duplicateAudit(input: DuplicateAuditInput = {}): Promise<DuplicateAuditSummary> {
  return runDuplicateAuditPlan(steps, { ...input, auditKey: workflowInfo().workflowId });
}
