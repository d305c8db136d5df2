import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { enrollContact, loadEnrollmentTarget, PreviousRunOpenError, type EnrollDeps } from '../../activities/enrollments';
import { segmentWhere } from '../../activities/segments';
import { ConflictError, NotFoundError } from '../../domain/errors';
import type { SegmentFilter } from '../../domain/segment';
import type { BulkEnrollmentView, EnrollmentView } from '../../domain/schemas/enrollment';
import type { StopReason } from '../../domain/schemas/sequence';
import { Prisma, type PrismaClient } from '../../runtime/prisma';
import type { bulkEnrollment } from '../../workflows/bulk-enrollment';
import { bulkEnrollmentWorkflowType, pauseUpdate, progressQuery, resumeUpdate, unenrollSignal, type EnrollmentProgress } from '../../workflows/enrollment-messages';
import { bulkEnrollmentWorkflowId } from '../../workflows/workflow-ids';
import { HttpProblem } from '../problem';
import type { Cursor } from '../pagination';
import type { Principal } from '../middleware/auth';

export interface EnrollmentServiceDeps extends EnrollDeps {
  bulkPageSize: number;
}

type EnrollmentRow = Prisma.EnrollmentGetPayload<object>;
type BulkRow = Prisma.BulkEnrollmentGetPayload<object>;

const liveStatuses = ['active', 'paused'] as const;
const progressTimeoutMs = 2_000;

/**
 * One contact into a sequence through the same path as every other enrollment
 * (activities/enrollments.ts). With an Idempotency-Key, the key (scoped to the API key) is the
 * enrollment's sourceKey, so a retry after a crash finds the enrollment it made and starts its
 * workflow if the crash came first.
 */
export async function enrollOne(deps: EnrollmentServiceDeps, sequenceId: string, contactId: string, principal: Principal, idempotencyKey: string | undefined): Promise<EnrollmentView> {
  const result = await enrollContact(deps, {
    sequenceId,
    contactId,
    source: 'api',
    sourceRef: `api_key:${principal.apiKeyId}`,
    sourceKey: idempotencyKey ? `api:${principal.apiKeyId}:${idempotencyKey}` : null,
    enrolledById: principal.userId,
  }).catch((error: unknown) => {
    if (error instanceof PreviousRunOpenError) {
      throw new HttpProblem(409, 'conflict', 'The request conflicts with the current state.', `${error.message} The enrollment was recorded; sending the request again starts it.`, [], { 'Retry-After': '5' });
    }
    throw error;
  });
  if (result.status === 'rejected') {
    const { reason, detail, enrollmentId } = result;
    if (reason === 'active') {
      throw new HttpProblem(409, 'conflict', 'The request conflicts with the current state.', detail, [{ field: 'contactId', message: 'is already in this sequence' }], {}, { reason, enrollmentId });
    }
    throw new HttpProblem(422, 'enrollment-rejected', 'The contact cannot be enrolled in this sequence.', detail, [{ field: 'contactId', message: detail }], {}, { reason });
  }
  return toEnrollmentView(await deps.prisma.enrollment.findUniqueOrThrow({ where: { id: result.enrollmentId } }));
}

export async function listEnrollments(prisma: PrismaClient, sequenceId: string, query: { limit: number; status?: EnrollmentView['status'] | undefined }, cursor: Cursor | undefined): Promise<EnrollmentView[]> {
  await assertSequence(prisma, sequenceId);
  const rows = await prisma.enrollment.findMany({
    where: {
      sequenceId,
      ...(query.status ? { status: query.status } : {}),
      ...(cursor ? { OR: [{ enrolledAt: { lt: cursor.at } }, { enrolledAt: cursor.at, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ enrolledAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  return rows.map(toEnrollmentView);
}

/** The row, every step it executed and, while it runs, the workflow's own view of where it is. */
export async function getEnrollment(deps: Pick<EnrollDeps, 'prisma' | 'temporal'>, id: string) {
  const row = await deps.prisma.enrollment.findUnique({ where: { id }, include: { steps: { orderBy: [{ at: 'asc' }, { id: 'asc' }] } } });
  if (!row) throw new NotFoundError('Enrollment', id);
  const live = (liveStatuses as readonly string[]).includes(row.status);
  return {
    ...toEnrollmentView(row),
    steps: row.steps.map((step) => ({
      stepKey: step.stepKey,
      stepType: step.stepType,
      visit: step.visit,
      outcome: step.outcome,
      variant: step.variant,
      messageId: step.messageId,
      taskId: step.taskId,
      detail: step.detail as Record<string, unknown>,
      at: step.at.toISOString(),
    })),
    progress: live ? await liveProgress(deps.temporal, row) : null,
  };
}

/** Null when the workflow is gone, belongs to another enrollment of the pair, or does not answer in time (no worker). */
async function liveProgress(temporal: Client, row: EnrollmentRow): Promise<EnrollmentProgress | null> {
  try {
    const progress = await temporal.withDeadline(Date.now() + progressTimeoutMs, () => temporal.workflow.getHandle(row.workflowId).query(progressQuery));
    return progress.enrollmentId === row.id ? progress : null;
  } catch {
    return null;
  }
}

/**
 * Asks the running workflow to end the enrollment (it records the stop itself, so the answer
 * is 202 and the row shows the end a moment later). An enrollment whose workflow is not
 * running (it never started, or died) is ended here directly.
 */
export async function unenroll(deps: Pick<EnrollDeps, 'prisma' | 'temporal'>, id: string, reason: string, principal: Principal): Promise<EnrollmentView> {
  const row = await deps.prisma.enrollment.findUnique({ where: { id } });
  if (!row) throw new NotFoundError('Enrollment', id);
  if (!(liveStatuses as readonly string[]).includes(row.status)) {
    throw new ConflictError(`The enrollment already ended (${row.status}${row.stopReason ? `, ${row.stopReason}` : ''}).`);
  }
  const handle = deps.temporal.workflow.getHandle(row.workflowId);
  const running = await handle.describe().then(
    (description) => description.status.name === 'RUNNING' && description.memo?.enrollmentId === row.id,
    (error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    },
  );
  if (running) {
    await handle.signal(unenrollSignal, { reason, byUserId: principal.userId });
    return toEnrollmentView(row);
  }
  const stopReason: StopReason = 'unenrolled';
  await deps.prisma.enrollment.updateMany({
    where: { id, status: { in: [...liveStatuses] } },
    data: { status: 'exited', activeKey: null, stopReason, stopDetail: reason, endedAt: new Date() },
  });
  return toEnrollmentView(await deps.prisma.enrollment.findUniqueOrThrow({ where: { id } }));
}

/**
 * Pauses or resumes through the workflow's update, which writes the status before it answers:
 * a paused enrollment runs no step (its timers keep counting) until it is resumed. Pausing a
 * paused enrollment changes nothing. 409 when it ended or its workflow is not running.
 */
export async function setEnrollmentPaused(deps: Pick<EnrollDeps, 'prisma' | 'temporal'>, id: string, paused: boolean, principal: Principal) {
  const row = await deps.prisma.enrollment.findUnique({ where: { id } });
  if (!row) throw new NotFoundError('Enrollment', id);
  const ended = () => new ConflictError(`The enrollment already ended (${row.status}${row.stopReason ? `, ${row.stopReason}` : ''}).`);
  if (!(liveStatuses as readonly string[]).includes(row.status)) throw ended();
  try {
    await deps.temporal.workflow.getHandle(row.workflowId).executeUpdate(paused ? pauseUpdate : resumeUpdate, { args: [{ byUserId: principal.userId }] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) throw ended();
    if (error instanceof WorkflowNotFoundError) throw new ConflictError('The enrollment\'s workflow is not running; unenroll it instead.');
    throw error;
  }
  if (row.status !== (paused ? 'paused' : 'active')) {
    await deps.prisma.auditLog.create({
      data: { actorType: 'api_key', actorId: principal.apiKeyId, action: paused ? 'enrollment.paused' : 'enrollment.resumed', entityType: 'enrollment', entityId: id, before: { status: row.status }, after: { status: paused ? 'paused' : 'active' } },
    });
  }
  return getEnrollment(deps, id);
}

/**
 * Counts the segment as it is now, writes the job and starts its workflow. Only contacts that
 * exist now are enrolled (the job's creation time bounds the walk). If the start fails the job
 * is marked failed, so no job claims to run without a workflow.
 */
export async function startBulkEnrollment(deps: EnrollmentServiceDeps, sequenceId: string, filter: SegmentFilter, principal: Principal): Promise<BulkEnrollmentView> {
  const { sequence } = await loadEnrollmentTarget(deps.prisma, sequenceId);
  const refusal = sequence.archivedAt ? 'archived' : sequence.publishedVersion === null ? 'unpublished' : null;
  if (refusal) {
    const detail = refusal === 'archived' ? `The sequence "${sequence.name}" is archived and takes no new enrollments.` : `The sequence "${sequence.name}" has no published version yet.`;
    throw new HttpProblem(422, 'enrollment-rejected', 'The segment cannot be enrolled in this sequence.', detail, [], {}, { reason: refusal });
  }
  const now = new Date();
  const matched = await deps.prisma.contact.count({ where: { AND: [segmentWhere(filter), { createdAt: { lte: now } }] } });
  const job = await deps.prisma.bulkEnrollment.create({
    data: { sequenceId, filter: filter as Prisma.InputJsonObject, matched, createdById: principal.userId, createdAt: now },
  });
  try {
    await deps.temporal.workflow.start<typeof bulkEnrollment>(bulkEnrollmentWorkflowType, {
      workflowId: bulkEnrollmentWorkflowId(job.id),
      taskQueue: deps.taskQueue,
      args: [{ jobId: job.id, pageSize: deps.bulkPageSize }],
      // Ahead of everything else on the task queue (the default key is 3), its pages included:
      // the enrollments each page starts must not hold up the next page behind their own work.
      priority: { priorityKey: 1 },
    });
  } catch (error) {
    await deps.prisma.bulkEnrollment.update({ where: { id: job.id }, data: { status: 'failed', finishedAt: new Date() } });
    throw error;
  }
  return toBulkView(job);
}

export async function getBulkEnrollment(prisma: PrismaClient, id: string): Promise<BulkEnrollmentView> {
  const job = await prisma.bulkEnrollment.findUnique({ where: { id } });
  if (!job) throw new NotFoundError('Bulk enrollment', id);
  return toBulkView(job);
}

export async function listBulkEnrollments(prisma: PrismaClient, sequenceId: string): Promise<BulkEnrollmentView[]> {
  await assertSequence(prisma, sequenceId);
  const jobs = await prisma.bulkEnrollment.findMany({ where: { sequenceId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 100 });
  return jobs.map(toBulkView);
}

/** Cancels the job's workflow: the page under way finishes and is counted, then the job is marked cancelled. */
export async function cancelBulkEnrollment(deps: Pick<EnrollDeps, 'prisma' | 'temporal'>, id: string): Promise<BulkEnrollmentView> {
  const job = await getBulkEnrollment(deps.prisma, id);
  if (job.status !== 'running') throw new ConflictError(`The bulk enrollment already ended (${job.status}).`);
  try {
    await deps.temporal.workflow.getHandle(job.workflowId).cancel();
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    // No workflow to stop (its start failed after the row was written): the row is all there is.
    await deps.prisma.bulkEnrollment.updateMany({ where: { id, status: 'running' }, data: { status: 'cancelled', finishedAt: new Date() } });
  }
  return getBulkEnrollment(deps.prisma, id);
}

async function assertSequence(prisma: PrismaClient, id: string): Promise<void> {
  if (!(await prisma.sequence.findUnique({ where: { id }, select: { id: true } }))) throw new NotFoundError('Sequence', id);
}

export function toEnrollmentView(row: EnrollmentRow): EnrollmentView {
  return {
    id: row.id,
    sequenceId: row.sequenceId,
    version: row.version,
    contactId: row.contactId,
    status: row.status,
    source: row.source,
    sourceRef: row.sourceRef,
    enrolledById: row.enrolledById,
    workflowId: row.workflowId,
    currentStepKey: row.currentStepKey,
    variants: row.variants as Record<string, string>,
    stopReason: row.stopReason as StopReason | null,
    stopDetail: row.stopDetail,
    converted: row.converted,
    enrolledAt: row.enrolledAt.toISOString(),
    endedAt: row.endedAt?.toISOString() ?? null,
  };
}

function toBulkView(job: BulkRow): BulkEnrollmentView {
  return {
    id: job.id,
    sequenceId: job.sequenceId,
    filter: job.filter as SegmentFilter,
    status: job.status as BulkEnrollmentView['status'],
    matched: job.matched,
    processed: job.enrolled + job.skipped + job.failed,
    enrolled: job.enrolled,
    skipped: job.skipped,
    skipReasons: job.skipReasons as BulkEnrollmentView['skipReasons'],
    failed: job.failed,
    workflowId: bulkEnrollmentWorkflowId(job.id),
    createdById: job.createdById,
    createdAt: job.createdAt.toISOString(),
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}
