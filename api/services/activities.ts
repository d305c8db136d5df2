import { NotFoundError, ValidationError } from '../../domain/errors';
import { occurredAtSkewMs, type ActivityCreate, type ActivityView } from '../../domain/schemas/activity';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import type { Cursor } from '../pagination';
import { inScope } from './deal-access';
import type { RecordedTouch } from './deal-signals';
import { findVisibleDeal, type DealActor } from './deals';

type ActivityRow = Prisma.ActivityGetPayload<object>;

export function toActivityView(row: ActivityRow, touchedDealIds?: string[]): ActivityView {
  const data = row.data as { body?: unknown };
  return {
    id: row.id,
    type: row.type,
    dealId: row.dealId,
    contactId: row.contactId,
    actorUserId: row.actorUserId,
    subject: row.subject,
    body: typeof data.body === 'string' ? data.body : null,
    occurredAt: row.occurredAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    ...(touchedDealIds ? { touchedDealIds } : {}),
  };
}

/**
 * Logs what the caller did (call, email, meeting, note, reply) and counts it as a touch: the
 * deal's last touch moves to the activity's time (never backwards), and its workflow hears of
 * it after the commit. An activity on a contact alone touches every open deal of that contact,
 * whoever owns it: the person was reached. Closed deals are not touched; they do not idle.
 */
export async function logActivity(prisma: PrismaClient, input: ActivityCreate, actor: DealActor): Promise<{ activity: ActivityView; touches: RecordedTouch[] }> {
  const occurredAt = input.occurredAt ? new Date(input.occurredAt) : new Date();
  if (occurredAt.getTime() > Date.now() + occurredAtSkewMs) throw new ValidationError([{ field: 'occurredAt', message: 'is in the future; plan it as a task instead' }]);
  return prisma.$transaction(async (tx) => {
    const deal = input.dealId ? await findVisibleDeal(tx, actor.scope, input.dealId) : null;
    const contactId = input.contactId ?? deal?.contactId ?? null;
    if (input.contactId && !(await tx.contact.findFirst({ where: { id: input.contactId, deletedAt: null }, select: { id: true } }))) {
      throw new ValidationError([{ field: 'contactId', message: 'is not an existing contact' }]);
    }
    const row = await tx.activity.create({
      data: {
        type: input.type,
        dealId: deal?.id ?? null,
        contactId,
        actorUserId: actor.principal.userId,
        subject: input.subject ?? null,
        occurredAt,
        data: input.body ? { body: input.body } : {},
      },
    });
    const touched = deal
      ? await tx.$queryRaw<Array<{ id: string; owner_id: string }>>`
          UPDATE deals SET last_touch_at = GREATEST(last_touch_at, ${occurredAt}), updated_at = now()
           WHERE id = ${deal.id}::uuid AND status = 'open'
          RETURNING id, owner_id`
      : await tx.$queryRaw<Array<{ id: string; owner_id: string }>>`
          UPDATE deals SET last_touch_at = GREATEST(last_touch_at, ${occurredAt}), updated_at = now()
           WHERE contact_id = ${contactId}::uuid AND status = 'open' AND deleted_at IS NULL
          RETURNING id, owner_id`;
    const touches = touched.map((dealRow) => ({ dealId: dealRow.id, touch: { sourceId: row.id, kind: 'activity' as const, at: occurredAt.toISOString() } }));
    // Deals of other owners are touched too, but a caller only learns the ids of deals it may see.
    const visible = touched.filter((dealRow) => inScope(actor.scope, dealRow.owner_id)).map((dealRow) => dealRow.id);
    return { activity: toActivityView(row, visible), touches };
  });
}

/** Newest first. A deal outside the caller's scope is a 404; contacts are readable by all. */
export async function listActivities(
  prisma: PrismaClient,
  actor: Pick<DealActor, 'scope'>,
  query: { dealId?: string | undefined; contactId?: string | undefined; limit: number },
  cursor: Cursor | undefined,
): Promise<ActivityView[]> {
  if (query.dealId) await findVisibleDeal(prisma, actor.scope, query.dealId);
  if (query.contactId && !(await prisma.contact.findFirst({ where: { id: query.contactId, deletedAt: null }, select: { id: true } }))) {
    throw new NotFoundError('Contact', query.contactId);
  }
  const rows = await prisma.activity.findMany({
    where: {
      ...(query.dealId ? { dealId: query.dealId } : {}),
      ...(query.contactId ? { contactId: query.contactId } : {}),
      ...(cursor ? { OR: [{ occurredAt: { lt: cursor.at } }, { occurredAt: cursor.at, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  return rows.map((row) => toActivityView(row));
}
