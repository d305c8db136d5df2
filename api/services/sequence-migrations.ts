import type { Client } from '@temporalio/client';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors';
import { SequenceDefinitionSchema } from '../../domain/schemas/sequence';
import type { SequenceMigrationPreview, SequenceMigrationView } from '../../domain/schemas/enrollment';
import { planMigration, type StepMapping } from '../../domain/sequence-migration';
import { compileSequence, type SequenceProgram } from '../../domain/sequence-program';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import type { sequenceMigration } from '../../workflows/sequence-migration';
import { sequenceMigrationWorkflowId } from '../../workflows/workflow-ids';
import type { Principal } from '../middleware/auth';

export interface SequenceMigrationDeps {
  prisma: PrismaClient;
  temporal: Client;
  taskQueue: string;
}

export interface SequenceMigrationRequest {
  fromVersion: number;
  toVersion?: number | undefined;
  stepMap: Record<string, string>;
  dryRun: boolean;
}

type MigrationRow = Prisma.SequenceMigrationGetPayload<object>;

/** Enrollments per page of the job: each is one workflow update, 16 in flight at once. */
const pageSize = 200;
const liveStatuses = ['active', 'paused'];

/**
 * Checks the mapping between two published versions and, unless it is a dry run, starts the
 * job that moves every live enrollment of the old version (workflow `migrate-enrollments:{id}`).
 * One migration per sequence runs at a time, so each enrollment's version only moves forward
 * along one chain of mappings.
 */
export async function startSequenceMigration(
  deps: SequenceMigrationDeps,
  sequenceId: string,
  request: SequenceMigrationRequest,
  principal: Principal,
): Promise<{ preview: SequenceMigrationPreview } | { job: SequenceMigrationView }> {
  const sequence = await deps.prisma.sequence.findUnique({ where: { id: sequenceId } });
  if (!sequence) throw new NotFoundError('Sequence', sequenceId);
  const { fromVersion } = request;
  const toVersion = request.toVersion ?? sequence.publishedVersion;
  if (toVersion === null) throw new ValidationError([{ field: 'toVersion', message: 'the sequence has no published version to migrate to' }]);
  if (toVersion === fromVersion) throw new ValidationError([{ field: 'toVersion', message: `is fromVersion (v${fromVersion}); nothing would move` }]);
  const [from, to] = await Promise.all([publishedProgram(deps.prisma, sequenceId, fromVersion, 'fromVersion'), publishedProgram(deps.prisma, sequenceId, toVersion, 'toVersion')]);
  const plan = planMigration(from, to, request.stepMap, { from: fromVersion, to: toVersion });
  if (!plan.ok) throw new ValidationError(plan.errors, 'The step mapping leaves steps of the old version without a place in the new one.');

  const live = { sequenceId, version: fromVersion, status: { in: liveStatuses as Array<'active' | 'paused'> } };
  if (request.dryRun) {
    const groups = await deps.prisma.enrollment.groupBy({ by: ['currentStepKey'], where: live, _count: { _all: true } });
    const byStep = Object.fromEntries(groups.map((group) => [group.currentStepKey ?? '(start)', group._count._all]));
    return { preview: { fromVersion, toVersion, mapping: plan.mapping, matched: groups.reduce((sum, group) => sum + group._count._all, 0), byStep } };
  }

  const job = await deps.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM sequences WHERE id = ${sequenceId}::uuid FOR UPDATE`;
    const running = await tx.sequenceMigration.findFirst({ where: { sequenceId, status: 'running' }, select: { id: true } });
    if (running) throw new ConflictError(`Migration ${running.id} of this sequence is still running; start the next one when it has finished.`);
    const createdAt = new Date();
    const matched = await tx.enrollment.count({ where: { ...live, enrolledAt: { lte: createdAt } } });
    const created = await tx.sequenceMigration.create({ data: { sequenceId, fromVersion, toVersion, mapping: plan.mapping, matched, createdById: principal.userId, createdAt } });
    await tx.auditLog.create({
      data: {
        actorType: 'api_key', actorId: principal.apiKeyId, action: 'sequence.migration_started', entityType: 'sequence', entityId: sequenceId,
        after: { migrationId: created.id, fromVersion, toVersion, mapping: plan.mapping, matched },
      },
    });
    return created;
  });
  try {
    await deps.temporal.workflow.start<typeof sequenceMigration>('sequenceMigration', {
      workflowId: sequenceMigrationWorkflowId(job.id),
      taskQueue: deps.taskQueue,
      args: [{ migrationId: job.id, pageSize }],
    });
  } catch (error) {
    // No job may claim to run without its workflow.
    await deps.prisma.sequenceMigration.update({ where: { id: job.id }, data: { status: 'failed', finishedAt: new Date() } });
    throw error;
  }
  return { job: toMigrationView(job) };
}

export async function getSequenceMigration(prisma: PrismaClient, id: string): Promise<SequenceMigrationView> {
  const job = await prisma.sequenceMigration.findUnique({ where: { id } });
  if (!job) throw new NotFoundError('Sequence migration', id);
  return toMigrationView(job);
}

export async function listSequenceMigrations(prisma: PrismaClient, sequenceId: string): Promise<SequenceMigrationView[]> {
  if (!(await prisma.sequence.findUnique({ where: { id: sequenceId }, select: { id: true } }))) throw new NotFoundError('Sequence', sequenceId);
  const jobs = await prisma.sequenceMigration.findMany({ where: { sequenceId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 100 });
  return jobs.map(toMigrationView);
}

/** A published version's step layout (template pins do not matter for mapping keys). */
async function publishedProgram(prisma: PrismaClient, sequenceId: string, version: number, field: 'fromVersion' | 'toVersion'): Promise<SequenceProgram> {
  const row = await prisma.sequenceVersion.findUnique({ where: { sequenceId_version: { sequenceId, version } }, select: { status: true, definition: true } });
  if (!row) throw new ValidationError([{ field, message: `the sequence has no version ${version}` }]);
  if (row.status !== 'published') throw new ValidationError([{ field, message: `v${version} is a draft; only published versions run enrollments` }]);
  return compileSequence(SequenceDefinitionSchema.parse(row.definition).steps);
}

function toMigrationView(job: MigrationRow): SequenceMigrationView {
  return {
    id: job.id,
    sequenceId: job.sequenceId,
    fromVersion: job.fromVersion,
    toVersion: job.toVersion,
    mapping: job.mapping as StepMapping,
    status: job.status as SequenceMigrationView['status'],
    matched: job.matched,
    migrated: job.migrated,
    skipped: job.skipped,
    failed: job.failed,
    workflowId: sequenceMigrationWorkflowId(job.id),
    createdById: job.createdById,
    createdAt: job.createdAt.toISOString(),
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}
