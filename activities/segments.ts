import type { SegmentFilter } from '../domain/segment';
import type { Prisma } from '../runtime/prisma';

/** The contacts a segment filter selects (never deleted ones), as a Prisma filter. */
export function segmentWhere(filter: SegmentFilter): Prisma.ContactWhereInput {
  const all: Prisma.ContactWhereInput[] = [{ deletedAt: null }];
  const { tags } = filter;
  if (tags?.any) all.push({ tags: { hasSome: tags.any } });
  if (tags?.all) all.push({ tags: { hasEvery: tags.all } });
  if (tags?.none) all.push({ NOT: { tags: { hasSome: tags.none } } });
  if (filter.lifecycleStages) all.push({ lifecycleStage: { in: filter.lifecycleStages } });
  if (filter.source) all.push({ source: filter.source });
  if (filter.ownerId !== undefined) all.push({ ownerId: filter.ownerId });
  if (filter.createdAfter) all.push({ createdAt: { gte: new Date(filter.createdAfter) } });
  if (filter.createdBefore) all.push({ createdAt: { lt: new Date(filter.createdBefore) } });
  for (const [field, value] of Object.entries(filter.customFields ?? {})) all.push({ customFields: { path: [field], equals: value } });
  return { AND: all };
}

/** Keyset position in a segment walked oldest first: (created_at, id) of the last contact done. */
export interface SegmentPosition {
  createdAt: Date;
  id: string;
}

export function encodePosition(position: SegmentPosition): string {
  return `${position.createdAt.toISOString()}|${position.id}`;
}

export function decodePosition(raw: string): SegmentPosition {
  const [at, id] = raw.split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) throw new Error(`Not a segment position: ${JSON.stringify(raw)}`);
  return { createdAt, id };
}

/**
 * One page of a segment after `after`, oldest first. `asOf` bounds the walk to the contacts
 * that existed when the job started, so a steady stream of new contacts cannot keep it going.
 */
export function segmentPageWhere(filter: SegmentFilter, asOf: Date, after: SegmentPosition | null): Prisma.ContactWhereInput {
  return {
    AND: [
      segmentWhere(filter),
      { createdAt: { lte: asOf } },
      ...(after ? [{ OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] }] : []),
    ],
  };
}
