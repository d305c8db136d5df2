import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../../domain/errors';
import type { StageDraft } from '../../domain/pipeline-rules';
import type { PipelineCreate, PipelineUpdate, PipelineView } from '../../domain/schemas/pipeline';
import { Prisma, type PrismaClient } from '../../runtime/prisma';
import type { AuditContext } from './contacts';
import type { RecordedStageChange } from './deal-signals';

type StageRow = Prisma.StageGetPayload<object>;
type PipelineRow = Prisma.PipelineGetPayload<{ include: { stages: true } }>;

const liveStages = { where: { archivedAt: null }, orderBy: { position: 'asc' } } satisfies Prisma.Pipeline$stagesArgs;

export interface PipelineActor extends AuditContext {
  /** The user the stage changes of remapped deals are recorded for (null: a service key). */
  userId: string | null;
}

export async function listPipelines(prisma: PrismaClient, includeArchived: boolean): Promise<PipelineView[]> {
  const rows = await prisma.pipeline.findMany({
    where: includeArchived ? {} : { archivedAt: null },
    include: { stages: liveStages },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  const counts = await openDealCounts(prisma, rows.flatMap((row) => row.stages.map((stage) => stage.id)));
  return rows.map((row) => toPipelineView(row, counts));
}

export async function getPipeline(prisma: PrismaClient | Prisma.TransactionClient, id: string): Promise<PipelineView> {
  const row = await prisma.pipeline.findUnique({ where: { id }, include: { stages: liveStages } });
  if (!row) throw new NotFoundError('Pipeline', id);
  return toPipelineView(row, await openDealCounts(prisma, row.stages.map((stage) => stage.id)));
}

export async function createPipeline(prisma: PrismaClient, input: PipelineCreate, audit: AuditContext): Promise<PipelineView> {
  return withNameConflicts(input.name, () =>
    prisma.$transaction(async (tx) => {
      const row = await tx.pipeline.create({
        data: { name: input.name, stages: { create: input.stages.map((stage, index) => ({ ...stageFields(stage), position: index + 1 })) } },
        include: { stages: liveStages },
      });
      await recordAudit(tx, 'pipeline.created', row.id, null, { name: row.name, stages: row.stages.map(stageImage) }, audit);
      return toPipelineView(row, new Map());
    }),
  );
}

/**
 * Renames the pipeline and/or replaces its stage list, in one transaction with the pipeline
 * locked. Kept stages keep their ids (so their deals, triggers and history stay attached);
 * removed stages are archived, and their open deals move to the mapped stage, each move
 * recorded as a stage change by the caller. Closed deals keep the removed stage as history.
 * Returns the recorded moves, which the caller signals after the commit.
 */
export async function updatePipeline(
  prisma: PrismaClient,
  id: string,
  patch: PipelineUpdate,
  actor: PipelineActor,
): Promise<{ pipeline: PipelineView; moves: RecordedStageChange[] }> {
  return withNameConflicts(patch.name ?? '', () =>
    prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM pipelines WHERE id = ${id}::uuid FOR UPDATE`;
      const before = await tx.pipeline.findUnique({ where: { id }, include: { stages: liveStages } });
      if (!before) throw new NotFoundError('Pipeline', id);
      if (before.archivedAt) throw new ConflictError(`Pipeline ${id} is archived; it takes no changes.`);

      if (patch.name !== undefined && patch.name !== before.name) await tx.pipeline.update({ where: { id }, data: { name: patch.name } });
      const moves = patch.stages ? await replaceStages(tx, before, patch.stages, patch.stageMapping ?? {}, actor) : [];
      // The row's updated_at moves with any change, stages included.
      await tx.pipeline.update({ where: { id }, data: { updatedAt: new Date() } });

      const after = await getPipeline(tx, id);
      await recordAudit(
        tx,
        'pipeline.updated',
        id,
        { name: before.name, stages: before.stages.map(stageImage) },
        { name: after.name, stages: after.stages.map(stageImage), movedDeals: moves.length },
        actor,
      );
      return { pipeline: after, moves };
    }),
  );
}

/** Archives a pipeline that holds no open deals; it stays readable as history. */
export async function archivePipeline(prisma: PrismaClient, id: string, audit: AuditContext): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM pipelines WHERE id = ${id}::uuid FOR UPDATE`;
    const pipeline = await tx.pipeline.findUnique({ where: { id } });
    if (!pipeline || pipeline.archivedAt) throw new NotFoundError('Pipeline', id);
    const open = await tx.deal.count({ where: { pipelineId: id, status: 'open', deletedAt: null } });
    if (open > 0) throw new ConflictError(`Pipeline "${pipeline.name}" still has ${open} open deal${open === 1 ? '' : 's'}; win, lose or delete them first.`);
    await tx.pipeline.update({ where: { id }, data: { archivedAt: new Date() } });
    await recordAudit(tx, 'pipeline.archived', id, { name: pipeline.name }, null, audit);
  });
}

async function replaceStages(
  tx: Prisma.TransactionClient,
  pipeline: PipelineRow,
  drafts: NonNullable<PipelineUpdate['stages']>,
  mapping: Record<string, string>,
  actor: PipelineActor,
): Promise<RecordedStageChange[]> {
  const current = new Map(pipeline.stages.map((stage) => [stage.id, stage]));
  const kept = new Set(drafts.flatMap((draft) => (draft.id ? [draft.id] : [])));
  const removed = pipeline.stages.filter((stage) => !kept.has(stage.id));
  const dealCounts = await tx.deal.groupBy({
    by: ['stageId', 'status'],
    where: { stageId: { in: pipeline.stages.map((stage) => stage.id) }, deletedAt: null },
    _count: { _all: true },
  });
  const countOf = (stageId: string, open: boolean) =>
    dealCounts.filter((row) => row.stageId === stageId && (row.status === 'open') === open).reduce((sum, row) => sum + row._count._all, 0);

  const problems: FieldError[] = [];
  drafts.forEach((draft, index) => {
    if (!draft.id) return;
    const stage = current.get(draft.id);
    if (!stage) {
      problems.push({ field: `stages/${index}/id`, message: 'is not a live stage of this pipeline; leave the id out to add a new stage' });
      return;
    }
    // Flipping won/lost under existing deals would leave open deals in a closed stage, or closed ones in an open stage.
    for (const flag of ['isWon', 'isLost'] as const) {
      const deals = countOf(stage.id, true) + countOf(stage.id, false);
      if (draft[flag] !== stage[flag] && deals > 0) problems.push({ field: `stages/${index}/${flag}`, message: `cannot change while stage "${stage.name}" holds ${deals} deal${deals === 1 ? '' : 's'}` });
    }
  });
  const openTargets = new Set(drafts.flatMap((draft) => (draft.id && !draft.isWon && !draft.isLost ? [draft.id] : [])));
  for (const [from, to] of Object.entries(mapping)) {
    if (!removed.some((stage) => stage.id === from)) problems.push({ field: `stageMapping/${from}`, message: 'is not a stage this change removes' });
    else if (!openTargets.has(to)) problems.push({ field: `stageMapping/${from}`, message: 'must map to an open stage that this pipeline keeps (one listed with its id)' });
  }
  for (const stage of removed) {
    const open = countOf(stage.id, true);
    if (open > 0 && !mapping[stage.id]) {
      problems.push({ field: `stageMapping/${stage.id}`, message: `stage "${stage.name}" has ${open} open deal${open === 1 ? '' : 's'}; map it to a kept open stage` });
    }
  }
  if (problems.length > 0) throw new ValidationError(problems, 'The new stage list would break open deals or does not match this pipeline.');

  const now = new Date();
  if (removed.length > 0) await tx.stage.updateMany({ where: { id: { in: removed.map((stage) => stage.id) } }, data: { archivedAt: now } });
  // Live positions and names are unique, so kept stages step aside first; a swap of two names
  // or positions would otherwise collide halfway.
  await tx.$executeRaw`UPDATE stages SET position = -position, name = id::text WHERE pipeline_id = ${pipeline.id}::uuid AND archived_at IS NULL`;
  for (const [index, draft] of drafts.entries()) {
    const data = { ...stageFields(draft), position: index + 1 };
    if (draft.id) await tx.stage.update({ where: { id: draft.id }, data });
    else await tx.stage.create({ data: { ...data, pipelineId: pipeline.id } });
  }
  return remapOpenDeals(tx, mapping, now, actor);
}

/**
 * Moves the open deals of removed stages in two set-based statements, each move recorded as a
 * stage change (and in the audit log) exactly as a PATCH of the deal would record it.
 */
async function remapOpenDeals(tx: Prisma.TransactionClient, mapping: Record<string, string>, at: Date, actor: PipelineActor): Promise<RecordedStageChange[]> {
  const from = Object.keys(mapping);
  if (from.length === 0) return [];
  const to = from.map((stageId) => mapping[stageId]!);
  const rows = await tx.$queryRaw<Array<{ id: string; deal_id: string; from_stage_id: string; to_stage_id: string }>>`
    WITH moved AS (
      UPDATE deals d
         SET stage_id = m.to_id, stage_entered_at = ${at}, last_touch_at = GREATEST(d.last_touch_at, ${at}), updated_at = ${at}
        FROM unnest(${from}::uuid[], ${to}::uuid[]) AS m(from_id, to_id)
       WHERE d.stage_id = m.from_id AND d.status = 'open' AND d.deleted_at IS NULL
      RETURNING d.id, m.from_id, m.to_id
    ), changes AS (
      INSERT INTO deal_stage_changes (id, deal_id, from_stage_id, to_stage_id, changed_at, changed_by_id)
      SELECT gen_random_uuid(), id, from_id, to_id, ${at}, ${actor.userId}::uuid FROM moved
      RETURNING id, deal_id, from_stage_id, to_stage_id
    ), audit AS (
      INSERT INTO audit_log (id, actor_type, actor_id, action, entity_type, entity_id, before, after, request_id, at)
      SELECT gen_random_uuid(), 'api_key', ${actor.actorId}, 'deal.stage_changed', 'deal', deal_id::text,
             jsonb_build_object('stageId', from_stage_id),
             jsonb_build_object('stageId', to_stage_id, 'stageChangeId', id, 'reason', 'stage removed from pipeline'),
             ${actor.requestId}, ${at}
        FROM changes
    )
    SELECT id, deal_id, from_stage_id, to_stage_id FROM changes`;
  return rows.map((row) => ({
    dealId: row.deal_id,
    dealIsOpen: true,
    change: { stageChangeId: row.id, fromStageId: row.from_stage_id, toStageId: row.to_stage_id, at: at.toISOString(), byUserId: actor.userId },
  }));
}

function stageFields(stage: StageDraft) {
  return { name: stage.name, probability: stage.probability, idleLimitDays: stage.idleLimitDays, isWon: stage.isWon, isLost: stage.isLost };
}

function stageImage(stage: Pick<StageRow, 'id' | 'name' | 'probability' | 'idleLimitDays' | 'isWon' | 'isLost'>) {
  return { id: stage.id, name: stage.name, probability: stage.probability, idleLimitDays: stage.idleLimitDays, isWon: stage.isWon, isLost: stage.isLost };
}

async function openDealCounts(prisma: PrismaClient | Prisma.TransactionClient, stageIds: string[]): Promise<Map<string, number>> {
  if (stageIds.length === 0) return new Map();
  const rows = await prisma.deal.groupBy({ by: ['stageId'], where: { stageId: { in: stageIds }, status: 'open', deletedAt: null }, _count: { _all: true } });
  return new Map(rows.map((row) => [row.stageId, row._count._all]));
}

function toPipelineView(row: PipelineRow, openDeals: Map<string, number>): PipelineView {
  return {
    id: row.id,
    name: row.name,
    stages: row.stages.map((stage) => ({
      id: stage.id,
      name: stage.name,
      position: stage.position,
      probability: stage.probability,
      idleLimitDays: stage.idleLimitDays,
      isWon: stage.isWon,
      isLost: stage.isLost,
      openDeals: openDeals.get(stage.id) ?? 0,
    })),
    archivedAt: row.archivedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

async function recordAudit(tx: Prisma.TransactionClient, action: string, id: string, before: object | null, after: object | null, audit: AuditContext): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorType: 'api_key',
      actorId: audit.actorId,
      action,
      entityType: 'pipeline',
      entityId: id,
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
      requestId: audit.requestId,
    },
  });
}

/** The live-name unique index answers a taken name, also when two requests race for it. */
async function withNameConflicts<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new ConflictError(`A pipeline named "${name}" already exists.`, [{ field: 'name', message: 'is taken by another pipeline' }]);
    }
    throw error;
  }
}
