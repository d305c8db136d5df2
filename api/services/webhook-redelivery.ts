import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../domain/errors';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import type { WorkflowGateway } from '../workflow-gateway';
import { deliveryView } from './trigger-runs';

export interface RedeliveryDeps {
  prisma: PrismaClient;
  gateway: Pick<WorkflowGateway, 'startWebhookRedelivery'>;
}

/**
 * POST /v1/webhook-deliveries/{id}/redeliver: a new delivery of a finished one's payload, to
 * the same URL with the same event, linked to the first delivery of that payload
 * (`redeliveryOf`, also when a redelivery is redelivered), whose id it sends as
 * Touchpoint-Delivery so the receiver can drop a repeat. It is signed afresh and retried like
 * any delivery, in its own workflow (workflows/webhook-redelivery.ts). One at a time: 409 while
 * the delivery, or another redelivery of the same payload, is still pending. If the workflow
 * cannot be started the new row is marked failed, so no delivery stays pending without one.
 */
export async function redeliverWebhook(deps: RedeliveryDeps, id: string, audit: { actorId: string; requestId: string }) {
  const { prisma, gateway } = deps;
  const redelivery = await prisma.$transaction(async (tx) => {
    const original = await tx.webhookDelivery.findUnique({ where: { id } });
    if (!original) throw new NotFoundError('Webhook delivery', id);
    const firstId = original.redeliveryOf ?? original.id;
    // Two calls at once: the second waits here, then finds the first one's redelivery pending.
    await tx.$queryRaw`SELECT id FROM webhook_deliveries WHERE id = ${firstId}::uuid FOR UPDATE`;
    const pending = await tx.webhookDelivery.findFirst({ where: { OR: [{ id: firstId }, { redeliveryOf: firstId }], status: 'pending' }, select: { id: true } });
    if (pending) {
      throw new ConflictError(
        pending.id === id
          ? `Webhook delivery ${id} is still pending: it can be redelivered once it has been delivered or has failed.`
          : `Webhook delivery ${pending.id}, a delivery of the same payload, is still pending: one redelivery at a time.`,
      );
    }
    const newId = randomUUID();
    const row = await tx.webhookDelivery.create({
      data: {
        id: newId,
        idempotencyKey: `redelivery:${newId}`,
        url: original.url,
        event: original.event,
        payload: original.payload as Prisma.InputJsonValue,
        triggerId: original.triggerId,
        dealId: original.dealId,
        redeliveryOf: firstId,
      },
    });
    await tx.auditLog.create({
      data: { actorType: 'api_key', actorId: audit.actorId, action: 'webhook_delivery.redelivered', entityType: 'webhook_delivery', entityId: newId, after: { redeliveryOf: firstId, requestedFor: id }, requestId: audit.requestId },
    });
    return row;
  });
  try {
    await gateway.startWebhookRedelivery(redelivery.id);
  } catch (error) {
    await prisma.webhookDelivery.update({ where: { id: redelivery.id }, data: { status: 'failed', lastError: 'the redelivery workflow could not be started' } });
    throw error;
  }
  return deliveryView(redelivery);
}
