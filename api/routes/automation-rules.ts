import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { IdParamsSchema, type UserRole } from '../../domain/schemas/common';
import { LifecycleRuleSchema, LifecycleRuleUpdateSchema, type LifecycleRuleCreateSchema, type LifecycleRuleView } from '../../domain/schemas/lifecycle';
import { ScoringRuleSchema, ScoringRuleUpdateSchema, type ScoringRuleCreateSchema, type ScoringRuleView } from '../../domain/schemas/scoring';
import { TrackedEventTypeSchema } from '../../domain/schemas/tracked-event';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { createRule, deleteRule, getRule, lifecycleRules, listRules, patchRule, scoringRules, type RuleKind } from '../services/automation-rules';
import { parseBody, parseParams, parseQuery } from '../validate';

const readers: UserRole[] = ['admin', 'marketer', 'sales_ops', 'manager', 'rep'];
const writers: UserRole[] = ['admin', 'sales_ops'];

const RuleListQuerySchema = z.strictObject({
  eventType: TrackedEventTypeSchema.optional(),
  active: z.enum(['true', 'false']).transform((value) => value === 'true').optional(),
});

interface RuleResource<I, V extends { id: string }> {
  path: string;
  tag: string;
  kind: RuleKind<I, V>;
  updateSchema: z.ZodType;
  viewSchema: z.ZodType;
  about: string;
}

const scoringResource: RuleResource<z.output<typeof ScoringRuleCreateSchema>, ScoringRuleView> = {
  path: '/v1/scoring-rules',
  tag: 'Scoring rules',
  kind: scoringRules,
  updateSchema: ScoringRuleUpdateSchema,
  viewSchema: ScoringRuleSchema,
  about: 'Every active rule that matches a tracked event adds its points to the contact\'s score, which decays by the half-life in /v1/settings/scoring.',
};

const lifecycleResource: RuleResource<z.output<typeof LifecycleRuleCreateSchema>, LifecycleRuleView> = {
  path: '/v1/lifecycle-rules',
  tag: 'Lifecycle rules',
  kind: lifecycleRules,
  updateSchema: LifecycleRuleUpdateSchema,
  viewSchema: LifecycleRuleSchema,
  about: 'A tracked event that matches an active rule moves a contact in one of `fromStages` to `toStage`; when several match, the oldest wins, and a rule wins over the MQL threshold. A purchase always makes a customer.',
};

export function registerAutomationRuleDocs(registry: OpenAPIRegistry): void {
  for (const resource of [scoringResource, lifecycleResource]) {
    const tags = [resource.tag];
    const writeNote = `${resource.about} Roles: admin and sales_ops write; every role reads.`;
    const byId = { params: IdParamsSchema };
    registry.registerPath({
      method: 'get', path: resource.path, tags, summary: `List ${resource.tag.toLowerCase()}, oldest first`, description: resource.about,
      request: { query: RuleListQuerySchema },
      responses: { 200: jsonBody('The rules', z.object({ data: z.array(resource.viewSchema) })), ...problemResponses(400, 401, 403) },
    });
    registry.registerPath({
      method: 'post', path: resource.path, tags, summary: `Create a ${resource.kind.label.toLowerCase()}`, description: writeNote,
      request: { body: { content: { 'application/json': { schema: resource.kind.createSchema } } } },
      responses: { 201: jsonBody('Created', resource.viewSchema), ...problemResponses(400, 401, 403, 415, 422) },
    });
    registry.registerPath({
      method: 'get', path: `${resource.path}/{id}`, tags, summary: `Read a ${resource.kind.label.toLowerCase()}`, request: byId,
      responses: { 200: jsonBody('The rule', resource.viewSchema), ...problemResponses(400, 401, 403, 404) },
    });
    registry.registerPath({
      method: 'patch', path: `${resource.path}/{id}`, tags, summary: `Change a ${resource.kind.label.toLowerCase()}`, description: writeNote,
      request: { ...byId, body: { content: { 'application/json': { schema: resource.updateSchema } } } },
      responses: { 200: jsonBody('Changed', resource.viewSchema), ...problemResponses(400, 401, 403, 404, 415, 422) },
    });
    registry.registerPath({
      method: 'delete', path: `${resource.path}/{id}`, tags, summary: `Delete a ${resource.kind.label.toLowerCase()}`, request: byId,
      responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 403, 404) },
    });
  }
}

export const scoringRulesRouter = (deps: ApiDeps): Router => rulesRouter(deps, scoringResource);
export const lifecycleRulesRouter = (deps: ApiDeps): Router => rulesRouter(deps, lifecycleResource);

const auditOf = (req: Request) => ({ actorId: req.principal!.apiKeyId, requestId: String(req.id) });

function rulesRouter<I, V extends { id: string }>({ prisma }: ApiDeps, resource: RuleResource<I, V>): Router {
  const { kind } = resource;
  const router = Router();

  router.get('/', requireRole(...readers), async (req, res) => {
    res.json({ data: await listRules(prisma, kind, parseQuery(RuleListQuerySchema, req)) });
  });
  router.post('/', requireRole(...writers), async (req, res) => {
    const rule = await createRule(prisma, kind, parseBody(kind.createSchema, req), auditOf(req));
    res.status(201).location(`${resource.path}/${rule.id}`).json(rule);
  });
  router.get('/:id', requireRole(...readers), async (req, res) => {
    res.json(await getRule(prisma, kind, parseParams(IdParamsSchema, req).id));
  });
  router.patch('/:id', requireRole(...writers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const patch = parseBody(resource.updateSchema, req) as Record<string, unknown>;
    res.json(await patchRule(prisma, kind, id, patch, auditOf(req)));
  });
  router.delete('/:id', requireRole(...writers), async (req, res) => {
    await deleteRule(prisma, kind, parseParams(IdParamsSchema, req).id, auditOf(req));
    res.status(204).end();
  });
  return router;
}
