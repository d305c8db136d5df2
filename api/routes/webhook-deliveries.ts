import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { WebhookDeliveryListQuerySchema, WebhookDeliveryPageSchema } from '../../domain/schemas/trigger';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import { listWebhookDeliveries } from '../services/trigger-runs';
import { parseQuery } from '../validate';
import { triggerReaders } from './triggers';

export function registerWebhookDeliveryDocs(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get', path: '/v1/webhook-deliveries', tags: ['Triggers'],
    summary: 'Outbound webhook calls of triggers, newest first: pending, delivered, or failed with the last status and error',
    description: 'A delivery is `failed` after a 4xx answer other than 408 and 429 (not retried), a redirect, or when its retries (10 attempts, exponential backoff from 2 s to 5 min) ran out; `attempts`, `lastStatusCode` and `lastError` say what happened.',
    request: { query: WebhookDeliveryListQuerySchema },
    responses: { 200: jsonBody('A page of deliveries', WebhookDeliveryPageSchema), ...problemResponses(400, 401, 403) },
  });
}

export function webhookDeliveriesRouter({ prisma }: ApiDeps): Router {
  const router = Router();
  router.get('/', requireRole(...triggerReaders), async (req, res) => {
    const query = parseQuery(WebhookDeliveryListQuerySchema, req);
    const rows = await listWebhookDeliveries(prisma, query, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (row) => ({ at: new Date(row.createdAt), id: row.id })));
  });
  return router;
}
