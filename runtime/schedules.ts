import { createHash } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleSpec } from '@temporalio/client';
import type { Logger } from 'pino';
import type { RetentionRequest } from '../activities/retention';
import type { ImportUploadCleanupInput } from '../workflows/import-upload-cleanup';
import type { OverdueDigestInput } from '../workflows/overdue-digest';
import type { Config } from './config';

/**
 * The maintenance schedules (ARCHITECTURE.md, "maintenance (Schedule)"): recurring workflows
 * that Temporal starts on a calendar. Each is declared once here; the worker makes Temporal's
 * schedule match the declaration at every start (create if missing, update if changed), so a
 * config change takes effect on the next deploy and a restart changes nothing.
 */
export interface MaintenanceSchedule {
  /** Schedule id `schedule:{name}`; each run's workflow id starts with it. */
  name: string;
  /** When it runs. Calendars are read in `spec.timezone` (an IANA zone), so 07:00 stays 07:00 across DST. */
  spec: ScheduleSpec;
  workflowType: string;
  args: unknown[];
}

export type ScheduleOutcome = 'created' | 'updated' | 'unchanged' | 'failed';

export const scheduleId = (name: string): string => `schedule:${name}`;

/** Every day at hour:minute local time in the zone. */
export function dailyAt(hour: number, minute: number, timeZone: string): ScheduleSpec {
  return { calendars: [{ hour, minute }], timezone: timeZone };
}

export function maintenanceSchedules(config: Config): MaintenanceSchedule[] {
  const digest: OverdueDigestInput = { timeZone: config.OVERDUE_DIGEST_TIME_ZONE, topN: config.OVERDUE_DIGEST_TOP_N };
  const uploads: ImportUploadCleanupInput = { olderThanMinutes: config.IMPORT_UPLOAD_ABANDON_MINUTES };
  const retention: RetentionRequest = { idempotencyHours: config.IDEMPOTENCY_RETENTION_HOURS };
  return [
    { name: 'overdue-digest', spec: dailyAt(config.OVERDUE_DIGEST_HOUR, 0, config.OVERDUE_DIGEST_TIME_ZONE), workflowType: 'overdueDigest', args: [digest] },
    { name: 'duplicate-audit', spec: dailyAt(config.DUPLICATE_AUDIT_HOUR, 0, config.DUPLICATE_AUDIT_TIME_ZONE), workflowType: 'duplicateAudit', args: [{}] },
    // A cut-off upload is found within a quarter of an hour of reaching the age limit.
    { name: 'import-upload-cleanup', spec: { intervals: [{ every: '15 minutes' }] }, workflowType: 'importUploadCleanup', args: [uploads] },
    { name: 'data-retention', spec: { intervals: [{ every: '1 hour' }] }, workflowType: 'dataRetention', args: [retention] },
  ];
}

/**
 * A described schedule's spec comes back normalised (ranges, defaults filled in), so comparing
 * it with the declaration is fragile. Instead the declaration's fingerprint travels in the
 * action's memo, which an update can change (the schedule's own memo cannot be updated).
 */
const fingerprintMemoKey = 'scheduleFingerprint';

export async function ensureSchedules(
  client: Client,
  schedules: readonly MaintenanceSchedule[],
  options: { taskQueue: string; logger: Logger },
): Promise<Record<string, ScheduleOutcome>> {
  const outcomes: Record<string, ScheduleOutcome> = {};
  for (const schedule of schedules) {
    try {
      outcomes[schedule.name] = await ensureSchedule(client, schedule, options.taskQueue);
      options.logger.info({ schedule: scheduleId(schedule.name), outcome: outcomes[schedule.name] }, 'maintenance schedule ensured');
    } catch (error) {
      // The worker still serves every other workflow; the next start tries again.
      outcomes[schedule.name] = 'failed';
      options.logger.error({ err: error, schedule: scheduleId(schedule.name) }, 'could not create or update a maintenance schedule');
    }
  }
  return outcomes;
}

async function ensureSchedule(client: Client, schedule: MaintenanceSchedule, taskQueue: string): Promise<ScheduleOutcome> {
  const id = scheduleId(schedule.name);
  const fingerprint = createHash('sha256').update(JSON.stringify({ spec: schedule.spec, workflowType: schedule.workflowType, args: schedule.args, taskQueue })).digest('hex');
  const action = {
    type: 'startWorkflow' as const,
    workflowType: schedule.workflowType,
    args: schedule.args,
    taskQueue,
    workflowId: id,
    memo: { [fingerprintMemoKey]: fingerprint },
  };
  // A run still going when the next is due is skipped; after an outage of the Temporal server
  // at most the last day's missed run is taken (maintenance runs are idempotent per day).
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' };
  try {
    await client.schedule.create({ scheduleId: id, spec: schedule.spec, action, policies });
    return 'created';
  } catch (error) {
    // Already there: created by an earlier start or by another worker starting at the same time.
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(id);
  const current = await handle.describe();
  const currentFingerprint = current.action.type === 'startWorkflow' ? current.action.memo?.[fingerprintMemoKey] : undefined;
  if (currentFingerprint === fingerprint) return 'unchanged';
  // The state (paused by an operator, with a note) is kept; only what the declaration says changes.
  await handle.update((previous) => ({ ...previous, spec: schedule.spec, action, policies }));
  return 'updated';
}
