import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { migrateUpdate } from '../workflows/enrollment-messages';
import type { ActivityDeps } from './deps';

export interface MigrationPageRequest {
  migrationId: string;
  pageSize: number;
}

/** Updates in flight at once: each waits for its enrollment's workflow to load the new version. */
const pageConcurrency = 16;
/** Refusals that mean the enrollment ended (or moved) before the job reached it. */
const endedRefusals = new Set(['EnrollmentEnded', 'AlreadyMigrated']);

type Outcome = 'migrated' | 'skipped' | 'failed';

export function createSequenceMigrationActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    /**
     * Sends the migrate update to the next page of enrollments the job matched: those on the
     * old version that were live when it started (ones that ended since count as skipped). The
     * page's counts and the cursor go in with one conditional UPDATE, as in a bulk enrollment:
     * a redone page finds the enrollments it moved already on the new version (counted by their
     * migration_id) and counts the rest once.
     */
    async migrateEnrollmentPage({ migrationId, pageSize }: MigrationPageRequest): Promise<{ done: boolean }> {
      const context = Context.current();
      const job = await prisma.sequenceMigration.findUnique({ where: { id: migrationId } });
      if (!job) throw ApplicationFailure.nonRetryable(`Sequence migration ${migrationId} does not exist.`, 'NotFoundError');
      if (job.status !== 'running') return { done: true };

      const found = await prisma.enrollment.findMany({
        where: {
          sequenceId: job.sequenceId,
          version: job.fromVersion,
          enrolledAt: { lte: job.createdAt },
          OR: [{ status: { in: ['active', 'paused'] } }, { endedAt: { gte: job.createdAt } }],
          ...(job.cursor ? { id: { gt: job.cursor } } : {}),
        },
        orderBy: { id: 'asc' },
        take: pageSize + 1,
        select: { id: true, workflowId: true, status: true },
      });
      const page = found.slice(0, pageSize);
      const lastPage = found.length <= pageSize;
      const request = { migrationId, fromVersion: job.fromVersion, toVersion: job.toVersion };

      const migrateOne = async ({ id, workflowId, status }: (typeof page)[number]): Promise<Outcome> => {
        if (status !== 'active' && status !== 'paused') return 'skipped';
        try {
          // The update id makes a retried page's update the same update, answered once.
          await context.client.workflow.getHandle(workflowId).executeUpdate(migrateUpdate, { args: [request], updateId: `migration:${migrationId}` });
          return 'migrated';
        } catch (error) {
          if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && endedRefusals.has(error.cause.type ?? '')) return 'skipped';
          if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) {
            const now = await prisma.enrollment.findUniqueOrThrow({ where: { id }, select: { status: true } });
            if (now.status !== 'active' && now.status !== 'paused') return 'skipped';
            context.log.warn('sequence migration: enrollment not migrated', { migrationId, enrollmentId: id, error: error.message });
            return 'failed';
          }
          throw error;
        } finally {
          context.heartbeat();
        }
      };
      const outcomes: Outcome[] = [];
      for (let start = 0; start < page.length; start += pageConcurrency) {
        outcomes.push(...(await Promise.all(page.slice(start, start + pageConcurrency).map(migrateOne))));
      }
      const count = (outcome: Outcome) => outcomes.filter((candidate) => candidate === outcome).length;

      const cursor = page.at(-1)?.id ?? job.cursor;
      const counted = await prisma.$executeRaw`
        UPDATE sequence_migrations
           SET migrated = (SELECT count(*) FROM enrollments WHERE migration_id = ${migrationId}::uuid),
               skipped = skipped + ${count('skipped')},
               failed = failed + ${count('failed')},
               cursor = ${cursor}::uuid,
               status = CASE WHEN ${lastPage} AND status = 'running' THEN 'completed' ELSE status END,
               finished_at = CASE WHEN ${lastPage} AND status = 'running' THEN now() ELSE finished_at END
         WHERE id = ${migrationId}::uuid AND cursor IS NOT DISTINCT FROM ${job.cursor}::uuid`;
      return { done: lastPage && counted === 1 };
    },

    /** Marks a job whose workflow gave up; a completed one stays as it is. */
    async failSequenceMigration({ migrationId }: { migrationId: string }): Promise<void> {
      await prisma.sequenceMigration.updateMany({ where: { id: migrationId, status: 'running' }, data: { status: 'failed', finishedAt: new Date() } });
    },
  };
}
