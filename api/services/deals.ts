import { ForbiddenError, NotFoundError, ValidationError, type FieldError } from '../../domain/errors';
import { amountProblem, formatAmount, toHundredths } from '../../domain/money';
import { missingRequiredFields, requiredFieldsError } from '../../domain/required-fields';
import type { DealCreate, DealListQuery, DealUpdate, DealView } from '../../domain/schemas/deal';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import type { Principal } from '../middleware/auth';
import type { Cursor } from '../pagination';
import type { WorkflowGateway } from '../workflow-gateway';
import type { AuditContext } from './contacts';
import { dealsInScope, inScope, ownerFilter, type DealScope } from './deal-access';
import type { RecordedStageChange } from './deal-signals';

const dealInclude = { stage: true } satisfies Prisma.DealInclude;
type DealRow = Prisma.DealGetPayload<{ include: typeof dealInclude }>;
type StageRow = Prisma.StageGetPayload<object>;

export interface DealActor extends AuditContext {
  principal: Principal;
  scope: DealScope;
}

export function toDealView(row: DealRow): DealView {
  return {
    id: row.id,
    name: row.name,
    amount: row.amount === null ? null : formatAmount(toHundredths(row.amount.toFixed(2)), row.currency),
    currency: row.currency,
    pipelineId: row.pipelineId,
    stage: { id: row.stage.id, name: row.stage.name, probability: row.stage.probability, isWon: row.stage.isWon, isLost: row.stage.isLost },
    status: row.status,
    ownerId: row.ownerId,
    contactId: row.contactId,
    companyId: row.companyId,
    expectedCloseDate: row.expectedCloseDate?.toISOString().slice(0, 10) ?? null,
    stageEnteredAt: row.stageEnteredAt.toISOString(),
    lastTouchAt: row.lastTouchAt.toISOString(),
    rotting: row.rotting,
    closedAt: row.closedAt?.toISOString() ?? null,
    lostReason: row.lostReason,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Newest first; the caller's scope always applies on top of the filters. */
export async function listDeals(prisma: PrismaClient, actor: Pick<DealActor, 'principal' | 'scope'>, query: DealListQuery, cursor: Cursor | undefined): Promise<DealView[]> {
  const owners = ownerFilter(actor.scope, actor.principal, query.ownerId);
  const rows = await prisma.deal.findMany({
    where: {
      deletedAt: null,
      ...(owners ? { ownerId: { in: owners } } : {}),
      ...(query.pipelineId ? { pipelineId: query.pipelineId } : {}),
      ...(query.stageId ? { stageId: query.stageId } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.rotting !== undefined ? { rotting: query.rotting } : {}),
      ...(query.contactId ? { contactId: query.contactId } : {}),
      ...(query.companyId ? { companyId: query.companyId } : {}),
      ...(cursor ? { OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
    include: dealInclude,
  });
  return rows.map(toDealView);
}

/** A deal the caller may see; one outside the scope is as missing as a deleted one. */
export async function findVisibleDeal(prisma: PrismaClient | Prisma.TransactionClient, scope: DealScope, id: string): Promise<DealRow> {
  const row = await prisma.deal.findFirst({ where: { id, deletedAt: null, ...dealsInScope(scope) }, include: dealInclude });
  if (!row) throw new NotFoundError('Deal', id);
  return row;
}

/**
 * Stores the deal with its first stage entry (a stage change from null, so time-in-stage and
 * the funnel see where it started). The workflow starts after the commit, for open deals.
 */
export async function createDeal(prisma: PrismaClient, input: DealCreate, actor: DealActor): Promise<DealView> {
  return prisma.$transaction(async (tx) => {
    const pipeline = await tx.pipeline.findFirst({ where: { id: input.pipelineId, archivedAt: null } });
    if (!pipeline) throw new ValidationError([{ field: 'pipelineId', message: 'is not a live pipeline' }]);
    const stage = input.stageId
      ? await stageForMove(tx, input.pipelineId, input.stageId)
      : await tx.stage.findFirstOrThrow({ where: { pipelineId: pipeline.id, archivedAt: null }, orderBy: { position: 'asc' } });
    const ownerId = input.ownerId ?? actor.principal.userId;
    if (!ownerId) throw new ValidationError([{ field: 'ownerId', message: 'is required: this API key acts for no user' }]);
    await assertReferences(tx, actor, { ownerId, contactId: input.contactId ?? null, companyId: input.companyId ?? null });
    const problems = [...lostReasonProblems(stage, input.lostReason), ...(await requiredFieldProblems(tx, stage, { ...input, ownerId }))];
    if (problems.length > 0) throw new ValidationError(problems);

    const now = new Date();
    const row = await tx.deal.create({
      data: {
        name: input.name,
        amount: input.amount ?? null,
        currency: input.currency,
        pipelineId: pipeline.id,
        stageId: stage.id,
        ownerId,
        contactId: input.contactId ?? null,
        companyId: input.companyId ?? null,
        expectedCloseDate: input.expectedCloseDate ? dateOnly(input.expectedCloseDate) : null,
        ...closingFields(stage, now, input.lostReason ?? null),
        stageEnteredAt: now,
        lastTouchAt: now,
      },
      include: dealInclude,
    });
    await tx.dealStageChange.create({ data: { dealId: row.id, fromStageId: null, toStageId: stage.id, changedAt: now, changedById: actor.principal.userId } });
    await recordAudit(tx, 'deal.created', row.id, null, auditImage(row), actor);
    return toDealView(row);
  });
}

/**
 * Applies a patch in one transaction with the deal locked, so concurrent moves line up and
 * each records the stage it really came from. A new stage records a DealStageChange (who, when,
 * from, to) and returns it for signalling; the same stage, or values equal to the stored ones,
 * write nothing at all.
 */
export async function updateDeal(prisma: PrismaClient, id: string, patch: DealUpdate, actor: DealActor): Promise<{ deal: DealView; stageChange: RecordedStageChange | null }> {
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM deals WHERE id = ${id}::uuid FOR UPDATE`;
    const before = await findVisibleDeal(tx, actor.scope, id);
    const target = patch.stageId !== undefined && patch.stageId !== before.stageId ? await stageForMove(tx, before.pipelineId, patch.stageId) : null;
    const stage = target ?? before.stage;
    await assertReferences(tx, actor, {
      ownerId: patch.ownerId ?? null,
      contactId: patch.contactId ?? null,
      companyId: patch.companyId ?? null,
    });

    const amount = patch.amount === undefined ? before.amount?.toFixed(2) ?? null : patch.amount;
    const currency = patch.currency ?? before.currency;
    const amountIssue = amount === null ? null : amountProblem(amount, currency);
    const problems: FieldError[] = [
      ...(amountIssue ? [{ field: patch.amount === undefined ? 'currency' : 'amount', message: amountIssue }] : []),
      ...lostReasonProblems(stage, patch.lostReason ?? undefined),
      ...(target ? await requiredFieldProblems(tx, target, { ...dealFields(before), ...patch }) : []),
    ];
    if (problems.length > 0) throw new ValidationError(problems);

    const changes = changedFields(before, patch);
    // A move to the stage the deal is in records nothing, but tells the workflow again of the
    // change that entered it: if the signal of the first attempt was lost after its commit, the
    // client's retry still gets the triggers fired (the workflow and the TriggerRun ledger
    // ignore a change they already handled).
    const repeated = !target && patch.stageId !== undefined ? await entryIntoCurrentStage(tx, before) : null;
    if (!target && Object.keys(changes).length === 0) return { deal: toDealView(before), stageChange: repeated };

    const now = new Date();
    const moveFields = target
      ? { stageId: target.id, stageEnteredAt: now, lastTouchAt: now, ...closingFields(target, now, patch.lostReason ?? null) }
      : {};
    const row = await tx.deal.update({ where: { id }, data: { ...changes, ...moveFields }, include: dealInclude });

    let stageChange: RecordedStageChange | null = repeated;
    if (target) {
      const change = await tx.dealStageChange.create({ data: { dealId: id, fromStageId: before.stageId, toStageId: target.id, changedAt: now, changedById: actor.principal.userId } });
      await recordAudit(tx, 'deal.stage_changed', id, { stageId: before.stageId, status: before.status }, { stageId: target.id, status: row.status, stageChangeId: change.id }, actor);
      stageChange = {
        dealId: id,
        dealIsOpen: row.status === 'open',
        change: { stageChangeId: change.id, fromStageId: before.stageId, toStageId: target.id, at: now.toISOString(), byUserId: actor.principal.userId },
      };
    }
    if (Object.keys(changes).length > 0) await recordAudit(tx, 'deal.updated', id, pick(auditImage(before), changes), pick(auditImage(row), changes), actor);
    return { deal: toDealView(row), stageChange };
  });
}

async function entryIntoCurrentStage(tx: Prisma.TransactionClient, deal: { id: string; stageId: string; status: string }): Promise<RecordedStageChange | null> {
  const change = await tx.dealStageChange.findFirst({ where: { dealId: deal.id, toStageId: deal.stageId }, orderBy: { changedAt: 'desc' } });
  if (!change) return null;
  return {
    dealId: deal.id,
    dealIsOpen: deal.status === 'open',
    change: { stageChangeId: change.id, fromStageId: change.fromStageId, toStageId: change.toStageId, at: change.changedAt.toISOString(), byUserId: change.changedById },
  };
}

/** Soft delete: the deal leaves lists and reports, its open tasks are cancelled. */
export async function deleteDeal(prisma: PrismaClient, id: string, actor: DealActor): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM deals WHERE id = ${id}::uuid FOR UPDATE`;
    const before = await findVisibleDeal(tx, actor.scope, id);
    await tx.deal.update({ where: { id }, data: { deletedAt: new Date() } });
    await tx.task.updateMany({ where: { dealId: id, status: 'open' }, data: { status: 'cancelled' } });
    await recordAudit(tx, 'deal.deleted', id, auditImage(before), null, actor);
  });
}

/**
 * A new deal is a goal for sequences that exit on `deal_created`: each running enrollment of
 * the deal's contact is told, with the deal id as the event id (a repeat is ignored).
 */
export async function notifyEnrollmentsOfNewDeal(prisma: PrismaClient, gateway: WorkflowGateway, deal: Pick<DealView, 'id' | 'contactId'>): Promise<void> {
  if (!deal.contactId) return;
  const enrollments = await prisma.enrollment.findMany({ where: { contactId: deal.contactId, status: { in: ['active', 'paused'] } }, select: { workflowId: true } });
  await Promise.all(enrollments.map((enrollment) => gateway.signalEnrollmentEvent(enrollment.workflowId, { eventId: deal.id, kind: 'deal_created' })));
}

/** A stage a deal of this pipeline may move to: live, of the same pipeline, which is live too. */
async function stageForMove(tx: Prisma.TransactionClient, pipelineId: string, stageId: string): Promise<StageRow> {
  const stage = await tx.stage.findUnique({ where: { id: stageId }, include: { pipeline: { select: { archivedAt: true } } } });
  if (!stage) throw new ValidationError([{ field: 'stageId', message: 'is not a stage' }]);
  if (stage.pipelineId !== pipelineId) throw new ValidationError([{ field: 'stageId', message: `is a stage of another pipeline (${stage.pipelineId}); a deal moves only within its pipeline ${pipelineId}` }]);
  if (stage.archivedAt) throw new ValidationError([{ field: 'stageId', message: `stage "${stage.name}" was removed from the pipeline` }]);
  if (stage.pipeline.archivedAt) throw new ValidationError([{ field: 'stageId', message: 'belongs to an archived pipeline, whose deals no longer move' }]);
  return stage;
}

/** Status, close time and lost reason follow the stage: won/lost close the deal, open reopens it. */
function closingFields(stage: StageRow, now: Date, lostReason: string | null) {
  if (stage.isWon) return { status: 'won' as const, closedAt: now, lostReason: null };
  if (stage.isLost) return { status: 'lost' as const, closedAt: now, lostReason };
  return { status: 'open' as const, closedAt: null, lostReason: null };
}

function lostReasonProblems(stage: StageRow, lostReason: string | null | undefined): FieldError[] {
  return lostReason && !stage.isLost ? [{ field: 'lostReason', message: `only for a lost deal; stage "${stage.name}" is not the lost stage` }] : [];
}

/** The fields that sales ops require before a deal enters this stage and that the deal leaves empty. */
async function requiredFieldProblems(tx: Prisma.TransactionClient, stage: StageRow, deal: Record<string, unknown>): Promise<FieldError[]> {
  const rules = await tx.requiredFieldRule.findMany({ where: { stageId: stage.id }, select: { fields: true } });
  const missing = missingRequiredFields(rules, deal);
  return missing.length > 0 ? requiredFieldsError(missing, `entering stage "${stage.name}"`).errors : [];
}

/** Owner, contact and company must exist; the owner must also be within the caller's scope. */
async function assertReferences(tx: Prisma.TransactionClient, actor: Pick<DealActor, 'principal' | 'scope'>, refs: { ownerId: string | null; contactId: string | null; companyId: string | null }): Promise<void> {
  const problems: FieldError[] = [];
  if (refs.ownerId) {
    if (!inScope(actor.scope, refs.ownerId)) {
      throw new ForbiddenError(actor.principal.role === 'rep' ? 'Reps own the deals they create and change; reassigning is for managers and sales ops.' : 'Managers give deals to themselves or their reports only.');
    }
    const owner = await tx.user.findFirst({ where: { id: refs.ownerId, active: true }, select: { id: true } });
    if (!owner) problems.push({ field: 'ownerId', message: 'is not an active user' });
  }
  if (refs.contactId && !(await tx.contact.findFirst({ where: { id: refs.contactId, deletedAt: null }, select: { id: true } }))) {
    problems.push({ field: 'contactId', message: 'is not an existing contact' });
  }
  if (refs.companyId && !(await tx.company.findFirst({ where: { id: refs.companyId, deletedAt: null }, select: { id: true } }))) {
    problems.push({ field: 'companyId', message: 'is not an existing company' });
  }
  if (problems.length > 0) throw new ValidationError(problems);
}

/** The fields of the patch (other than the stage) whose value differs from the stored one. */
function changedFields(before: DealRow, patch: DealUpdate): Prisma.DealUncheckedUpdateInput {
  const stored = dealFields(before);
  const wanted: Record<string, string | null | undefined> = {
    name: patch.name,
    amount: patch.amount,
    currency: patch.currency,
    ownerId: patch.ownerId,
    contactId: patch.contactId,
    companyId: patch.companyId,
    expectedCloseDate: patch.expectedCloseDate,
    // A move sets the lost reason with the stage; without a move it edits the reason.
    ...(patch.stageId === undefined || patch.stageId === before.stageId ? { lostReason: patch.lostReason } : {}),
  };
  const changes: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(wanted)) {
    if (value === undefined || value === stored[field as keyof typeof stored]) continue;
    if (field === 'amount' && value !== null && stored.amount !== null && toHundredths(value) === toHundredths(stored.amount)) continue;
    changes[field] = field === 'expectedCloseDate' && value !== null ? dateOnly(value) : value;
  }
  // The keys are those of `wanted`, each a Deal column with a value of its type.
  return changes as Prisma.DealUncheckedUpdateInput;
}

/** The deal's editable fields as the API writes them. */
function dealFields(row: DealRow) {
  return {
    name: row.name,
    amount: row.amount?.toFixed(2) ?? null,
    currency: row.currency,
    ownerId: row.ownerId,
    contactId: row.contactId,
    companyId: row.companyId,
    expectedCloseDate: row.expectedCloseDate?.toISOString().slice(0, 10) ?? null,
    lostReason: row.lostReason,
  };
}

function auditImage(row: DealRow): Record<string, unknown> {
  return { ...dealFields(row), pipelineId: row.pipelineId, stageId: row.stageId, status: row.status };
}

function pick(image: Record<string, unknown>, fields: object): Record<string, unknown> {
  return Object.fromEntries(Object.keys(fields).map((field) => [field, image[field] ?? null]));
}

function dateOnly(date: string): Date {
  return new Date(`${date}T00:00:00.000Z`);
}

async function recordAudit(tx: Prisma.TransactionClient, action: string, id: string, before: object | null, after: object | null, audit: AuditContext): Promise<void> {
  await tx.auditLog.create({
    data: { actorType: 'api_key', actorId: audit.actorId, action, entityType: 'deal', entityId: id, ...(before ? { before } : {}), ...(after ? { after } : {}), requestId: audit.requestId },
  });
}

