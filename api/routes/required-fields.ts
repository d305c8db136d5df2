import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  ContactRequiredFieldsSchema,
  DealRequiredFieldsSchema,
  DealStageParamsSchema,
  LifecycleStageParamsSchema,
  RequiredFieldRuleSchema,
} from '../../domain/schemas/required-fields';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { deleteRequiredFieldRule, listRequiredFieldRules, putRequiredFieldRule, type RuleTarget } from '../services/required-fields';
import { parseBody, parseParams } from '../validate';

const everyone = ['admin', 'marketer', 'sales_ops', 'rep', 'manager'] as const;
const writers = ['admin', 'sales_ops'] as const;

const enforcement =
  'A write that moves a contact into the stage (POST or PATCH /v1/contacts with lifecycleStage) while one of these fields is empty is refused with a 422 whose `errors` name every missing field. Edits that do not change the stage, form submissions and automation are not checked, so records from before a rule stay editable. A CSV import rejects each row that would leave a contact in the stage without one of them (see its report).';

export function registerRequiredFieldDocs(registry: OpenAPIRegistry): void {
  const tags = ['Required fields'];
  registry.registerPath({
    method: 'get', path: '/v1/required-fields', tags, summary: 'Every required-field rule, per lifecycle stage and per deal stage',
    responses: { 200: jsonBody('The rules', z.object({ data: z.array(RequiredFieldRuleSchema) })), ...problemResponses(401) },
  });
  registry.registerPath({
    method: 'put', path: '/v1/required-fields/lifecycle-stages/{stage}', tags, summary: 'Set the fields a contact needs to enter a lifecycle stage',
    description: enforcement,
    request: { params: LifecycleStageParamsSchema, body: { content: { 'application/json': { schema: ContactRequiredFieldsSchema } } } },
    responses: { 200: jsonBody('The rule', RequiredFieldRuleSchema), ...problemResponses(400, 401, 403, 415, 422) },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/required-fields/lifecycle-stages/{stage}', tags, summary: 'Remove a lifecycle stage\'s rule',
    request: { params: LifecycleStageParamsSchema },
    responses: { 204: { description: 'Removed' }, ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'put', path: '/v1/required-fields/deal-stages/{stageId}', tags, summary: 'Set the fields a deal needs to enter a pipeline stage',
    description: 'For example amount and expectedCloseDate before "Proposal". A deal stage move that leaves one empty is a 422 naming every missing field.',
    request: { params: DealStageParamsSchema, body: { content: { 'application/json': { schema: DealRequiredFieldsSchema } } } },
    responses: { 200: jsonBody('The rule', RequiredFieldRuleSchema), ...problemResponses(400, 401, 403, 404, 415, 422) },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/required-fields/deal-stages/{stageId}', tags, summary: 'Remove a deal stage\'s rule',
    request: { params: DealStageParamsSchema },
    responses: { 204: { description: 'Removed' }, ...problemResponses(400, 401, 403, 404) },
  });
}

export function requiredFieldsRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();
  const audit = (req: Request) => ({ actorId: req.principal!.apiKeyId, requestId: String(req.id) });

  router.get('/', requireRole(...everyone), async (_req, res) => {
    res.json({ data: await listRequiredFieldRules(prisma) });
  });

  const targets: Array<{ path: string; target: (req: Request) => RuleTarget; body: typeof ContactRequiredFieldsSchema | typeof DealRequiredFieldsSchema }> = [
    { path: '/lifecycle-stages/:stage', target: (req) => ({ lifecycleStage: parseParams(LifecycleStageParamsSchema, req).stage }), body: ContactRequiredFieldsSchema },
    { path: '/deal-stages/:stageId', target: (req) => ({ stageId: parseParams(DealStageParamsSchema, req).stageId }), body: DealRequiredFieldsSchema },
  ];
  for (const { path, target, body } of targets) {
    router.put(path, requireRole(...writers), async (req, res) => {
      const where = target(req);
      const { fields } = parseBody(body, req);
      res.json(await putRequiredFieldRule(prisma, where, fields, audit(req)));
    });
    router.delete(path, requireRole(...writers), async (req, res) => {
      await deleteRequiredFieldRule(prisma, target(req), audit(req));
      res.status(204).end();
    });
  }
  return router;
}
