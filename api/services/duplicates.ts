import { ConflictError, NotFoundError } from '../../domain/errors';
import type { DuplicateListQuery, DuplicatePairView } from '../../domain/schemas/duplicates';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import { HttpProblem } from '../problem';
import type { AuditContext } from './contacts';

/** Keyset position in the list's order (score descending, then id). */
export interface ScoreCursor {
  score: number;
  id: string;
}

export function encodeScoreCursor(cursor: ScoreCursor): string {
  return Buffer.from(`${cursor.score}|${cursor.id}`).toString('base64url');
}

export function decodeScoreCursor(raw: string | undefined): ScoreCursor | undefined {
  if (raw === undefined) return undefined;
  const [score, id] = Buffer.from(raw, 'base64url').toString().split('|');
  const value = Number(score);
  if (score === undefined || score === '' || !Number.isFinite(value) || !id || !/^[0-9a-f-]{36}$/.test(id)) {
    throw new HttpProblem(400, 'invalid-parameters', 'Invalid query parameters.', 'The cursor is not one this API issued.', [
      { field: 'query.cursor', message: 'is not a valid cursor' },
    ]);
  }
  return { score: value, id };
}

type CandidateRow = Prisma.DuplicateCandidateGetPayload<object>;

/** Candidate pairs, most likely first; `limit + 1` rows so the caller knows whether a next page exists. */
export async function listDuplicatePairs(prisma: PrismaClient, query: DuplicateListQuery, cursor: ScoreCursor | undefined): Promise<DuplicatePairView[]> {
  const rows = await prisma.duplicateCandidate.findMany({
    where: {
      status: query.status,
      score: { gte: query.minScore },
      ...(query.reviewTaskId ? { reviewTaskId: query.reviewTaskId } : {}),
      AND: [
        query.contactId ? { OR: [{ contactAId: query.contactId }, { contactBId: query.contactId }] } : {},
        cursor ? { OR: [{ score: { lt: cursor.score } }, { score: cursor.score, id: { gt: cursor.id } }] } : {},
      ],
    },
    orderBy: [{ score: 'desc' }, { id: 'asc' }],
    take: query.limit + 1,
  });
  return pairViews(prisma, rows);
}

/** A person decided the two are different people: later audits leave the pair dismissed. */
export async function dismissDuplicatePair(prisma: PrismaClient, id: string, audit: AuditContext): Promise<DuplicatePairView> {
  const row = await prisma.$transaction(async (tx) => {
    const before = await tx.duplicateCandidate.findUnique({ where: { id } });
    if (!before) throw new NotFoundError('Duplicate pair', id);
    if (before.status === 'merged') throw new ConflictError('The pair was merged already; a merge cannot be dismissed.');
    if (before.status === 'dismissed') return before;
    const after = await tx.duplicateCandidate.update({ where: { id }, data: { status: 'dismissed', resolvedAt: new Date(), resolvedById: audit.actorId } });
    await tx.auditLog.create({
      data: {
        actorType: 'api_key', actorId: audit.actorId, action: 'duplicate.dismissed', entityType: 'duplicate_candidate', entityId: id,
        before: { contactAId: before.contactAId, contactBId: before.contactBId, score: before.score, reasons: before.reasons, status: before.status },
        after: { status: after.status }, requestId: audit.requestId,
      },
    });
    return after;
  });
  return (await pairViews(prisma, [row]))[0]!;
}

async function pairViews(prisma: PrismaClient, rows: CandidateRow[]): Promise<DuplicatePairView[]> {
  const ids = [...new Set(rows.flatMap((row) => [row.contactAId, row.contactBId]))];
  const contacts = await prisma.contact.findMany({
    where: { id: { in: ids } },
    include: {
      emails: { orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }], take: 1 },
      phones: { orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }], take: 1 },
      company: { select: { name: true } },
    },
  });
  const byId = new Map(
    contacts.map((contact) => [
      contact.id,
      {
        id: contact.id,
        firstName: contact.firstName,
        lastName: contact.lastName,
        email: contact.emails[0]?.address ?? null,
        phone: contact.phones[0]?.e164 ?? null,
        company: contact.company?.name ?? null,
        lifecycleStage: contact.lifecycleStage,
        ownerId: contact.ownerId,
        updatedAt: contact.updatedAt.toISOString(),
      },
    ]),
  );
  // Contacts are soft-deleted, never removed, so both sides of a pair are always found.
  return rows.map((row) => ({
    id: row.id,
    score: row.score,
    reasons: row.reasons,
    status: row.status as DuplicatePairView['status'],
    reviewTaskId: row.reviewTaskId,
    contacts: [byId.get(row.contactAId)!, byId.get(row.contactBId)!],
    firstSeenAt: row.firstSeenAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
  }));
}
