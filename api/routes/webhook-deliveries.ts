import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { IdParamsSchema } from '../../domain/schemas/common';
import { WebhookDeliveryListQuerySchema, WebhookDeliveryPageSchema, WebhookDeliverySchema } from '../../domain/schemas/trigger';
import type { ApiDeps } from '../deps';
import { principalOf, requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import { listWebhookDeliveries } from '../services/trigger-runs';
import { redeliverWebhook } from '../services/webhook-redelivery';
import { parseParams, parseQuery } from '../validate';
import type { WorkflowGateway } from '../workflow-gateway';
import { triggerReaders, triggerWriters } from './triggers';

export function registerWebhookDeliveryDocs(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get', path: '/v1/webhook-deliveries', tags: ['Triggers'],
    summary: 'Outbound webhook calls of triggers, newest first: pending, delivered, or failed with the last status and error',
    description:
      'A delivery is `failed` after a 4xx answer other than 408 and 429 (not retried), a redirect, a host that is or resolves to a private, loopback or link-local address while WEBHOOK_ALLOW_PRIVATE_NETWORKS is off (not retried; `lastError` names the address), or when its retries (10 attempts, exponential backoff from 2 s to 5 min) ran out; `attempts`, `lastStatusCode` and `lastError` say what happened. A redelivery has `redeliveryOf` set.',
    request: { query: WebhookDeliveryListQuerySchema },
    responses: { 200: jsonBody('A page of deliveries', WebhookDeliveryPageSchema), ...problemResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/webhook-deliveries/{id}/redeliver', tags: ['Triggers'],
    summary: 'Send a delivered or failed webhook again',
    description:
      'Writes a new delivery of the same payload to the same URL with the same `Touchpoint-Event` and sends it in the background, signed afresh (new `t`) with the trigger\'s current signing secret and retried like any delivery. Its `redeliveryOf` is the first delivery of that payload, whose id it also sends as `Touchpoint-Delivery` (and a standard event keeps its `id`), so a receiver that already has it can drop it. Follow it in GET /v1/webhook-deliveries. 409 while the delivery, or another redelivery of the same payload, is still pending.',
    request: { params: IdParamsSchema },
    responses: { 202: jsonBody('The new delivery, pending', WebhookDeliverySchema), ...problemResponses(400, 401, 403, 404, 409) },
  });
}

export function webhookDeliveriesRouter({ prisma }: ApiDeps, gateway: WorkflowGateway): Router {
  const router = Router();
  router.get('/', requireRole(...triggerReaders), async (req, res) => {
    const query = parseQuery(WebhookDeliveryListQuerySchema, req);
    const rows = await listWebhookDeliveries(prisma, query, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (row) => ({ at: new Date(row.createdAt), id: row.id })));
  });
  router.post('/:id/redeliver', requireRole(...triggerWriters), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const delivery = await redeliverWebhook({ prisma, gateway }, id, { actorId: principalOf(req).apiKeyId, requestId: String(req.id) });
    res.status(202).json(delivery);
  });
  return router;
}
