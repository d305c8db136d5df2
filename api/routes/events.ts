import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { TrackedEventResultsSchema, maxEventsPerBatch, trackedEventBatchSchema } from '../../domain/schemas/tracked-event';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { ingestTrackedEvents } from '../services/events';
import { parseBody } from '../validate';
import type { WorkflowGateway } from '../workflow-gateway';

/** The website's and the shop's integrations send events with a service key of one of these roles. */
const senders = ['admin', 'marketer', 'sales_ops'] as const;

const TrackedEventBatchSchema = trackedEventBatchSchema(() => new Date());

export function registerEventDocs(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/events',
    tags: ['Tracked events'],
    summary: `Record a batch of 1-${maxEventsPerBatch} tracked events: page views, purchases, email replies, booked meetings, custom events`,
    description:
      'Each event is stored as an activity on its contact and signalled to the contact\'s workflow, which applies the scoring and lifecycle rules; a purchase makes the contact a customer. The batch is validated as a whole: any invalid field is a 422 whose `errors` name it with its index (`events/3/amount`), and nothing is stored. Each event\'s `id` is its idempotency key: an id seen before is answered `duplicate` and stores nothing. An event whose contact is unknown (or deleted) is answered `unknown_contact` and not stored; it may be sent again once the contact exists. Roles: admin, marketer, sales_ops.',
    request: { body: { content: { 'application/json': { schema: TrackedEventBatchSchema } } } },
    responses: { 202: jsonBody('Stored and signalled; one result per event, in batch order', TrackedEventResultsSchema), ...problemResponses(400, 401, 403, 413, 415, 422) },
  });
}

export function eventsRouter(deps: ApiDeps, gateway: WorkflowGateway): Router {
  const router = Router();
  router.post('/', requireRole(...senders), async (req, res) => {
    const { events } = parseBody(TrackedEventBatchSchema, req);
    res.status(202).json({ results: await ingestTrackedEvents({ prisma: deps.prisma, gateway }, events) });
  });
  return router;
}
