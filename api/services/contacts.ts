import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors';
import type { ContactListQuery, ContactCreate, ContactUpdate, ContactView } from '../../domain/schemas/contact';
import { Prisma, type PrismaClient } from '../../runtime/prisma';
import type { Cursor } from '../pagination';
import { readAutomationSetting } from '../../activities/automation-settings';
import { scoreAt } from '../../domain/scoring';
import { assertLifecycleStageRequirements } from './required-fields';

export const contactInclude = {
  emails: { orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }] },
  phones: { orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }] },
  consents: true,
} satisfies Prisma.ContactInclude;

export type ContactRow = Prisma.ContactGetPayload<{ include: typeof contactInclude }>;

export interface AuditContext {
  actorId: string;
  requestId: string;
}

/** Scores are stored with the moment they were exact and shown decayed to `at` (domain/scoring.ts). */
export interface ScoreClock {
  halfLifeDays: number;
  at: Date;
}

export async function scoreClock(db: Pick<Prisma.TransactionClient, 'automationSetting'>): Promise<ScoreClock> {
  return { halfLifeDays: (await readAutomationSetting(db, 'scoring')).halfLifeDays, at: new Date() };
}

export function toContactView(row: ContactRow, clock: ScoreClock): ContactView {
  return {
    id: row.id,
    firstName: row.firstName,
    lastName: row.lastName,
    emails: row.emails.map((email) => ({ address: email.address, status: email.status, isPrimary: email.isPrimary })),
    phones: row.phones.map((phone) => ({ e164: phone.e164, status: phone.status, isPrimary: phone.isPrimary })),
    lifecycleStage: row.lifecycleStage,
    ownerId: row.ownerId,
    companyId: row.companyId,
    source: row.source,
    timeZone: row.timeZone,
    country: row.country,
    score: Math.round(scoreAt({ score: row.score, asOf: row.scoreAsOf }, clock.at, clock.halfLifeDays)),
    tags: row.tags,
    customFields: row.customFields as Record<string, unknown>,
    consent: Object.fromEntries(row.consents.map((consent) => [consent.channel, { status: consent.status, source: consent.source, at: consent.at.toISOString() }])),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function getContact(prisma: PrismaClient, id: string): Promise<ContactView | null> {
  const row = await prisma.contact.findFirst({ where: { id, deletedAt: null }, include: contactInclude });
  return row ? toContactView(row, await scoreClock(prisma)) : null;
}

export async function listContacts(prisma: PrismaClient, query: ContactListQuery, cursor: Cursor | undefined): Promise<ContactView[]> {
  const rows = await prisma.contact.findMany({
    where: {
      deletedAt: null,
      ...(query.lifecycleStage ? { lifecycleStage: query.lifecycleStage } : {}),
      ...(query.ownerId ? { ownerId: query.ownerId } : {}),
      ...(query.source ? { source: query.source } : {}),
      ...(query.tag ? { tags: { has: query.tag } } : {}),
      ...(query.email ? { emails: { some: { address: query.email } } } : {}),
      ...(query.createdAfter || query.createdBefore
        ? { createdAt: { ...(query.createdAfter ? { gte: new Date(query.createdAfter) } : {}), ...(query.createdBefore ? { lt: new Date(query.createdBefore) } : {}) } }
        : {}),
      ...(cursor ? { OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
    include: contactInclude,
  });
  const clock = await scoreClock(prisma);
  return rows.map((row) => toContactView(row, clock));
}

export async function createContact(prisma: PrismaClient, input: ContactCreate, audit: AuditContext): Promise<ContactView> {
  return mapAddressConflicts(input, () =>
    prisma.$transaction(async (tx) => {
      await assertReferences(tx, input);
      await assertLifecycleStageRequirements(tx, input.lifecycleStage, { ...input, source: input.source ?? 'api' });
      const row = await tx.contact.create({
        data: {
          firstName: input.firstName ?? null,
          lastName: input.lastName ?? null,
          lifecycleStage: input.lifecycleStage,
          ownerId: input.ownerId ?? null,
          companyId: input.companyId ?? null,
          source: input.source ?? 'api',
          timeZone: input.timeZone ?? null,
          country: input.country ?? null,
          tags: [...new Set(input.tags)],
          customFields: withoutNulls(input.customFields),
          emails: { create: input.emails.map((address, index) => ({ address, isPrimary: index === 0 })) },
          phones: { create: input.phones.map((e164, index) => ({ e164, isPrimary: index === 0 })) },
        },
        include: contactInclude,
      });
      const view = toContactView(row, await scoreClock(tx));
      await tx.auditLog.create({
        data: { actorType: 'api_key', actorId: audit.actorId, action: 'contact.created', entityType: 'contact', entityId: row.id, after: view as unknown as Prisma.InputJsonObject, requestId: audit.requestId },
      });
      return view;
    }),
  );
}

export async function updateContact(prisma: PrismaClient, id: string, patch: ContactUpdate, audit: AuditContext): Promise<ContactView> {
  return mapAddressConflicts(patch, () =>
    prisma.$transaction(async (tx) => {
      const before = await tx.contact.findFirst({ where: { id, deletedAt: null }, include: contactInclude });
      if (!before) throw new NotFoundError('Contact', id);
      await assertReferences(tx, patch);
      const emails = patch.emails ?? before.emails.map((email) => email.address);
      const phones = patch.phones ?? before.phones.map((phone) => phone.e164);
      if (emails.length === 0 && phones.length === 0) {
        throw new ValidationError([{ field: patch.emails ? 'emails' : 'phones', message: 'a contact needs at least one email address or phone number' }]);
      }
      const customFields = { ...(before.customFields as Record<string, unknown>), ...patch.customFields };
      if (patch.lifecycleStage && patch.lifecycleStage !== before.lifecycleStage) {
        const value = <K extends keyof ContactUpdate & keyof typeof before>(field: K) => (patch[field] !== undefined ? patch[field] : before[field]);
        await assertLifecycleStageRequirements(tx, patch.lifecycleStage, {
          firstName: value('firstName'), lastName: value('lastName'), ownerId: value('ownerId'), companyId: value('companyId'),
          source: value('source'), timeZone: value('timeZone'), country: value('country'), emails, phones, customFields,
        });
      }
      if (patch.emails) await replaceEmails(tx, id, patch.emails);
      if (patch.phones) await replacePhones(tx, id, patch.phones);
      // An address upserted above that belongs to another contact would have been moved: refuse.
      const foreign = await tx.contactEmail.count({ where: { address: { in: patch.emails ?? [] }, contactId: { not: id } } });
      const foreignPhones = await tx.contactPhone.count({ where: { e164: { in: patch.phones ?? [] }, contactId: { not: id } } });
      if (foreign + foreignPhones > 0) throw addressConflict();

      const row = await tx.contact.update({
        where: { id },
        data: {
          ...(patch.firstName !== undefined ? { firstName: patch.firstName } : {}),
          ...(patch.lastName !== undefined ? { lastName: patch.lastName } : {}),
          ...(patch.lifecycleStage ? { lifecycleStage: patch.lifecycleStage } : {}),
          ...(patch.ownerId !== undefined ? { ownerId: patch.ownerId } : {}),
          ...(patch.companyId !== undefined ? { companyId: patch.companyId } : {}),
          ...(patch.source !== undefined ? { source: patch.source } : {}),
          ...(patch.timeZone !== undefined ? { timeZone: patch.timeZone } : {}),
          ...(patch.country !== undefined ? { country: patch.country } : {}),
          ...(patch.tags ? { tags: [...new Set(patch.tags)] } : {}),
          ...(patch.customFields ? { customFields: withoutNulls(customFields) } : {}),
        },
        include: contactInclude,
      });
      const clock = await scoreClock(tx);
      const view = toContactView(row, clock);
      await tx.auditLog.create({
        data: {
          actorType: 'api_key', actorId: audit.actorId, action: 'contact.updated', entityType: 'contact', entityId: id,
          before: toContactView(before, clock) as unknown as Prisma.InputJsonObject, after: view as unknown as Prisma.InputJsonObject, requestId: audit.requestId,
        },
      });
      return view;
    }),
  );
}

/**
 * Soft delete: the record stays for reports and the audit log keeps its before image, but
 * its addresses are released so the same person can sign up again as a new contact.
 */
export async function deleteContact(prisma: PrismaClient, id: string, audit: AuditContext): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const before = await tx.contact.findFirst({ where: { id, deletedAt: null }, include: contactInclude });
    if (!before) throw new NotFoundError('Contact', id);
    await tx.contactEmail.deleteMany({ where: { contactId: id } });
    await tx.contactPhone.deleteMany({ where: { contactId: id } });
    await tx.task.updateMany({ where: { contactId: id, status: 'open' }, data: { status: 'cancelled', outcome: 'contact deleted' } });
    // A deleted contact is nobody's duplicate any more.
    await tx.duplicateCandidate.deleteMany({ where: { status: 'open', OR: [{ contactAId: id }, { contactBId: id }] } });
    await tx.contactMatchKey.deleteMany({ where: { contactId: id } });
    await tx.contact.update({ where: { id }, data: { deletedAt: new Date() } });
    await tx.auditLog.create({
      data: { actorType: 'api_key', actorId: audit.actorId, action: 'contact.deleted', entityType: 'contact', entityId: id, before: toContactView(before, await scoreClock(tx)) as unknown as Prisma.InputJsonObject, requestId: audit.requestId },
    });
  });
}

/** The list becomes the contact's addresses, the first one primary. */
async function replaceEmails(tx: Prisma.TransactionClient, contactId: string, addresses: string[]): Promise<void> {
  await tx.contactEmail.deleteMany({ where: { contactId, address: { notIn: addresses } } });
  for (const [index, address] of addresses.entries()) {
    await tx.contactEmail.upsert({ where: { address }, create: { contactId, address, isPrimary: index === 0 }, update: { isPrimary: index === 0 } });
  }
}

async function replacePhones(tx: Prisma.TransactionClient, contactId: string, numbers: string[]): Promise<void> {
  await tx.contactPhone.deleteMany({ where: { contactId, e164: { notIn: numbers } } });
  for (const [index, e164] of numbers.entries()) {
    await tx.contactPhone.upsert({ where: { e164 }, create: { contactId, e164, isPrimary: index === 0 }, update: { isPrimary: index === 0 } });
  }
}

/** A given owner must be an active user and a given company a live one (422 naming each field); companies check their owner here too. */
export async function assertReferences(tx: Prisma.TransactionClient, input: { ownerId?: string | null; companyId?: string | null }): Promise<void> {
  const errors = [];
  if (input.ownerId && !(await tx.user.findFirst({ where: { id: input.ownerId, active: true }, select: { id: true } }))) {
    errors.push({ field: 'ownerId', message: 'is not an active user' });
  }
  if (input.companyId && !(await tx.company.findFirst({ where: { id: input.companyId, deletedAt: null }, select: { id: true } }))) {
    errors.push({ field: 'companyId', message: 'is not an existing company' });
  }
  if (errors.length > 0) throw new ValidationError(errors);
}

function addressConflict(): ConflictError {
  return new ConflictError('An email address or phone number already belongs to another contact; merge the contacts instead.');
}

async function mapAddressConflicts<T>(input: { emails?: string[]; phones?: string[] }, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      const target = JSON.stringify(error.meta ?? {});
      const field = target.includes('e164') ? 'phones' : 'emails';
      throw new ConflictError('An email address or phone number already belongs to another contact; merge the contacts instead.', [
        { field, message: `${(input[field] ?? []).join(', ')}: one of these already belongs to another contact` },
      ]);
    }
    throw error;
  }
}

function withoutNulls(fields: Record<string, unknown>): Prisma.InputJsonObject {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null)) as Prisma.InputJsonObject;
}
