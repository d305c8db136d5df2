import { NotFoundError } from '../../domain/errors';
import { missingRequiredFields, requiredFieldsError } from '../../domain/required-fields';
import type { LifecycleStage } from '../../domain/schemas/common';
import type { RequiredFieldRuleView } from '../../domain/schemas/required-fields';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import type { AuditContext } from './contacts';

/** A rule guards one lifecycle stage (contacts) or one pipeline stage (deals). */
export type RuleTarget = { lifecycleStage: LifecycleStage } | { stageId: string };

type RuleRow = Prisma.RequiredFieldRuleGetPayload<object>;

function view(row: RuleRow): RequiredFieldRuleView {
  return { id: row.id, lifecycleStage: row.lifecycleStage, stageId: row.stageId, fields: row.fields, updatedAt: row.updatedAt.toISOString() };
}

export async function listRequiredFieldRules(prisma: PrismaClient): Promise<RequiredFieldRuleView[]> {
  const rows = await prisma.requiredFieldRule.findMany({ orderBy: [{ lifecycleStage: 'asc' }, { createdAt: 'asc' }] });
  return rows.map(view);
}

export async function putRequiredFieldRule(prisma: PrismaClient, target: RuleTarget, fields: string[], audit: AuditContext): Promise<RequiredFieldRuleView> {
  return prisma.$transaction(async (tx) => {
    if ('stageId' in target && !(await tx.stage.findUnique({ where: { id: target.stageId }, select: { id: true } }))) throw new NotFoundError('Stage', target.stageId);
    const before = await tx.requiredFieldRule.findUnique({ where: target });
    const row = await tx.requiredFieldRule.upsert({ where: target, create: { ...target, fields, updatedById: audit.actorId }, update: { fields, updatedById: audit.actorId } });
    await tx.auditLog.create({
      data: {
        actorType: 'api_key', actorId: audit.actorId, action: 'required_fields.updated', entityType: 'required_field_rule', entityId: row.id,
        ...(before ? { before: { ...target, fields: before.fields } } : {}), after: { ...target, fields }, requestId: audit.requestId,
      },
    });
    return view(row);
  });
}

export async function deleteRequiredFieldRule(prisma: PrismaClient, target: RuleTarget, audit: AuditContext): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const before = await tx.requiredFieldRule.findUnique({ where: target });
    if (!before) throw new NotFoundError('Required field rule for', 'lifecycleStage' in target ? target.lifecycleStage : target.stageId);
    await tx.requiredFieldRule.delete({ where: { id: before.id } });
    await tx.auditLog.create({
      data: { actorType: 'api_key', actorId: audit.actorId, action: 'required_fields.deleted', entityType: 'required_field_rule', entityId: before.id, before: { ...target, fields: before.fields }, requestId: audit.requestId },
    });
  });
}

/** Refuses (422, every missing field named) a contact entering `stage` without what its rule requires. */
export async function assertLifecycleStageRequirements(tx: Prisma.TransactionClient, stage: LifecycleStage, record: Readonly<Record<string, unknown>>): Promise<void> {
  const rules = await tx.requiredFieldRule.findMany({ where: { lifecycleStage: stage }, select: { fields: true } });
  const missing = missingRequiredFields(rules, record);
  if (missing.length > 0) throw requiredFieldsError(missing, `a contact enters the ${stage} stage`);
}
