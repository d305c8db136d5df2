import type { ActivityDeps } from './deps';

export interface RetentionRequest {
  /** Stored Idempotency-Key responses older than this no longer answer repeats (IDEMPOTENCY_RETENTION_HOURS). */
  idempotencyHours: number;
}

export interface RetentionOutcome {
  idempotentRequests: number;
  rateLimitWindows: number;
}

/** Rows per DELETE: short statements, so a large backlog never holds locks for long. */
const slice = 5_000;
/**
 * Rate-limit counters only matter for their own window (a minute for forms); a day leaves
 * room for any window the API may be configured with.
 */
const rateLimitKeepHours = 24;

export function createRetentionActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  /** Deletes slice by slice until a slice comes back short; returns how many went. */
  async function inSlices(deleteSlice: () => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await deleteSlice();
      total += deleted;
      if (deleted < slice) return total;
    }
  }

  return {
    /** Bookkeeping rows past their use: stored idempotent responses and old rate-limit windows. */
    async purgeExpiredRecords({ idempotencyHours }: RetentionRequest): Promise<RetentionOutcome> {
      const idempotentRequests = await inSlices(() => prisma.$executeRaw`
        DELETE FROM idempotent_requests WHERE id IN (
          SELECT id FROM idempotent_requests WHERE created_at < now() - make_interval(hours => ${idempotencyHours}::int) LIMIT ${slice})`);
      const rateLimitWindows = await inSlices(() => prisma.$executeRaw`
        DELETE FROM rate_limit_counters WHERE (key, window_start) IN (
          SELECT key, window_start FROM rate_limit_counters WHERE window_start < now() - make_interval(hours => ${rateLimitKeepHours}::int) LIMIT ${slice})`);
      return { idempotentRequests, rateLimitWindows };
    },
  };
}
