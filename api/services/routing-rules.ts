import { NotFoundError, ValidationError, type FieldError } from '../../domain/errors';
import { ruleRoutingPool } from '../../domain/routing';
import { RoutingRuleCreateSchema, type RoutingRuleCreate, type RoutingRuleUpdate, type RoutingRuleView } from '../../domain/schemas/routing-rule';
import type { RoutingRule } from '../../prisma/generated/client';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import { fieldErrors } from '../problem';
import type { AuditContext } from './contacts';

/**
 * Sales ops' lead routing rules. Positions are always 1..n without gaps: every write that
 * changes the order rewrites it whole (`applyOrder`), under one advisory lock so concurrent
 * writers cannot interleave. Routing (activities/lead-routing.ts) reads the committed order.
 */
export async function listRoutingRules(prisma: PrismaClient): Promise<RoutingRuleView[]> {
  return (await prisma.routingRule.findMany({ orderBy: { position: 'asc' } })).map(toRoutingRuleView);
}

export async function getRoutingRule(prisma: PrismaClient, id: string): Promise<RoutingRuleView> {
  const rule = await prisma.routingRule.findUnique({ where: { id } });
  if (!rule) throw new NotFoundError('Routing rule', id);
  return toRoutingRuleView(rule);
}

export async function createRoutingRule(prisma: PrismaClient, input: RoutingRuleCreate, audit: AuditContext): Promise<RoutingRuleView> {
  return withRulesLock(prisma, async (tx) => {
    await assertTeam(tx, input);
    const order = await currentOrder(tx);
    const last = await tx.routingRule.aggregate({ _max: { position: true } });
    const row = await tx.routingRule.create({ data: { ...columnsOf(input), position: (last._max.position ?? 0) + 1 } });
    order.splice(Math.min(input.position ?? order.length + 1, order.length + 1) - 1, 0, row.id);
    await applyOrder(tx, order);
    const created = await tx.routingRule.findUniqueOrThrow({ where: { id: row.id } });
    await recordAudit(tx, 'routing_rule.created', row.id, null, created, audit);
    return toRoutingRuleView(created);
  });
}

/** The stored rule with the changes applied is checked as a whole, as if it were created so. */
export async function updateRoutingRule(prisma: PrismaClient, id: string, patch: RoutingRuleUpdate, audit: AuditContext): Promise<RoutingRuleView> {
  return withRulesLock(prisma, async (tx) => {
    const before = await tx.routingRule.findUnique({ where: { id } });
    if (!before) throw new NotFoundError('Routing rule', id);
    const merged = { ...before, ...patch };
    const parsed = RoutingRuleCreateSchema.safeParse({
      name: merged.name,
      active: merged.active,
      kind: merged.kind,
      ...(merged.kind === 'company_owner' ? {} : { userIds: merged.userIds }),
      ...(merged.kind === 'territory' ? { countries: merged.countries, regions: merged.regions } : {}),
    });
    if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error));
    await assertTeam(tx, parsed.data);
    const after = await tx.routingRule.update({ where: { id }, data: columnsOf(parsed.data) });
    await recordAudit(tx, 'routing_rule.updated', id, before, after, audit);
    return toRoutingRuleView(after);
  });
}

export async function deleteRoutingRule(prisma: PrismaClient, id: string, audit: AuditContext): Promise<void> {
  await withRulesLock(prisma, async (tx) => {
    const before = await tx.routingRule.findUnique({ where: { id } });
    if (!before) throw new NotFoundError('Routing rule', id);
    await tx.routingRule.delete({ where: { id } });
    await tx.routingCursor.deleteMany({ where: { pool: ruleRoutingPool(id) } });
    await applyOrder(tx, await currentOrder(tx));
    await recordAudit(tx, 'routing_rule.deleted', id, before, null, audit);
  });
}

/** `ruleIds` names every rule exactly once, in the order they are to be tried. */
export async function reorderRoutingRules(prisma: PrismaClient, ruleIds: readonly string[], audit: AuditContext): Promise<RoutingRuleView[]> {
  return withRulesLock(prisma, async (tx) => {
    const before = await currentOrder(tx);
    const known = new Set(before);
    const errors: FieldError[] = [];
    ruleIds.forEach((id, index) => {
      if (!known.has(id)) errors.push({ field: `ruleIds/${index}`, message: 'is not a routing rule' });
      else if (ruleIds.indexOf(id) !== index) errors.push({ field: `ruleIds/${index}`, message: 'is listed twice' });
    });
    const missing = before.filter((id) => !ruleIds.includes(id));
    if (missing.length > 0) errors.push({ field: 'ruleIds', message: `must list every rule; missing ${missing.join(', ')}` });
    if (errors.length > 0) throw new ValidationError(errors);
    await applyOrder(tx, ruleIds);
    await tx.auditLog.create({
      data: { actorType: 'api_key', actorId: audit.actorId, action: 'routing_rules.reordered', entityType: 'routing_rule', entityId: 'order', before: { ruleIds: before }, after: { ruleIds: [...ruleIds] }, requestId: audit.requestId },
    });
    return (await tx.routingRule.findMany({ orderBy: { position: 'asc' } })).map(toRoutingRuleView);
  });
}

export function toRoutingRuleView(rule: RoutingRule): RoutingRuleView {
  return {
    id: rule.id,
    name: rule.name,
    position: rule.position,
    kind: rule.kind as RoutingRuleView['kind'],
    countries: rule.countries,
    regions: rule.regions,
    userIds: rule.userIds,
    active: rule.active,
    createdAt: rule.createdAt.toISOString(),
    updatedAt: rule.updatedAt.toISOString(),
  };
}

async function withRulesLock<T>(prisma: PrismaClient, write: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('routing_rules'))`;
    return write(tx);
  });
}

async function currentOrder(tx: Prisma.TransactionClient): Promise<string[]> {
  return (await tx.routingRule.findMany({ orderBy: { position: 'asc' }, select: { id: true } })).map((rule) => rule.id);
}

/**
 * Positions are unique and PostgreSQL checks that row by row, so a permutation cannot be
 * written in one pass: every position is first moved out of the way (negated), then set.
 */
async function applyOrder(tx: Prisma.TransactionClient, ruleIds: readonly string[]): Promise<void> {
  await tx.$executeRaw`UPDATE routing_rules SET position = -position WHERE position > 0`;
  await tx.$executeRaw`
    UPDATE routing_rules r SET position = o.ord::int, updated_at = now()
      FROM unnest(${[...ruleIds]}::uuid[]) WITH ORDINALITY AS o(id, ord)
     WHERE r.id = o.id`;
}

function columnsOf(rule: RoutingRuleCreate) {
  return {
    name: rule.name,
    kind: rule.kind,
    active: rule.active,
    countries: rule.kind === 'territory' ? [...new Set(rule.countries)] : [],
    regions: rule.kind === 'territory' ? [...new Set(rule.regions)] : [],
    userIds: rule.kind === 'company_owner' ? [] : [...new Set(rule.userIds)],
  };
}

/** A rule's team are active users who can own leads: reps and managers. */
async function assertTeam(tx: Prisma.TransactionClient, rule: RoutingRuleCreate): Promise<void> {
  if (rule.kind === 'company_owner') return;
  const found = await tx.user.findMany({ where: { id: { in: rule.userIds }, active: true, role: { in: ['rep', 'manager'] } }, select: { id: true } });
  const eligible = new Set(found.map((user) => user.id));
  const errors = rule.userIds.flatMap((id, index) => (eligible.has(id) ? [] : [{ field: `userIds/${index}`, message: 'is not an active rep or manager' }]));
  if (errors.length > 0) throw new ValidationError(errors);
}

async function recordAudit(tx: Prisma.TransactionClient, action: string, id: string, before: RoutingRule | null, after: RoutingRule | null, audit: AuditContext): Promise<void> {
  const image = (rule: RoutingRule) => ({ name: rule.name, position: rule.position, kind: rule.kind, countries: rule.countries, regions: rule.regions, userIds: rule.userIds, active: rule.active });
  await tx.auditLog.create({
    data: {
      actorType: 'api_key',
      actorId: audit.actorId,
      action,
      entityType: 'routing_rule',
      entityId: id,
      ...(before ? { before: image(before) } : {}),
      ...(after ? { after: image(after) } : {}),
      requestId: audit.requestId,
    },
  });
}
