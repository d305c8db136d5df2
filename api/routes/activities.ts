import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { ActivityCreateSchema, ActivityListQuerySchema, ActivitySchema } from '../../domain/schemas/activity';
import { pageSchema } from '../../domain/schemas/common';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import { listActivities, logActivity } from '../services/activities';
import { announceTouches } from '../services/deal-signals';
import { parseBody, parseQuery } from '../validate';
import type { WorkflowGateway } from '../workflow-gateway';
import { dealActorOf, dealRoles } from './deals';

export function registerActivityDocs(registry: OpenAPIRegistry): void {
  const tags = ['Activities'];
  registry.registerPath({
    method: 'post', path: '/v1/activities', tags, summary: 'Log a call, email, meeting, note or reply on a deal and/or contact',
    description: 'The caller is the actor. It is a touch: the deal\'s last-touch time moves to `occurredAt` and the deal workflow is signalled (its idle timer resets). On a contact without a deal, every open deal of the contact is touched. Reps log only on their own deals.',
    request: { body: { content: { 'application/json': { schema: ActivityCreateSchema } } } },
    responses: { 201: jsonBody('Logged', ActivitySchema), ...problemResponses(400, 401, 403, 404, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/activities', tags, summary: 'Activities of a deal and/or contact, newest first',
    request: { query: ActivityListQuerySchema },
    responses: { 200: jsonBody('A page of activities', pageSchema(ActivitySchema, 'ActivityPage')), ...problemResponses(400, 401, 403, 404) },
  });
}

export function activitiesRouter(deps: ApiDeps, gateway: WorkflowGateway): Router {
  const { prisma } = deps;
  const router = Router();

  router.post('/', requireRole(...dealRoles), async (req, res) => {
    const input = parseBody(ActivityCreateSchema, req);
    const { activity, touches } = await logActivity(prisma, input, await dealActorOf(deps, req));
    await announceTouches(gateway, touches);
    res.status(201).json(activity);
  });

  router.get('/', requireRole(...dealRoles), async (req, res) => {
    const query = parseQuery(ActivityListQuerySchema, req);
    const rows = await listActivities(prisma, await dealActorOf(deps, req), query, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (activity) => ({ at: new Date(activity.occurredAt), id: activity.id })));
  });

  return router;
}
