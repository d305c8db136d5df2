import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { CursorQuerySchema, IdParamsSchema, pageSchema } from '../../domain/schemas/common';
import { TimelineEntrySchema } from '../../domain/schemas/contact';
import { DealCreateSchema, DealListQuerySchema, DealSchema, DealUpdateSchema } from '../../domain/schemas/deal';
import type { ApiDeps } from '../deps';
import { principalOf, requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import { dealScopeOf } from '../services/deal-access';
import { announceStageChanges } from '../services/deal-signals';
import { dealTimeline } from '../services/deal-timeline';
import { createDeal, deleteDeal, findVisibleDeal, listDeals, notifyEnrollmentsOfNewDeal, toDealView, updateDeal, type DealActor } from '../services/deals';
import { parseBody, parseParams, parseQuery } from '../validate';
import type { WorkflowGateway } from '../workflow-gateway';

export const dealRoles = ['admin', 'sales_ops', 'manager', 'rep'] as const;
const scopeNote = 'Reps see and change only their own deals, managers their own and their direct reports\', sales ops and admins all; any other deal is a 404.';

export function registerDealDocs(registry: OpenAPIRegistry): void {
  const tags = ['Deals'];
  registry.registerPath({
    method: 'get', path: '/v1/deals', tags, summary: 'List deals, newest first (cursor pagination)', description: scopeNote,
    request: { query: DealListQuerySchema },
    responses: { 200: jsonBody('A page of deals', pageSchema(DealSchema, 'DealPage')), ...problemResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/deals', tags, summary: 'Create a deal (starts its workflow)',
    description: 'Amounts are decimal strings ("1250.00"), never JSON numbers. Owner, contact and company must exist. The first stage entry is recorded as a stage change from null.',
    request: { body: { content: { 'application/json': { schema: DealCreateSchema } } } },
    responses: { 201: jsonBody('Created', DealSchema), ...problemResponses(400, 401, 403, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/deals/{id}', tags, summary: 'Read a deal', description: scopeNote, request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The deal', DealSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'patch', path: '/v1/deals/{id}', tags, summary: 'Update a deal; a new stageId moves it',
    description: 'A move records a stage change (from, to, when, by the caller) in the same transaction as the deal, then signals the deal workflow with the change id. A won or lost stage closes the deal, an open one reopens it; a stage of another pipeline is a 422. A PATCH to the stage the deal is already in records and signals nothing.',
    request: { params: IdParamsSchema, body: { content: { 'application/json': { schema: DealUpdateSchema } } } },
    responses: { 200: jsonBody('Updated', DealSchema), ...problemResponses(400, 401, 403, 404, 415, 422) },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/deals/{id}', tags, summary: 'Delete a deal (soft; its open tasks are cancelled and its workflow ends)',
    request: { params: IdParamsSchema },
    responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/deals/{id}/timeline', tags, summary: 'Stage changes (who, from, to, when), activities, tasks and the contact\'s messages, newest first',
    request: { params: IdParamsSchema, query: CursorQuerySchema },
    responses: { 200: jsonBody('A page of timeline entries', pageSchema(TimelineEntrySchema, 'DealTimelinePage')), ...problemResponses(400, 401, 403, 404) },
  });
}

/** Who acts on deals, within which scope, for the audit log. */
export async function dealActorOf({ prisma }: Pick<ApiDeps, 'prisma'>, req: Request): Promise<DealActor> {
  const principal = principalOf(req);
  return { principal, scope: await dealScopeOf(prisma, principal), actorId: principal.apiKeyId, requestId: String(req.id) };
}

export function dealsRouter(deps: ApiDeps, gateway: WorkflowGateway): Router {
  const { prisma } = deps;
  const router = Router();

  router.get('/', requireRole(...dealRoles), async (req, res) => {
    const query = parseQuery(DealListQuerySchema, req);
    const rows = await listDeals(prisma, await dealActorOf(deps, req), query, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (deal) => ({ at: new Date(deal.createdAt), id: deal.id })));
  });

  router.post('/', requireRole(...dealRoles), async (req, res) => {
    const input = parseBody(DealCreateSchema, req);
    const deal = await createDeal(prisma, input, await dealActorOf(deps, req));
    if (deal.status === 'open') await gateway.startDeal(deal.id);
    await notifyEnrollmentsOfNewDeal(prisma, gateway, deal);
    res.status(201).location(`/v1/deals/${deal.id}`).json(deal);
  });

  router.get('/:id', requireRole(...dealRoles), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const actor = await dealActorOf(deps, req);
    res.json(toDealView(await findVisibleDeal(prisma, actor.scope, id)));
  });

  router.patch('/:id', requireRole(...dealRoles), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const patch = parseBody(DealUpdateSchema, req);
    const { deal, stageChange } = await updateDeal(prisma, id, patch, await dealActorOf(deps, req));
    if (stageChange) await announceStageChanges(gateway, [stageChange]);
    res.json(deal);
  });

  router.delete('/:id', requireRole('admin', 'sales_ops', 'manager'), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    await deleteDeal(prisma, id, await dealActorOf(deps, req));
    await gateway.signalDealDeleted(id);
    res.status(204).end();
  });

  router.get('/:id/timeline', requireRole(...dealRoles), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const query = parseQuery(CursorQuerySchema.strict(), req);
    const deal = await findVisibleDeal(prisma, (await dealActorOf(deps, req)).scope, id);
    const rows = await dealTimeline(prisma, deal, query.limit + 1, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (entry) => ({ at: new Date(entry.at), id: entry.id })));
  });

  return router;
}
