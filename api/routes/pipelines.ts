import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { IdParamsSchema } from '../../domain/schemas/common';
import { PipelineCreateSchema, PipelineListQuerySchema, PipelineSchema, PipelineUpdateSchema } from '../../domain/schemas/pipeline';
import type { ApiDeps } from '../deps';
import { principalOf, requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { announceStageChanges } from '../services/deal-signals';
import { archivePipeline, createPipeline, getPipeline, listPipelines, updatePipeline } from '../services/pipelines';
import { parseBody, parseParams, parseQuery } from '../validate';
import type { WorkflowGateway } from '../workflow-gateway';

const readers = ['admin', 'marketer', 'sales_ops', 'rep', 'manager'] as const;
const writers = ['admin', 'sales_ops'] as const;

export function registerPipelineDocs(registry: OpenAPIRegistry): void {
  const tags = ['Pipelines'];
  registry.registerPath({
    method: 'get', path: '/v1/pipelines', tags, summary: 'Pipelines with their stages in order (live ones unless includeArchived=true)',
    request: { query: PipelineListQuerySchema },
    responses: { 200: jsonBody('The pipelines', z.object({ data: z.array(PipelineSchema) })), ...problemResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/pipelines', tags, summary: 'Create a pipeline with its stages (sales ops, admins)',
    request: { body: { content: { 'application/json': { schema: PipelineCreateSchema } } } },
    responses: { 201: jsonBody('Created', PipelineSchema), ...problemResponses(400, 401, 403, 409, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/pipelines/{id}', tags, summary: 'A pipeline, archived ones included', request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The pipeline', PipelineSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'patch', path: '/v1/pipelines/{id}', tags, summary: 'Rename, or replace the stage list: reorder, rename, add, remove (sales ops, admins)',
    description: 'Kept stages keep their ids, so open deals stay where they are. Removing a stage that holds open deals needs `stageMapping` naming the kept open stage they move to (422 naming the stage otherwise); each moved deal records a stage change by the caller and its workflow is told. Closed deals keep the removed stage as history. A stage\'s won/lost flag cannot change while it holds deals.',
    request: { params: IdParamsSchema, body: { content: { 'application/json': { schema: PipelineUpdateSchema } } } },
    responses: { 200: jsonBody('Updated', PipelineSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/pipelines/{id}', tags, summary: 'Archive a pipeline without open deals (sales ops, admins)',
    request: { params: IdParamsSchema },
    responses: { 204: { description: 'Archived' }, ...problemResponses(400, 401, 403, 404, 409) },
  });
}

export function pipelinesRouter({ prisma }: ApiDeps, gateway: WorkflowGateway): Router {
  const router = Router();
  const audit = (req: Request) => ({ actorId: principalOf(req).apiKeyId, requestId: String(req.id) });

  router.get('/', requireRole(...readers), async (req, res) => {
    const { includeArchived } = parseQuery(PipelineListQuerySchema, req);
    res.json({ data: await listPipelines(prisma, includeArchived) });
  });

  router.post('/', requireRole(...writers), async (req, res) => {
    const input = parseBody(PipelineCreateSchema, req);
    const pipeline = await createPipeline(prisma, input, audit(req));
    res.status(201).location(`/v1/pipelines/${pipeline.id}`).json(pipeline);
  });

  router.get('/:id', requireRole(...readers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await getPipeline(prisma, id));
  });

  router.patch('/:id', requireRole(...writers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const patch = parseBody(PipelineUpdateSchema, req);
    const { pipeline, moves } = await updatePipeline(prisma, id, patch, { ...audit(req), userId: principalOf(req).userId });
    await announceStageChanges(gateway, moves);
    res.json(pipeline);
  });

  router.delete('/:id', requireRole(...writers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    await archivePipeline(prisma, id, audit(req));
    res.status(204).end();
  });

  return router;
}
