import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors';
import type { ApiKeyView, UserCreate, UserDeactivation, UserListQuery, UserUpdate, UserView } from '../../domain/schemas/user';
import type { ApiKey, User } from '../../prisma/generated/client';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import { createApiKey } from '../api-keys';
import type { Cursor } from '../pagination';
import type { AuditContext } from './contacts';

/**
 * Users and their API keys. Every write runs under one advisory lock, so the checks on manager
 * links (an active manager, no cycle) cannot be raced by a concurrent change of the chain.
 */
export async function listUsers(prisma: PrismaClient, query: UserListQuery, cursor: Cursor | undefined): Promise<UserView[]> {
  const rows = await prisma.user.findMany({
    where: {
      ...(query.role ? { role: query.role } : {}),
      ...(query.active !== undefined ? { active: query.active } : {}),
      ...(query.managerId ? { managerId: query.managerId } : {}),
      ...(query.email ? { email: query.email } : {}),
      ...(cursor ? { OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  return rows.map(toUserView);
}

export async function getUser(prisma: PrismaClient, id: string): Promise<UserView> {
  const user = await prisma.user.findUnique({ where: { id } });
  if (!user) throw new NotFoundError('User', id);
  return toUserView(user);
}

export async function createUser(prisma: PrismaClient, input: UserCreate, audit: AuditContext): Promise<UserView> {
  return withUsersLock(prisma, async (tx) => {
    await assertEmailFree(tx, input.email, null);
    if (input.managerId) await assertManager(tx, input.managerId, null);
    const row = await tx.user.create({
      data: { email: input.email, name: input.name, role: input.role, managerId: input.managerId ?? null, timeZone: input.timeZone, leadCapacity: input.leadCapacity ?? null },
    });
    await recordAudit(tx, 'user.created', row.id, null, imageOf(row), audit);
    return toUserView(row);
  });
}

/** A new role reaches the user's unrevoked keys too, so a demotion cannot leave a key with the old powers. */
export async function updateUser(prisma: PrismaClient, id: string, patch: UserUpdate, audit: AuditContext): Promise<UserView> {
  return withUsersLock(prisma, async (tx) => {
    const before = await tx.user.findUnique({ where: { id } });
    if (!before) throw new NotFoundError('User', id);
    if (patch.email !== undefined) await assertEmailFree(tx, patch.email, id);
    if (patch.managerId) await assertManager(tx, patch.managerId, id);
    const roleChanged = patch.role !== undefined && patch.role !== before.role;
    if (roleChanged && before.role === 'manager') await assertNoActiveReports(tx, id);
    const after = await tx.user.update({ where: { id }, data: patch });
    const rekeyed = roleChanged ? (await tx.apiKey.updateMany({ where: { userId: id, revokedAt: null }, data: { role: after.role } })).count : 0;
    await recordAudit(tx, 'user.updated', id, imageOf(before), { ...imageOf(after), ...(roleChanged ? { apiKeysGivenRole: rekeyed } : {}) }, audit);
    return toUserView(after);
  });
}

/**
 * Routing stops giving the user leads (it reads only active users) and their keys are revoked.
 * Their open work is counted, not moved: who takes it over is the admin's decision.
 */
export async function deactivateUser(prisma: PrismaClient, id: string, actingUserId: string | null, audit: AuditContext): Promise<UserDeactivation> {
  return withUsersLock(prisma, async (tx) => {
    const before = await tx.user.findUnique({ where: { id } });
    if (!before) throw new NotFoundError('User', id);
    if (id === actingUserId) throw new ConflictError('Your API key acts for this user; deactivating them would revoke it. Use another admin\'s key.');
    let revokedApiKeys = 0;
    let user = before;
    if (before.active) {
      user = await tx.user.update({ where: { id }, data: { active: false } });
      revokedApiKeys = (await tx.apiKey.updateMany({ where: { userId: id, revokedAt: null }, data: { revokedAt: new Date() } })).count;
      await recordAudit(tx, 'user.deactivated', id, imageOf(before), { ...imageOf(user), revokedApiKeys }, audit);
    }
    const [openTasks, openDeals, directReports, routingRules] = await Promise.all([
      tx.task.count({ where: { assigneeId: id, status: 'open' } }),
      tx.deal.count({ where: { ownerId: id, status: 'open', deletedAt: null } }),
      tx.user.count({ where: { managerId: id, active: true } }),
      tx.routingRule.count({ where: { userIds: { has: id } } }),
    ]);
    return { user: toUserView(user), stillOwned: { openTasks, openDeals, directReports, routingRules }, revokedApiKeys };
  });
}

/** Routing considers the user again; keys revoked at deactivation stay revoked. */
export async function activateUser(prisma: PrismaClient, id: string, audit: AuditContext): Promise<UserView> {
  return withUsersLock(prisma, async (tx) => {
    const before = await tx.user.findUnique({ where: { id } });
    if (!before) throw new NotFoundError('User', id);
    if (before.active) return toUserView(before);
    const after = await tx.user.update({ where: { id }, data: { active: true } });
    await recordAudit(tx, 'user.activated', id, imageOf(before), imageOf(after), audit);
    return toUserView(after);
  });
}

/** A key acts with its user's role; the secret is returned here once and only its hash is stored. */
export async function createUserApiKey(prisma: PrismaClient, userId: string, name: string, audit: AuditContext): Promise<ApiKeyView & { key: string }> {
  return withUsersLock(prisma, async (tx) => {
    const user = await tx.user.findUnique({ where: { id: userId } });
    if (!user) throw new NotFoundError('User', userId);
    if (!user.active) throw new ConflictError('The user is deactivated; activate them before giving them a key.');
    const created = await createApiKey(tx, { name, role: user.role, userId });
    const view: ApiKeyView = { id: created.id, name, prefix: created.prefix, role: user.role, userId, createdAt: created.createdAt.toISOString(), revokedAt: null, lastUsedAt: null };
    await tx.auditLog.create({
      data: { actorType: 'api_key', actorId: audit.actorId, action: 'api_key.created', entityType: 'api_key', entityId: created.id, after: { name, prefix: created.prefix, role: user.role, userId }, requestId: audit.requestId },
    });
    return { ...view, key: created.key };
  });
}

export async function listUserApiKeys(prisma: PrismaClient, userId: string): Promise<ApiKeyView[]> {
  if (!(await prisma.user.findUnique({ where: { id: userId }, select: { id: true } }))) throw new NotFoundError('User', userId);
  return (await prisma.apiKey.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] })).map(toApiKeyView);
}

/** Revoking a revoked key changes nothing and succeeds, so a retried revocation is not an error. */
export async function revokeApiKey(prisma: PrismaClient, id: string, audit: AuditContext): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const revoked = await tx.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
    if (revoked.count === 0) {
      if (!(await tx.apiKey.findUnique({ where: { id }, select: { id: true } }))) throw new NotFoundError('API key', id);
      return;
    }
    await tx.auditLog.create({
      data: { actorType: 'api_key', actorId: audit.actorId, action: 'api_key.revoked', entityType: 'api_key', entityId: id, after: { revoked: true }, requestId: audit.requestId },
    });
  });
}

export function toUserView(user: User): UserView {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    managerId: user.managerId,
    timeZone: user.timeZone,
    active: user.active,
    leadCapacity: user.leadCapacity,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

function toApiKeyView(key: ApiKey): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    role: key.role,
    userId: key.userId,
    createdAt: key.createdAt.toISOString(),
    revokedAt: key.revokedAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  };
}

async function withUsersLock<T>(prisma: PrismaClient, write: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('users'))`;
    return write(tx);
  });
}

async function assertEmailFree(tx: Prisma.TransactionClient, email: string, exceptId: string | null): Promise<void> {
  const holder = await tx.user.findUnique({ where: { email }, select: { id: true } });
  if (holder && holder.id !== exceptId) throw new ConflictError(`Another user has the email ${email}.`, [{ field: 'email', message: 'belongs to another user' }]);
}

/**
 * The manager is another active user with role manager, and `userId` is nowhere in the chain
 * above them (that would make a cycle). UNION, not UNION ALL, ends the walk should the data
 * already hold a cycle.
 */
async function assertManager(tx: Prisma.TransactionClient, managerId: string, userId: string | null): Promise<void> {
  if (managerId === userId) throw new ValidationError([{ field: 'managerId', message: 'cannot be the user themselves' }]);
  const manager = await tx.user.findUnique({ where: { id: managerId }, select: { role: true, active: true } });
  if (!manager || !manager.active || manager.role !== 'manager') throw new ValidationError([{ field: 'managerId', message: 'is not an active user with role manager' }]);
  if (!userId) return;
  const chain = await tx.$queryRaw<{ id: string }[]>`
    WITH RECURSIVE chain(id, manager_id) AS (
      SELECT id, manager_id FROM users WHERE id = ${managerId}::uuid
      UNION
      SELECT u.id, u.manager_id FROM users u JOIN chain c ON u.id = c.manager_id
    )
    SELECT id::text FROM chain WHERE id = ${userId}::uuid`;
  if (chain.length > 0) throw new ValidationError([{ field: 'managerId', message: 'reports to this user (directly or further down), which would make a cycle' }]);
}

async function assertNoActiveReports(tx: Prisma.TransactionClient, managerId: string): Promise<void> {
  const reports = await tx.user.count({ where: { managerId, active: true } });
  if (reports > 0) throw new ValidationError([{ field: 'role', message: `manages ${reports} active user${reports === 1 ? '' : 's'}; give them another manager first` }]);
}

function imageOf(user: User): Record<string, string | number | boolean | null> {
  const { createdAt: _createdAt, updatedAt: _updatedAt, ...image } = toUserView(user);
  return image;
}

async function recordAudit(tx: Prisma.TransactionClient, action: string, id: string, before: Prisma.InputJsonObject | null, after: Prisma.InputJsonObject, audit: AuditContext): Promise<void> {
  await tx.auditLog.create({
    data: { actorType: 'api_key', actorId: audit.actorId, action, entityType: 'user', entityId: id, ...(before ? { before } : {}), after, requestId: audit.requestId },
  });
}
