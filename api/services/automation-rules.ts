import type { z } from 'zod';
import { NotFoundError, ValidationError } from '../../domain/errors';
import type { LifecycleStage } from '../../domain/schemas/common';
import { LifecycleRuleCreateSchema, type LifecycleRuleView } from '../../domain/schemas/lifecycle';
import { ScoringRuleCreateSchema, type EventMatch, type ScoringRuleView } from '../../domain/schemas/scoring';
import type { TrackedEventType } from '../../domain/schemas/tracked-event';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import { fieldErrors } from '../problem';
import type { AuditContext } from './contacts';

type Db = PrismaClient | Prisma.TransactionClient;

export interface RuleFilter {
  eventType?: TrackedEventType | undefined;
  active?: boolean | undefined;
}

/**
 * Scoring rules and lifecycle (behaviour) rules are edited the same way: a list, create, read,
 * patch and delete, each write audited. A kind supplies its schema and its table; the rest is
 * shared.
 */
export interface RuleKind<Input, View extends { id: string }> {
  /** Singular, for messages: "Scoring rule". */
  label: string;
  entityType: string;
  createSchema: z.ZodType<Input, unknown>;
  list(db: Db, filter: RuleFilter): Promise<View[]>;
  find(db: Db, id: string): Promise<View | null>;
  create(db: Db, input: Input): Promise<View>;
  update(db: Db, id: string, input: Input): Promise<View>;
  remove(db: Db, id: string): Promise<void>;
}

const ruleOrder = [{ createdAt: 'asc' as const }, { id: 'asc' as const }];
const iso = (date: Date) => date.toISOString();

export const scoringRules: RuleKind<z.output<typeof ScoringRuleCreateSchema>, ScoringRuleView> = {
  label: 'Scoring rule',
  entityType: 'scoring_rule',
  createSchema: ScoringRuleCreateSchema,
  list: async (db, filter) => (await db.scoringRule.findMany({ where: filter, orderBy: ruleOrder })).map(scoringRuleView),
  find: async (db, id) => {
    const row = await db.scoringRule.findUnique({ where: { id } });
    return row && scoringRuleView(row);
  },
  create: async (db, input) => scoringRuleView(await db.scoringRule.create({ data: input })),
  update: async (db, id, input) => scoringRuleView(await db.scoringRule.update({ where: { id }, data: input })),
  remove: async (db, id) => {
    await db.scoringRule.delete({ where: { id } });
  },
};

export const lifecycleRules: RuleKind<z.output<typeof LifecycleRuleCreateSchema>, LifecycleRuleView> = {
  label: 'Lifecycle rule',
  entityType: 'lifecycle_rule',
  createSchema: LifecycleRuleCreateSchema,
  list: async (db, filter) => (await db.lifecycleRule.findMany({ where: filter, orderBy: ruleOrder })).map(lifecycleRuleView),
  find: async (db, id) => {
    const row = await db.lifecycleRule.findUnique({ where: { id } });
    return row && lifecycleRuleView(row);
  },
  create: async (db, input) => lifecycleRuleView(await db.lifecycleRule.create({ data: input })),
  update: async (db, id, input) => lifecycleRuleView(await db.lifecycleRule.update({ where: { id }, data: input })),
  remove: async (db, id) => {
    await db.lifecycleRule.delete({ where: { id } });
  },
};

export async function listRules<I, V extends { id: string }>(prisma: PrismaClient, kind: RuleKind<I, V>, filter: RuleFilter): Promise<V[]> {
  return kind.list(prisma, filter);
}

export async function getRule<I, V extends { id: string }>(prisma: PrismaClient, kind: RuleKind<I, V>, id: string): Promise<V> {
  const rule = await kind.find(prisma, id);
  if (!rule) throw new NotFoundError(kind.label, id);
  return rule;
}

export async function createRule<I, V extends { id: string }>(prisma: PrismaClient, kind: RuleKind<I, V>, input: I, audit: AuditContext): Promise<V> {
  return prisma.$transaction(async (tx) => {
    const rule = await kind.create(tx, input);
    await recordAudit(tx, kind, 'created', rule.id, null, rule, audit);
    return rule;
  });
}

/** The patch is applied to the rule as stored and the result checked like a new rule, so a changed eventType re-checks the match. */
export async function patchRule<I, V extends { id: string }>(prisma: PrismaClient, kind: RuleKind<I, V>, id: string, patch: Record<string, unknown>, audit: AuditContext): Promise<V> {
  return prisma.$transaction(async (tx) => {
    const before = await kind.find(tx, id);
    if (!before) throw new NotFoundError(kind.label, id);
    const { id: _id, createdAt: _created, updatedAt: _updated, ...current } = before as V & { createdAt: string; updatedAt: string };
    const parsed = kind.createSchema.safeParse({ ...current, ...patch });
    if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error));
    const rule = await kind.update(tx, id, parsed.data);
    await recordAudit(tx, kind, 'updated', id, before, rule, audit);
    return rule;
  });
}

export async function deleteRule<I, V extends { id: string }>(prisma: PrismaClient, kind: RuleKind<I, V>, id: string, audit: AuditContext): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const before = await kind.find(tx, id);
    if (!before) throw new NotFoundError(kind.label, id);
    await kind.remove(tx, id);
    await recordAudit(tx, kind, 'deleted', id, before, null, audit);
  });
}

async function recordAudit<I, V extends { id: string }>(tx: Db, kind: RuleKind<I, V>, verb: string, id: string, before: V | null, after: V | null, audit: AuditContext): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorType: 'api_key',
      actorId: audit.actorId,
      action: `${kind.entityType}.${verb}`,
      entityType: kind.entityType,
      entityId: id,
      ...(before ? { before: before as unknown as Prisma.InputJsonObject } : {}),
      ...(after ? { after: after as unknown as Prisma.InputJsonObject } : {}),
      requestId: audit.requestId,
    },
  });
}

interface StoredRule {
  id: string;
  name: string;
  eventType: string;
  match: Prisma.JsonValue;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

function ruleView(row: StoredRule) {
  // Stored rules were validated on write; the casts restate what the schema checked.
  return { id: row.id, name: row.name, eventType: row.eventType as TrackedEventType, match: row.match as EventMatch, active: row.active, createdAt: iso(row.createdAt), updatedAt: iso(row.updatedAt) };
}

function scoringRuleView(row: StoredRule & { points: number }): ScoringRuleView {
  return { ...ruleView(row), points: row.points };
}

function lifecycleRuleView(row: StoredRule & { fromStages: LifecycleStage[]; toStage: LifecycleStage }): LifecycleRuleView {
  return { ...ruleView(row), fromStages: row.fromStages, toStage: row.toStage };
}
