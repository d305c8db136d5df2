import { decideCompanyMerge } from '../../domain/company-merge';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors';
import { companyMatchKey } from '../../domain/matching';
import type { CompanyCreate, CompanyListQuery, CompanyMergeRequest, CompanyMergeResult, CompanyUpdate, CompanyView } from '../../domain/schemas/company';
import { Prisma, type PrismaClient } from '../../runtime/prisma';
import type { Cursor } from '../pagination';
import { HttpProblem } from '../problem';
import { assertReferences, type AuditContext } from './contacts';

type Tx = Prisma.TransactionClient;
type CompanyRow = Prisma.CompanyGetPayload<object>;
type CompanyCounts = CompanyView['counts'];

const noCounts: CompanyCounts = { contacts: 0, openDeals: 0 };

export function toCompanyView(row: CompanyRow, counts: CompanyCounts): CompanyView {
  return {
    id: row.id,
    name: row.name,
    domain: row.domain,
    ownerId: row.ownerId,
    counts,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Live contacts and open deals per company: what a delete would leave pointing at a deleted company. */
async function countsOf(db: PrismaClient | Tx, ids: string[]): Promise<Map<string, CompanyCounts>> {
  const contacts = await db.contact.groupBy({ by: ['companyId'], where: { companyId: { in: ids }, deletedAt: null }, _count: { _all: true } });
  const deals = await db.deal.groupBy({ by: ['companyId'], where: { companyId: { in: ids }, deletedAt: null, status: 'open' }, _count: { _all: true } });
  const counts = new Map(ids.map((id) => [id, { ...noCounts }]));
  for (const row of contacts) counts.get(row.companyId!)!.contacts = row._count._all;
  for (const row of deals) counts.get(row.companyId!)!.openDeals = row._count._all;
  return counts;
}

async function viewOf(db: PrismaClient | Tx, row: CompanyRow): Promise<CompanyView> {
  return toCompanyView(row, (await countsOf(db, [row.id])).get(row.id)!);
}

export async function getCompany(prisma: PrismaClient, id: string): Promise<CompanyView | null> {
  const row = await prisma.company.findFirst({ where: { id, deletedAt: null } });
  return row ? viewOf(prisma, row) : null;
}

/** Newest first. The name filter reads the match key too, so case, accents and legal form do not matter. */
export async function listCompanies(prisma: PrismaClient, query: CompanyListQuery, cursor: Cursor | undefined): Promise<CompanyView[]> {
  const nameKey = query.name ? companyMatchKey(query.name) : '';
  const filters: Prisma.CompanyWhereInput[] = [];
  if (query.name) filters.push({ OR: [{ name: { contains: query.name, mode: 'insensitive' } }, ...(nameKey ? [{ nameKey: { contains: nameKey } }] : [])] });
  if (cursor) filters.push({ OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] });
  const rows = await prisma.company.findMany({
    where: { deletedAt: null, ...(query.domain ? { domain: query.domain } : {}), AND: filters },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  const counts = await countsOf(prisma, rows.map((row) => row.id));
  return rows.map((row) => toCompanyView(row, counts.get(row.id)!));
}

export async function createCompany(prisma: PrismaClient, input: CompanyCreate, audit: AuditContext): Promise<CompanyView> {
  return mapDomainRace(prisma, input.domain, () =>
    prisma.$transaction(async (tx) => {
      await assertReferences(tx, { ownerId: input.ownerId ?? null });
      if (input.domain) await assertDomainFree(tx, input.domain, null);
      const row = await tx.company.create({
        data: { name: input.name, nameKey: companyMatchKey(input.name) || null, domain: input.domain ?? null, ownerId: input.ownerId ?? null },
      });
      const view = toCompanyView(row, noCounts);
      await tx.auditLog.create({
        data: { actorType: 'api_key', actorId: audit.actorId, action: 'company.created', entityType: 'company', entityId: row.id, after: view, requestId: audit.requestId },
      });
      return view;
    }),
  );
}

export async function updateCompany(prisma: PrismaClient, id: string, patch: CompanyUpdate, audit: AuditContext): Promise<CompanyView> {
  return mapDomainRace(prisma, patch.domain ?? undefined, () =>
    prisma.$transaction(async (tx) => {
      const before = await tx.company.findFirst({ where: { id, deletedAt: null } });
      if (!before) throw new NotFoundError('Company', id);
      await assertReferences(tx, { ownerId: patch.ownerId ?? null });
      if (patch.domain) await assertDomainFree(tx, patch.domain, id);
      const row = await tx.company.update({
        where: { id },
        data: {
          ...(patch.name !== undefined ? { name: patch.name, nameKey: companyMatchKey(patch.name) || null } : {}),
          ...(patch.domain !== undefined ? { domain: patch.domain } : {}),
          ...(patch.ownerId !== undefined ? { ownerId: patch.ownerId } : {}),
        },
      });
      const counts = (await countsOf(tx, [id])).get(id)!;
      const view = toCompanyView(row, counts);
      await tx.auditLog.create({
        data: {
          actorType: 'api_key', actorId: audit.actorId, action: 'company.updated', entityType: 'company', entityId: id,
          before: toCompanyView(before, counts), after: view, requestId: audit.requestId,
        },
      });
      return view;
    }),
  );
}

/**
 * Soft delete, refused while live contacts or open deals point at the company (move them, or
 * merge the company into another one). Closed deals keep it as history. Its domain is
 * released, as a deleted contact's addresses are, so a new company may take it; the audit
 * log's before image keeps it.
 */
export async function deleteCompany(prisma: PrismaClient, id: string, audit: AuditContext): Promise<void> {
  await prisma.$transaction(async (tx) => {
    // FOR UPDATE also holds back a contact or deal being linked to it meanwhile (their foreign keys need KEY SHARE).
    const [locked] = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM companies WHERE id = ${id}::uuid AND deleted_at IS NULL FOR UPDATE`;
    if (!locked) throw new NotFoundError('Company', id);
    const before = await tx.company.findUniqueOrThrow({ where: { id } });
    const counts = (await countsOf(tx, [id])).get(id)!;
    if (counts.contacts > 0 || counts.openDeals > 0) {
      throw new ConflictError(
        `Company ${id} still has ${plural(counts.contacts, 'contact')} and ${plural(counts.openDeals, 'open deal')}; link them to another company or merge this one into it instead.`,
      );
    }
    await tx.company.update({ where: { id }, data: { deletedAt: new Date(), domain: null } });
    await tx.auditLog.create({
      data: { actorType: 'api_key', actorId: audit.actorId, action: 'company.deleted', entityType: 'company', entityId: id, before: toCompanyView(before, counts), requestId: audit.requestId },
    });
  });
}

/**
 * Merges companies into a survivor in one transaction: survivorship by
 * domain/company-merge.ts, every contact and deal of a merged company moves to the survivor,
 * and the merged companies are soft-deleted with their domains released (the survivor may
 * take one). The audit log keeps every before image.
 */
export async function mergeCompanies(prisma: PrismaClient, survivorId: string, request: CompanyMergeRequest, audit: AuditContext): Promise<CompanyMergeResult> {
  const itself = request.mergeIds.flatMap((id, index) => (id === survivorId ? [{ field: `mergeIds/${index}`, message: 'is the surviving company itself' }] : []));
  if (itself.length > 0) throw new ValidationError(itself);
  const ids = [survivorId, ...request.mergeIds];

  return prisma.$transaction(
    async (tx) => {
      // In id order, so two merges of overlapping companies wait for each other instead of deadlocking.
      const live = new Set(
        (await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM companies WHERE id = ANY(${ids}::uuid[]) AND deleted_at IS NULL ORDER BY id FOR UPDATE`).map((row) => row.id),
      );
      if (!live.has(survivorId)) throw new NotFoundError('Company', survivorId);
      const missing = request.mergeIds.flatMap((id, index) => (live.has(id) ? [] : [{ field: `mergeIds/${index}`, message: 'is not an existing company' }]));
      if (missing.length > 0) throw new ValidationError(missing);

      const rows = new Map((await tx.company.findMany({ where: { id: { in: ids } } })).map((row) => [row.id, row]));
      const survivor = rows.get(survivorId)!;
      const losers = request.mergeIds.map((id) => rows.get(id)!);
      const countsBefore = await countsOf(tx, ids);
      const merged = decideCompanyMerge(survivor, losers);

      const movedFrom = new Map<string, CompanyMergeResult['moved']>();
      for (const loser of losers) {
        const contacts = await tx.contact.updateMany({ where: { companyId: loser.id }, data: { companyId: survivorId } });
        const deals = await tx.deal.updateMany({ where: { companyId: loser.id }, data: { companyId: survivorId } });
        movedFrom.set(loser.id, { contacts: contacts.count, deals: deals.count });
      }
      // The merged companies give up their domains before the survivor takes one: the unique index checks each statement.
      await tx.company.updateMany({ where: { id: { in: request.mergeIds } }, data: { deletedAt: new Date(), domain: null } });
      const after = await tx.company.update({ where: { id: survivorId }, data: { domain: merged.domain, ownerId: merged.ownerId } });

      const result: CompanyMergeResult = {
        survivor: await viewOf(tx, after),
        mergedIds: request.mergeIds,
        decisions: merged.decisions,
        moved: {
          contacts: [...movedFrom.values()].reduce((sum, moved) => sum + moved.contacts, 0),
          deals: [...movedFrom.values()].reduce((sum, moved) => sum + moved.deals, 0),
        },
      };
      const imageOf = (row: CompanyRow) => toCompanyView(row, countsBefore.get(row.id)!);
      const actor = { actorType: 'api_key', actorId: audit.actorId, requestId: audit.requestId };
      await tx.auditLog.create({
        data: {
          ...actor, action: 'company.merged', entityType: 'company', entityId: survivorId,
          before: { survivor: imageOf(survivor), merged: losers.map(imageOf) },
          after: { company: result.survivor, decisions: result.decisions, moved: result.moved },
        },
      });
      await tx.auditLog.createMany({
        data: losers.map((loser) => ({
          ...actor, action: 'company.merged_into', entityType: 'company', entityId: loser.id,
          before: imageOf(loser), after: { mergedIntoId: survivorId, moved: movedFrom.get(loser.id)! },
        })),
      });
      return result;
    },
    // Moving a large company's contacts and deals touches many rows; the default 5 s is for small writes.
    { timeout: 60_000, maxWait: 10_000 },
  );
}

/** The domain is the dedupe key: one that another company has is a 409 naming it, so the client can link instead. */
async function assertDomainFree(tx: Tx, domain: string, selfId: string | null): Promise<void> {
  const holder = await tx.company.findUnique({ where: { domain }, select: { id: true } });
  if (holder && holder.id !== selfId) throw domainTaken(domain, holder.id);
}

function domainTaken(domain: string, existingCompanyId: string): HttpProblem {
  return new HttpProblem(
    409, 'conflict', 'The request conflicts with the current state.',
    `Company ${existingCompanyId} already has the domain ${domain}; link to it, or merge the companies.`,
    [{ field: 'domain', message: `${domain} belongs to company ${existingCompanyId}` }], {}, { existingCompanyId },
  );
}

/** A concurrent write that took the domain after the check fails on the unique index: the same 409. */
async function mapDomainRace<T>(prisma: PrismaClient, domain: string | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (domain && error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      const holder = await prisma.company.findUnique({ where: { domain }, select: { id: true } });
      if (holder) throw domainTaken(domain, holder.id);
    }
    throw error;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
