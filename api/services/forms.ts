import { randomBytes } from 'node:crypto';
import type { TemplateRenderer } from '../../activities/templates';
import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../../domain/errors';
import { IdSchema } from '../../domain/schemas/common';
import { formConfigProblems, type FormCreate, type FormListQuery, type FormUpdate, type FormView } from '../../domain/schemas/form';
import type { Form } from '../../prisma/generated/client';
import { Prisma, type PrismaClient } from '../../runtime/prisma';
import type { Cursor } from '../pagination';
import type { AuditContext } from './contacts';
import { enrollableSequenceProblem } from './sequences';
import { emailTemplateProblem } from './templates';

export interface FormServiceDeps {
  prisma: PrismaClient;
  renderer: TemplateRenderer;
}

type Tx = Prisma.TransactionClient;

/**
 * Website forms. The submission endpoint (api/routes/forms.ts) reads the form row on every
 * post and keeps nothing between requests, so a change here applies to the next submission in
 * every API process. The key is the form's public name and never changes: submission ids,
 * consent records and the once-per-form auto-enrollment are keyed by it.
 */
export function toFormView(row: Form): FormView {
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    allowedOrigins: row.allowedOrigins,
    defaultCountry: row.defaultCountry,
    contactRequirement: row.contactRequirement as FormView['contactRequirement'],
    requiredFields: row.requiredFields,
    allowCustomFields: row.allowCustomFields,
    honeypotField: row.honeypotField,
    source: row.source,
    grantsEmailConsent: row.grantsEmailConsent,
    welcomeTemplate: row.welcomeTemplate,
    enrollSequenceId: row.enrollSequenceId,
    active: row.active,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Newest first. */
export async function listForms(prisma: PrismaClient, query: FormListQuery, cursor: Cursor | undefined): Promise<FormView[]> {
  const rows = await prisma.form.findMany({
    where: {
      ...(query.active !== undefined ? { active: query.active } : {}),
      ...(cursor ? { OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  return rows.map(toFormView);
}

export async function getForm(prisma: PrismaClient, ref: string): Promise<FormView> {
  return toFormView(await findForm(prisma, ref));
}

export async function createForm(deps: FormServiceDeps, input: FormCreate, audit: AuditContext): Promise<FormView> {
  const { key: givenKey, ...config } = input;
  await assertValid(deps, config, config);
  // 72 random bits: URL-safe, and not worth guessing for a spammer (the rate limit is per IP anyway).
  const key = givenKey ?? randomBytes(9).toString('base64url');
  return mapKeyTaken(key, () =>
    deps.prisma.$transaction(async (tx) => {
      const holder = await tx.form.findUnique({ where: { key }, select: { id: true } });
      if (holder) throw keyTaken(key, holder.id);
      const row = await tx.form.create({ data: { key, ...config } });
      await recordAudit(tx, 'form.created', row.id, null, row, audit);
      return toFormView(row);
    }),
  );
}

/** The stored form with the changes applied is checked as a whole; references only where they change. */
export async function updateForm(deps: FormServiceDeps, ref: string, patch: FormUpdate, audit: AuditContext): Promise<FormView> {
  return deps.prisma.$transaction(async (tx) => {
    const before = await lockForm(tx, ref);
    await assertValid(deps, { ...before, ...patch }, patch);
    const after = await tx.form.update({ where: { id: before.id }, data: patch });
    await recordAudit(tx, 'form.updated', before.id, before, after, audit);
    return toFormView(after);
  });
}

/**
 * Forms are deactivated, not deleted: their key stays taken, so a post to it never reaches
 * another form, and the contacts, activities and consent that name it keep their meaning.
 * PATCH `active: true` takes submissions again. Deactivating an inactive form changes nothing.
 */
export async function deactivateForm(prisma: PrismaClient, ref: string, audit: AuditContext): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const before = await lockForm(tx, ref);
    if (!before.active) return;
    const after = await tx.form.update({ where: { id: before.id }, data: { active: false } });
    await recordAudit(tx, 'form.deactivated', before.id, before, after, audit);
  });
}

/** Paths name a form by its id or its public key; keys never look like UUIDs (FormCreateSchema). */
function refWhere(ref: string): Prisma.FormWhereInput {
  return IdSchema.safeParse(ref).success ? { OR: [{ id: ref }, { key: ref }] } : { key: ref };
}

async function findForm(db: PrismaClient | Tx, ref: string): Promise<Form> {
  const row = await db.form.findFirst({ where: refWhere(ref) });
  if (!row) throw new NotFoundError('Form', ref);
  return row;
}

/** Two concurrent changes of one form apply one after the other, each checked against the other's result. */
async function lockForm(tx: Tx, ref: string): Promise<Form> {
  const { id } = await findForm(tx, ref);
  await tx.$queryRaw`SELECT id FROM forms WHERE id = ${id}::uuid FOR UPDATE`;
  return tx.form.findUniqueOrThrow({ where: { id } });
}

/**
 * Every problem at once: the fields against each other, then the welcome template and the
 * auto-enrollment sequence where `changed` sets them (a sequence archived since it was chosen
 * does not block other edits; enrolling refuses it anyway).
 */
async function assertValid(
  deps: FormServiceDeps,
  config: Pick<Form, 'requiredFields' | 'allowCustomFields' | 'honeypotField'>,
  changed: Partial<Pick<Form, 'welcomeTemplate' | 'enrollSequenceId'>>,
): Promise<void> {
  const problems: FieldError[] = formConfigProblems(config);
  if (changed.welcomeTemplate !== undefined) {
    const problem = await emailTemplateProblem(deps.renderer, changed.welcomeTemplate);
    if (problem) problems.push({ field: 'welcomeTemplate', message: problem });
  }
  if (changed.enrollSequenceId) {
    const problem = await enrollableSequenceProblem(deps.prisma, changed.enrollSequenceId);
    if (problem) problems.push({ field: 'enrollSequenceId', message: problem });
  }
  if (problems.length > 0) throw new ValidationError(problems);
}

function keyTaken(key: string, holderId: string): ConflictError {
  return new ConflictError(`Form ${holderId} already has the key ${key}; keys stay taken when a form is deactivated. Choose another key, or leave it out to get a generated one.`, [
    { field: 'key', message: `${key} belongs to form ${holderId}` },
  ]);
}

/** A concurrent create that took the key after the check fails on the unique index: the same 409. */
async function mapKeyTaken<T>(key: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new ConflictError(`Another form already has the key ${key}.`, [{ field: 'key', message: `${key} belongs to another form` }]);
    }
    throw error;
  }
}

async function recordAudit(tx: Tx, action: string, id: string, before: Form | null, after: Form, audit: AuditContext): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorType: 'api_key',
      actorId: audit.actorId,
      action,
      entityType: 'form',
      entityId: id,
      ...(before ? { before: toFormView(before) } : {}),
      after: toFormView(after),
      requestId: audit.requestId,
    },
  });
}
