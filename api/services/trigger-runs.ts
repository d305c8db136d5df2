import { NotFoundError } from '../../domain/errors';
import type { TriggerWebhookEvent } from '../../domain/schemas/trigger';
import type { WebhookDelivery } from '../../prisma/generated/client';
import type { PrismaClient } from '../../runtime/prisma';
import type { Cursor } from '../pagination';

/**
 * What triggers did: the TriggerRun ledger of a trigger (one row per action and stage change)
 * and the outbound webhook deliveries, failed ones included, newest first.
 */
export async function listTriggerRuns(
  prisma: PrismaClient,
  triggerId: string,
  query: { limit: number; dealId?: string | undefined; stageChangeId?: string | undefined; status?: string | undefined },
  cursor: Cursor | undefined,
) {
  if (!(await prisma.trigger.findUnique({ where: { id: triggerId }, select: { id: true } }))) throw new NotFoundError('Trigger', triggerId);
  const rows = await prisma.triggerRun.findMany({
    where: {
      triggerId,
      ...(query.dealId ? { dealId: query.dealId } : {}),
      ...(query.stageChangeId ? { stageChangeId: query.stageChangeId } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(cursor ? { OR: [{ at: { lt: cursor.at } }, { at: cursor.at, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ at: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  return rows.map((row) => ({
    id: row.id,
    triggerId: row.triggerId,
    version: row.version,
    dealId: row.dealId,
    stageChangeId: row.stageChangeId,
    actionIndex: row.actionIndex,
    actionType: row.actionType,
    status: row.status as 'done' | 'skipped' | 'failed',
    detail: row.detail as Record<string, unknown>,
    at: row.at.toISOString(),
  }));
}

export async function listWebhookDeliveries(
  prisma: PrismaClient,
  query: { limit: number; status?: string | undefined; dealId?: string | undefined; triggerId?: string | undefined },
  cursor: Cursor | undefined,
) {
  const rows = await prisma.webhookDelivery.findMany({
    where: {
      ...(query.status ? { status: query.status } : {}),
      ...(query.dealId ? { dealId: query.dealId } : {}),
      ...(query.triggerId ? { triggerId: query.triggerId } : {}),
      ...(cursor ? { OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  return rows.map(deliveryView);
}

export function deliveryView(row: WebhookDelivery) {
  return {
    id: row.id,
    idempotencyKey: row.idempotencyKey,
    url: row.url,
    event: row.event as TriggerWebhookEvent['type'],
    status: row.status as 'pending' | 'delivered' | 'failed',
    attempts: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    triggerId: row.triggerId,
    dealId: row.dealId,
    redeliveryOf: row.redeliveryOf,
    payload: row.payload,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
  };
}
