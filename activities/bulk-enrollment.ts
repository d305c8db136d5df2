import { ApplicationFailure, Context } from '@temporalio/activity';
import type { EnrollmentRejection } from '../domain/enrollment-policy';
import { NotFoundError } from '../domain/errors';
import { SegmentFilterSchema } from '../domain/segment';
import type { ActivityDeps } from './deps';
import { enrollContacts, loadEnrollmentTarget, type EnrollDeps, type EnrollmentTarget } from './enrollments';
import { decodePosition, encodePosition, segmentPageWhere } from './segments';

export interface BulkPageRequest {
  jobId: string;
  pageSize: number;
}

export interface BulkPageResult {
  /** True once the segment is exhausted (the job is completed) or the job stopped running. */
  done: boolean;
  /** Contacts this call handled (0 when the page had already been counted by another attempt). */
  processed: number;
}

export type BulkJobEnd = 'cancelled' | 'failed';

/**
 * Workflow starts of one page in flight at once (the rows go in with one insert). Starts wait
 * on the Temporal server, and the page shares the worker with the enrollments it has started:
 * 16 at a time enrolled a third as fast as 48 in the `enroll` benchmark.
 */
export const pageConcurrency = 48;
/**
 * A page whose enrollments fail is tried again (the others are found done); contacts still
 * failing after this long count as `failed`, so one bad contact cannot hold the job forever.
 * Long enough that a short outage of the database or of Temporal fails nobody.
 */
const retryFailuresForMs = 10 * 60_000;

export function createBulkEnrollmentActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    /**
     * Enrolls the next page of the job's segment after its cursor, then adds the page's
     * counts and moves the cursor (and completes the job after its last page) in one
     * conditional UPDATE (`WHERE cursor = <where this page started>`). A retried or concurrent
     * attempt of the same page re-enrolls nobody (each contact's sourceKey
     * `bulk:{jobId}:{contactId}` finds its enrollment) and counts the page once: the first
     * commit moves the cursor, the others then match no row.
     */
    async enrollBulkPage({ jobId, pageSize }: BulkPageRequest): Promise<BulkPageResult> {
      const context = Context.current();
      const job = await prisma.bulkEnrollment.findUnique({ where: { id: jobId } });
      if (!job) throw ApplicationFailure.nonRetryable(`Bulk enrollment ${jobId} does not exist.`, 'NotFoundError');
      if (job.status !== 'running') return { done: true, processed: 0 };

      const filter = SegmentFilterSchema.parse(job.filter);
      // One contact more than the page: without it, the last page is this one.
      const found = await prisma.contact.findMany({
        where: segmentPageWhere(filter, job.createdAt, job.cursor ? decodePosition(job.cursor) : null),
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: pageSize + 1,
        select: { id: true, createdAt: true },
      });
      const contacts = found.slice(0, pageSize);
      const lastPage = found.length <= pageSize;
      if (contacts.length === 0) {
        await prisma.bulkEnrollment.updateMany({ where: { id: jobId, status: 'running' }, data: { status: 'completed', finishedAt: new Date() } });
        return { done: true, processed: 0 };
      }

      let target: EnrollmentTarget;
      try {
        target = await loadEnrollmentTarget(prisma, job.sequenceId);
      } catch (error) {
        if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(error.message, 'NotFoundError');
        throw error;
      }
      const deps: EnrollDeps = { prisma, temporal: context.client, taskQueue: context.info.taskQueue };
      const requests = contacts.map(({ id: contactId }) => ({ sequenceId: job.sequenceId, contactId, source: 'bulk' as const, sourceRef: job.id, sourceKey: `bulk:${job.id}:${contactId}`, enrolledById: job.createdById }));
      const results = await enrollContacts(deps, target, requests, { concurrency: pageConcurrency, onSettled: () => context.heartbeat() });
      let enrolled = 0;
      const skipReasons: Partial<Record<EnrollmentRejection, number>> = {};
      const failures: Array<{ contactId: string; error: unknown }> = [];
      results.forEach((result, index) => {
        if (result.status === 'rejected') failures.push({ contactId: requests[index]!.contactId, error: result.reason });
        else if (result.value.status === 'rejected') skipReasons[result.value.reason] = (skipReasons[result.value.reason] ?? 0) + 1;
        else enrolled += 1;
      });
      if (failures.length > 0 && Date.now() - context.info.scheduledTimestampMs < retryFailuresForMs) {
        const [first] = failures;
        const reason = first!.error instanceof Error ? first!.error.message : String(first!.error);
        throw ApplicationFailure.retryable(`${failures.length} of ${contacts.length} enrollments of this page failed; first (contact ${first!.contactId}): ${reason}`, 'BulkPageIncomplete');
      }
      if (failures.length > 0) context.log.warn('bulk enrollment: contacts counted as failed', { jobId, contactIds: failures.map((failure) => failure.contactId) });

      const skipped = Object.values(skipReasons).reduce((sum, count) => sum + count, 0);
      const last = contacts[contacts.length - 1]!;
      const counted = await prisma.$executeRaw`
        UPDATE bulk_enrollments
           SET enrolled = enrolled + ${enrolled},
               skipped = skipped + ${skipped},
               failed = failed + ${failures.length},
               skip_reasons = skip_reasons || (
                 SELECT coalesce(jsonb_object_agg(reason.key, coalesce((skip_reasons ->> reason.key)::int, 0) + reason.value::int), '{}'::jsonb)
                   FROM jsonb_each_text(${JSON.stringify(skipReasons)}::jsonb) AS reason),
               cursor = ${encodePosition(last)},
               status = CASE WHEN ${lastPage} AND status = 'running' THEN 'completed' ELSE status END,
               finished_at = CASE WHEN ${lastPage} AND status = 'running' THEN now() ELSE finished_at END
         WHERE id = ${jobId}::uuid AND cursor IS NOT DISTINCT FROM ${job.cursor}`;
      return { done: lastPage && counted === 1, processed: counted === 1 ? contacts.length : 0 };
    },

    /** Marks a job that stopped early; one that completed or was already marked stays as it is. */
    async finishBulkEnrollment({ jobId, status }: { jobId: string; status: BulkJobEnd }): Promise<void> {
      await prisma.bulkEnrollment.updateMany({ where: { id: jobId, status: 'running' }, data: { status, finishedAt: new Date() } });
    },
  };
}
