import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { IdParamsSchema } from '../../domain/schemas/common';
import { RoutingRuleCreateSchema, RoutingRuleListSchema, RoutingRuleReorderSchema, RoutingRuleSchema, RoutingRuleUpdateSchema } from '../../domain/schemas/routing-rule';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import type { AuditContext } from '../services/contacts';
import { createRoutingRule, deleteRoutingRule, getRoutingRule, listRoutingRules, reorderRoutingRules, updateRoutingRule } from '../services/routing-rules';
import { parseBody, parseParams } from '../validate';

const readers = ['admin', 'sales_ops', 'manager'] as const;
const writers = ['admin', 'sales_ops'] as const;

const howRoutingWorks =
  'A new lead is routed by the first active rule, in position order, that yields a user with free lead capacity: `company_owner` gives it to the owner of the contact\'s company; `territory` (the contact\'s region or country is listed) and `round_robin` rotate through the rule\'s team, each rule with its own turn. Without such a rule, all active reps share leads round robin. The contact\'s country and region come from its custom fields `country` and `region`, else the country of its phone number.';

export function registerRoutingRuleDocs(registry: OpenAPIRegistry): void {
  const tags = ['Routing rules'];
  const byId = { params: IdParamsSchema };
  registry.registerPath({
    method: 'get', path: '/v1/routing-rules', tags, summary: 'Lead routing rules in the order they are tried', description: howRoutingWorks,
    responses: { 200: jsonBody('The rules', RoutingRuleListSchema), ...problemResponses(401, 403) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/routing-rules', tags, summary: 'Add a rule (last, or at `position`)', description: howRoutingWorks,
    request: { body: { content: { 'application/json': { schema: RoutingRuleCreateSchema } } } },
    responses: { 201: jsonBody('Created', RoutingRuleSchema), ...problemResponses(400, 401, 403, 415, 422) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/routing-rules/reorder', tags, summary: 'Set the order in which rules are tried',
    request: { body: { content: { 'application/json': { schema: RoutingRuleReorderSchema } } } },
    responses: { 200: jsonBody('The rules in their new order', RoutingRuleListSchema), ...problemResponses(400, 401, 403, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/routing-rules/{id}', tags, summary: 'One rule', request: byId,
    responses: { 200: jsonBody('The rule', RoutingRuleSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'patch', path: '/v1/routing-rules/{id}', tags, summary: 'Change a rule (checked as a whole against its kind)',
    request: { ...byId, body: { content: { 'application/json': { schema: RoutingRuleUpdateSchema } } } },
    responses: { 200: jsonBody('The changed rule', RoutingRuleSchema), ...problemResponses(400, 401, 403, 404, 415, 422) },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/routing-rules/{id}', tags, summary: 'Remove a rule; later rules move up', request: byId,
    responses: { 204: { description: 'Removed' }, ...problemResponses(400, 401, 403, 404) },
  });
}

export function routingRulesRouter({ prisma }: ApiDeps): Router {
  const router = Router();

  router.get('/', requireRole(...readers), async (_req, res) => {
    res.json({ data: await listRoutingRules(prisma) });
  });

  router.post('/', requireRole(...writers), async (req, res) => {
    const rule = await createRoutingRule(prisma, parseBody(RoutingRuleCreateSchema, req), auditOf(req));
    res.status(201).location(`/v1/routing-rules/${rule.id}`).json(rule);
  });

  router.post('/reorder', requireRole(...writers), async (req, res) => {
    const { ruleIds } = parseBody(RoutingRuleReorderSchema, req);
    res.json({ data: await reorderRoutingRules(prisma, ruleIds, auditOf(req)) });
  });

  router.get('/:id', requireRole(...readers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await getRoutingRule(prisma, id));
  });

  router.patch('/:id', requireRole(...writers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await updateRoutingRule(prisma, id, parseBody(RoutingRuleUpdateSchema, req), auditOf(req)));
  });

  router.delete('/:id', requireRole(...writers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    await deleteRoutingRule(prisma, id, auditOf(req));
    res.status(204).end();
  });

  return router;
}

function auditOf(req: Request): AuditContext {
  return { actorId: req.principal!.apiKeyId, requestId: String(req.id) };
}
