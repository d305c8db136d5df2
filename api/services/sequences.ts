import { TemplateError, type TemplateRenderer } from '../../activities/templates';
import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../../domain/errors';
import { messageSteps, locateSteps } from '../../domain/sequence-tree';
import { sequenceProblems } from '../../domain/sequence-validation';
import type { SequenceDefinition, SequenceCreateSchema, SequenceUpdateSchema } from '../../domain/schemas/sequence';
import type { SequenceVersionView, SequenceView } from '../../domain/schemas/sequence-views';
import { templatePinKey, type TemplatePins } from '../../domain/template-pins';
import { Prisma, type PrismaClient } from '../../runtime/prisma';
import type { Cursor } from '../pagination';
import type { AuditContext } from './contacts';
import type { z } from 'zod';

export interface SequenceServiceDeps {
  prisma: PrismaClient;
  renderer: TemplateRenderer;
}

/** Who saves: the API key for the audit log, its user (if any) as the version's author. */
export interface SequenceAudit extends AuditContext {
  userId: string | null;
}

type SequenceRow = Prisma.SequenceGetPayload<object>;
type VersionRow = Prisma.SequenceVersionGetPayload<object>;
type Tx = Prisma.TransactionClient;

export async function listSequences(prisma: PrismaClient, limit: number, cursor: Cursor | undefined) {
  const rows = await prisma.sequence.findMany({
    where: cursor ? { OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] } : {},
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
  });
  return rows.map(summaryOf);
}

/** Why nobody can be enrolled in the sequence `id` now, or null: it exists, is published and is not archived. */
export async function enrollableSequenceProblem(db: PrismaClient | Tx, id: string): Promise<string | null> {
  const sequence = await db.sequence.findUnique({ where: { id }, select: { publishedVersion: true, archivedAt: true } });
  if (!sequence) return 'is not an existing sequence';
  if (sequence.archivedAt) return 'is an archived sequence';
  return sequence.publishedVersion === null ? 'is a sequence with no published version yet' : null;
}

export async function getSequence(prisma: PrismaClient | Tx, id: string): Promise<SequenceView> {
  const sequence = await prisma.sequence.findUnique({ where: { id } });
  if (!sequence) throw new NotFoundError('Sequence', id);
  const wanted = [sequence.latestVersion, ...(sequence.publishedVersion !== null ? [sequence.publishedVersion] : [])];
  const versions = await prisma.sequenceVersion.findMany({ where: { sequenceId: id, version: { in: wanted } } });
  const pick = (version: number) => versions.find((row) => row.version === version)!;
  return {
    ...summaryOf(sequence),
    latest: versionView(pick(sequence.latestVersion)),
    published: sequence.publishedVersion !== null ? versionView(pick(sequence.publishedVersion)) : null,
  };
}

export async function createSequence(deps: SequenceServiceDeps, input: z.output<typeof SequenceCreateSchema>, audit: SequenceAudit): Promise<SequenceView> {
  const pins = input.publish ? await publication(deps, input.definition) : null;
  return deps.prisma.$transaction(async (tx) => {
    const sequence = await tx.sequence.create({
      data: { name: input.name, description: input.description ?? null, latestVersion: 1, publishedVersion: pins ? 1 : null, createdById: audit.userId },
    });
    await tx.sequenceVersion.create({ data: versionData(sequence.id, 1, input.definition, pins, audit) });
    await recordAudit(tx, pins ? 'sequence.published' : 'sequence.created', sequence.id, { version: 1, name: input.name }, audit);
    return getSequence(tx, sequence.id);
  });
}

/** Every save is a new version; versions never change once written. */
export async function updateSequence(deps: SequenceServiceDeps, id: string, input: z.output<typeof SequenceUpdateSchema>, audit: SequenceAudit): Promise<SequenceView> {
  const current = await deps.prisma.sequence.findUnique({ where: { id } });
  if (!current) throw new NotFoundError('Sequence', id);
  assertNotArchived(current);
  const pins = input.publish ? await publication(deps, input.definition, id) : null;
  return deps.prisma.$transaction(async (tx) => {
    // The increment locks the row: concurrent saves get consecutive versions.
    const sequence = await tx.sequence.update({
      where: { id },
      data: {
        latestVersion: { increment: 1 },
        ...(input.name ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
      },
    });
    assertNotArchived(sequence);
    await tx.sequenceVersion.create({ data: versionData(id, sequence.latestVersion, input.definition, pins, audit) });
    if (pins) await tx.sequence.update({ where: { id }, data: { publishedVersion: sequence.latestVersion } });
    await recordAudit(tx, pins ? 'sequence.published' : 'sequence.version_saved', id, { version: sequence.latestVersion }, audit);
    return getSequence(tx, id);
  });
}

/** Publishes a saved draft; it becomes the version new enrollments start on. */
export async function publishVersion(deps: SequenceServiceDeps, id: string, version: number, audit: SequenceAudit): Promise<SequenceView> {
  const { draft } = await draftToPublish(deps.prisma, id, version);
  const pins = await publication(deps, draft.definition as SequenceDefinition, id);
  return deps.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM sequences WHERE id = ${id}::uuid FOR UPDATE`;
    await draftToPublish(tx, id, version);
    await tx.sequenceVersion.update({ where: { id: draft.id }, data: { status: 'published', publishedAt: new Date(), templatePins: pins } });
    await tx.sequence.update({ where: { id }, data: { publishedVersion: version } });
    await recordAudit(tx, 'sequence.published', id, { version }, audit);
    return getSequence(tx, id);
  });
}

/** The draft, if it may still be published: not archived, not published, not older than the published version. */
async function draftToPublish(prisma: PrismaClient | Tx, id: string, version: number): Promise<{ draft: VersionRow }> {
  const sequence = await prisma.sequence.findUnique({ where: { id } });
  if (!sequence) throw new NotFoundError('Sequence', id);
  assertNotArchived(sequence);
  const draft = await prisma.sequenceVersion.findUnique({ where: { sequenceId_version: { sequenceId: id, version } } });
  if (!draft) throw new NotFoundError('Sequence version', `${id} v${version}`);
  if (draft.status === 'published') throw new ConflictError(`Version ${version} is already published; a published version never changes. PUT a new version to change the sequence.`);
  if (sequence.publishedVersion !== null && version < sequence.publishedVersion) {
    throw new ConflictError(`Version ${version} is older than the published version ${sequence.publishedVersion}; PUT its definition again as a new version to publish it.`);
  }
  return { draft };
}

export async function listVersions(prisma: PrismaClient, id: string) {
  const sequence = await prisma.sequence.findUnique({ where: { id }, select: { publishedVersion: true } });
  if (!sequence) throw new NotFoundError('Sequence', id);
  const versions = await prisma.sequenceVersion.findMany({ where: { sequenceId: id }, orderBy: { version: 'desc' } });
  return versions.map((row) => ({
    version: row.version,
    status: versionStatus(row),
    current: row.version === sequence.publishedVersion,
    createdAt: row.createdAt.toISOString(),
    publishedAt: row.publishedAt?.toISOString() ?? null,
  }));
}

export async function getVersion(prisma: PrismaClient, id: string, version: number): Promise<SequenceVersionView> {
  const row = await prisma.sequenceVersion.findUnique({ where: { sequenceId_version: { sequenceId: id, version } } });
  if (!row) throw new NotFoundError('Sequence version', `${id} v${version}`);
  return versionView(row);
}

/** No new enrollments from now on; running ones go on to their end. Archiving twice is a no-op. */
export async function archiveSequence(prisma: PrismaClient, id: string, audit: AuditContext): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const { count } = await tx.sequence.updateMany({ where: { id, archivedAt: null }, data: { archivedAt: new Date() } });
    if (count === 1) await recordAudit(tx, 'sequence.archived', id, {}, audit);
    else if (!(await tx.sequence.findUnique({ where: { id }, select: { id: true } }))) throw new NotFoundError('Sequence', id);
  });
}

/**
 * Everything publishing checks, reported together: the definition's own consistency
 * (domain/sequence-validation.ts), that every email and sms step names an existing template
 * of its channel that compiles, and that the suppression list names existing sequences. The
 * answer is the template versions to pin: a stored template's current version, or `file`.
 */
async function publication(deps: SequenceServiceDeps, definition: SequenceDefinition, sequenceId?: string): Promise<TemplatePins> {
  const problems: FieldError[] = sequenceProblems(definition).map((problem) => ({ field: `definition.${problem.field}`, message: problem.message }));
  const pins: TemplatePins = {};
  for (const { step, path } of messageSteps(locateSteps(definition.steps))) {
    const field = `definition.${path}.template`;
    const pinKey = templatePinKey(step.type, step.template);
    if (pins[pinKey] !== undefined) continue;
    try {
      const template = await deps.renderer.resolve(step.type, step.template);
      pins[pinKey] = template.source === 'database' ? template.version! : 'file';
    } catch (error) {
      if (error instanceof NotFoundError) problems.push({ field, message: await missingTemplate(deps, step.type, step.template) });
      else if (error instanceof TemplateError) problems.push({ field, message: `the ${step.type} template "${step.template}" does not compile: ${error.message}` });
      else throw error;
    }
  }
  const suppressing = definition.settings.suppression.activeInSequences;
  if (suppressing.length > 0) {
    const found = new Set((await deps.prisma.sequence.findMany({ where: { id: { in: suppressing } }, select: { id: true } })).map((row) => row.id));
    suppressing.forEach((id, index) => {
      if (id === sequenceId) problems.push({ field: `definition.settings.suppression.activeInSequences[${index}]`, message: 'is this sequence itself; a contact is never enrolled twice at once anyway' });
      else if (!found.has(id)) problems.push({ field: `definition.settings.suppression.activeInSequences[${index}]`, message: 'is not an existing sequence' });
    });
  }
  if (problems.length > 0) throw new ValidationError(problems, 'The sequence cannot be published; each error names the step by its path and key.');
  return pins;
}

async function missingTemplate(deps: SequenceServiceDeps, channel: 'email' | 'sms', key: string): Promise<string> {
  const other = channel === 'email' ? 'sms' : 'email';
  const stored = await deps.prisma.template.findUnique({ where: { key }, select: { channel: true } });
  const isOther = stored?.channel === other || deps.renderer.fileTemplates().some((file) => file.channel === other && file.key === key);
  return isOther
    ? `"${key}" is an ${other === 'sms' ? 'SMS' : 'email'} template; an ${channel === 'sms' ? 'sms' : 'email'} step needs an ${channel === 'sms' ? 'SMS' : 'email'} template`
    : `there is no ${channel === 'sms' ? 'SMS' : 'email'} template "${key}" (neither stored through /v1/templates nor shipped in templates/${channel})`;
}

function assertNotArchived(sequence: SequenceRow): void {
  if (sequence.archivedAt) throw new ConflictError(`The sequence was archived on ${sequence.archivedAt.toISOString()}; it takes no new versions.`);
}

function versionData(sequenceId: string, version: number, definition: SequenceDefinition, pins: TemplatePins | null, audit: SequenceAudit): Prisma.SequenceVersionUncheckedCreateInput {
  return {
    sequenceId,
    version,
    status: pins ? 'published' : 'draft',
    definition: definition as unknown as Prisma.InputJsonObject,
    templatePins: pins ?? {},
    createdById: audit.userId,
    publishedAt: pins ? new Date() : null,
  };
}

async function recordAudit(tx: Tx, action: string, sequenceId: string, after: Prisma.InputJsonObject, audit: AuditContext): Promise<void> {
  await tx.auditLog.create({ data: { actorType: 'api_key', actorId: audit.actorId, action, entityType: 'sequence', entityId: sequenceId, after, requestId: audit.requestId } });
}

function versionStatus(row: VersionRow): 'draft' | 'published' {
  return row.status === 'published' ? 'published' : 'draft';
}

function versionView(row: VersionRow): SequenceVersionView {
  return {
    version: row.version,
    status: versionStatus(row),
    definition: row.definition as unknown as SequenceDefinition,
    templatePins: row.templatePins as TemplatePins,
    createdAt: row.createdAt.toISOString(),
    publishedAt: row.publishedAt?.toISOString() ?? null,
  };
}

function summaryOf(row: SequenceRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    latestVersion: row.latestVersion,
    publishedVersion: row.publishedVersion,
    archived: row.archivedAt !== null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
