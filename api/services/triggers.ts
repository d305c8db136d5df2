import type { TemplateRenderer } from '../../activities/templates';
import { ConflictError, NotFoundError } from '../../domain/errors';
import type { TriggerCreate, TriggerDefinition, TriggerUpdate, TriggerVersionView, TriggerView } from '../../domain/schemas/trigger';
import { generateSigningSecret } from '../../domain/webhook-signature';
import { Prisma, type PrismaClient } from '../../runtime/prisma';
import type { Cursor } from '../pagination';
import type { AuditContext } from './contacts';
import { assertNoProblems, publicationProblems, textProblems } from './trigger-checks';

/**
 * Stage-move triggers, versioned like sequences: every save is a new version, a published
 * version never changes, and the published version is the one that fires (the TriggerRun
 * ledger records which version each action ran). Sales ops and admins write, managers read.
 */
export interface TriggerServiceDeps {
  prisma: PrismaClient;
  renderer: TemplateRenderer;
}

/** Who saves: the API key for the audit log, its user (if any) as the version's author. */
export interface TriggerAudit extends AuditContext {
  userId: string | null;
}

type Tx = Prisma.TransactionClient;
type TriggerRow = Prisma.TriggerGetPayload<object>;
type VersionRow = Prisma.TriggerVersionGetPayload<object>;

export async function listTriggers(prisma: PrismaClient, query: { limit: number; active?: boolean | undefined; includeArchived: boolean }, cursor: Cursor | undefined): Promise<TriggerView[]> {
  const rows = await prisma.trigger.findMany({
    where: {
      ...(query.active !== undefined ? { active: query.active } : {}),
      ...(query.includeArchived ? {} : { archivedAt: null }),
      ...(cursor ? { OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  const versions = await prisma.triggerVersion.findMany({ where: { OR: rows.map((row) => ({ triggerId: row.id, version: row.latestVersion })) } });
  return rows.map((row) => viewOf(row, versions.find((version) => version.triggerId === row.id)!));
}

export async function getTrigger(prisma: PrismaClient | Tx, id: string): Promise<TriggerView> {
  const row = await prisma.trigger.findUnique({ where: { id } });
  if (!row) throw new NotFoundError('Trigger', id);
  const latest = await prisma.triggerVersion.findUniqueOrThrow({ where: { triggerId_version: { triggerId: id, version: row.latestVersion } } });
  return viewOf(row, latest);
}

export async function createTrigger(deps: TriggerServiceDeps, input: TriggerCreate, audit: TriggerAudit): Promise<TriggerView & { signingSecret: string }> {
  await checkDefinition(deps, input.definition, input.publish);
  const signingSecret = generateSigningSecret();
  return deps.prisma.$transaction(async (tx) => {
    const row = await tx.trigger.create({
      data: { name: input.name, description: input.description ?? null, active: input.active, latestVersion: 1, publishedVersion: input.publish ? 1 : null, createdById: audit.userId, signingSecret },
    });
    await tx.triggerVersion.create({ data: versionData(row.id, 1, input.definition, input.publish, audit) });
    await recordAudit(tx, input.publish ? 'trigger.published' : 'trigger.created', row.id, { version: 1, name: input.name, active: input.active }, audit);
    return { ...(await getTrigger(tx, row.id)), signingSecret };
  });
}

/** Every save is a new version; with `publish` it is checked and fires from now on. */
export async function updateTrigger(deps: TriggerServiceDeps, id: string, input: TriggerUpdate, audit: TriggerAudit): Promise<TriggerView> {
  assertNotArchived(await findTrigger(deps.prisma, id));
  await checkDefinition(deps, input.definition, input.publish);
  return deps.prisma.$transaction(async (tx) => {
    // The increment locks the row: concurrent saves get consecutive versions.
    const row = await tx.trigger.update({
      where: { id },
      data: {
        latestVersion: { increment: 1 },
        ...(input.name ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
      },
    });
    assertNotArchived(row);
    await tx.triggerVersion.create({ data: versionData(id, row.latestVersion, input.definition, input.publish, audit) });
    if (input.publish) await tx.trigger.update({ where: { id }, data: { publishedVersion: row.latestVersion } });
    await recordAudit(tx, input.publish ? 'trigger.published' : 'trigger.version_saved', id, { version: row.latestVersion }, audit);
    return getTrigger(tx, id);
  });
}

/** Publishes a saved draft (default: the latest version); it fires for stage changes from then on. */
export async function publishTrigger(deps: TriggerServiceDeps, id: string, requested: number | undefined, audit: TriggerAudit): Promise<TriggerView> {
  const trigger = await findTrigger(deps.prisma, id);
  const version = requested ?? trigger.latestVersion;
  const draft = await draftToPublish(deps.prisma, trigger, version);
  await checkDefinition(deps, draft.definition as unknown as TriggerDefinition, true);
  return deps.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM triggers WHERE id = ${id}::uuid FOR UPDATE`;
    await draftToPublish(tx, await findTrigger(tx, id), version);
    await tx.triggerVersion.update({ where: { id: draft.id }, data: { status: 'published', publishedAt: new Date() } });
    await tx.trigger.update({ where: { id }, data: { publishedVersion: version } });
    await recordAudit(tx, 'trigger.published', id, { version }, audit);
    return getTrigger(tx, id);
  });
}

/** A paused trigger matches nothing; its versions stay as they are. */
export async function setTriggerActive(prisma: PrismaClient, id: string, active: boolean, audit: TriggerAudit): Promise<TriggerView> {
  return prisma.$transaction(async (tx) => {
    const trigger = await findTrigger(tx, id);
    if (active) assertNotArchived(trigger);
    if (trigger.active !== active) {
      await tx.trigger.update({ where: { id }, data: { active } });
      await recordAudit(tx, active ? 'trigger.activated' : 'trigger.deactivated', id, { active }, audit);
    }
    return getTrigger(tx, id);
  });
}

/** Archived triggers never fire again and take no new versions; their runs stay readable. Twice is a no-op. */
export async function archiveTrigger(prisma: PrismaClient, id: string, audit: TriggerAudit): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const { count } = await tx.trigger.updateMany({ where: { id, archivedAt: null }, data: { archivedAt: new Date(), active: false } });
    if (count === 1) await recordAudit(tx, 'trigger.archived', id, {}, audit);
    else await findTrigger(tx, id);
  });
}

export async function listVersions(prisma: PrismaClient, id: string): Promise<TriggerVersionView[]> {
  await findTrigger(prisma, id);
  const rows = await prisma.triggerVersion.findMany({ where: { triggerId: id }, orderBy: { version: 'desc' } });
  return rows.map(versionView);
}

export async function getVersion(prisma: PrismaClient, id: string, version: number): Promise<TriggerVersionView> {
  const row = await prisma.triggerVersion.findUnique({ where: { triggerId_version: { triggerId: id, version } } });
  if (!row) throw new NotFoundError('Trigger version', `${id} v${version}`);
  return versionView(row);
}

export async function getSigningSecret(prisma: PrismaClient, id: string): Promise<{ signingSecret: string }> {
  const trigger = await findTrigger(prisma, id);
  if (trigger.signingSecret) return { signingSecret: trigger.signingSecret };
  // Triggers written before secrets existed get one on first read.
  const signingSecret = generateSigningSecret();
  await prisma.trigger.updateMany({ where: { id, signingSecret: null }, data: { signingSecret } });
  return { signingSecret: (await findTrigger(prisma, id)).signingSecret! };
}

/** A new secret at once: receivers must switch to it, deliveries from now on are signed with it. */
export async function rotateSigningSecret(prisma: PrismaClient, id: string, audit: TriggerAudit): Promise<{ signingSecret: string }> {
  const signingSecret = generateSigningSecret();
  await prisma.$transaction(async (tx) => {
    await findTrigger(tx, id);
    await tx.trigger.update({ where: { id }, data: { signingSecret } });
    await recordAudit(tx, 'trigger.signing_secret_rotated', id, {}, audit);
  });
  return { signingSecret };
}

async function checkDefinition(deps: TriggerServiceDeps, definition: TriggerDefinition, publishing: boolean): Promise<void> {
  if (publishing) {
    assertNoProblems(await publicationProblems(deps, definition), 'The trigger cannot be published; each error names the field of the definition.');
  } else {
    assertNoProblems(textProblems(definition), 'The trigger has texts that are not valid; each error names the field, line and column.');
  }
}

async function findTrigger(prisma: PrismaClient | Tx, id: string): Promise<TriggerRow> {
  const row = await prisma.trigger.findUnique({ where: { id } });
  if (!row) throw new NotFoundError('Trigger', id);
  return row;
}

async function draftToPublish(prisma: PrismaClient | Tx, trigger: TriggerRow, version: number): Promise<VersionRow> {
  assertNotArchived(trigger);
  const draft = await prisma.triggerVersion.findUnique({ where: { triggerId_version: { triggerId: trigger.id, version } } });
  if (!draft) throw new NotFoundError('Trigger version', `${trigger.id} v${version}`);
  if (draft.status === 'published') throw new ConflictError(`Version ${version} is already published; a published version never changes. PUT a new version to change the trigger.`);
  if (trigger.publishedVersion !== null && version < trigger.publishedVersion) {
    throw new ConflictError(`Version ${version} is older than the published version ${trigger.publishedVersion}; PUT its definition again as a new version to publish it.`);
  }
  return draft;
}

function assertNotArchived(trigger: TriggerRow): void {
  if (trigger.archivedAt) throw new ConflictError(`The trigger was archived on ${trigger.archivedAt.toISOString()}; it cannot change or fire again.`);
}

function versionData(triggerId: string, version: number, definition: TriggerDefinition, published: boolean, audit: TriggerAudit): Prisma.TriggerVersionUncheckedCreateInput {
  return {
    triggerId,
    version,
    status: published ? 'published' : 'draft',
    definition: definition as unknown as Prisma.InputJsonObject,
    createdById: audit.userId,
    publishedAt: published ? new Date() : null,
  };
}

async function recordAudit(tx: Tx, action: string, triggerId: string, after: Prisma.InputJsonObject, audit: AuditContext): Promise<void> {
  await tx.auditLog.create({ data: { actorType: 'api_key', actorId: audit.actorId, action, entityType: 'trigger', entityId: triggerId, after, requestId: audit.requestId } });
}

function versionView(row: VersionRow): TriggerVersionView {
  return {
    version: row.version,
    status: row.status === 'published' ? 'published' : 'draft',
    definition: row.definition as unknown as TriggerDefinition,
    publishedAt: row.publishedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

function viewOf(row: TriggerRow, latest: VersionRow): TriggerView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    active: row.active,
    archivedAt: row.archivedAt?.toISOString() ?? null,
    latestVersion: row.latestVersion,
    publishedVersion: row.publishedVersion,
    latest: versionView(latest),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
