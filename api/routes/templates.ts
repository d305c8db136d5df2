import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { TemplateRenderer, templatesRoot } from '../../activities/templates';
import {
  TemplateCreateSchema,
  TemplateKeyParamsSchema,
  TemplateListQuerySchema,
  TemplateListSchema,
  TemplateLookupQuerySchema,
  TemplatePreviewResultSchema,
  TemplatePreviewSchema,
  TemplateSchema,
  TemplateUpdateSchema,
  TemplateVersionListSchema,
} from '../../domain/schemas/template';
import { publicUrl } from '../../runtime/config';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { createTemplate, getTemplate, listTemplates, listVersions, previewTemplate, updateTemplate, type TemplateServiceDeps } from '../services/templates';
import { parseBody, parseParams, parseQuery } from '../validate';

const readers = ['admin', 'marketer', 'sales_ops', 'manager'] as const;
const writers = ['admin', 'marketer'] as const;

const strictNote =
  'Every part is checked strictly before it is saved: a variable that is not declared (see TemplateContext), an unknown property, an unknown helper or a syntax error is a 422 whose `errors` name the part (`subject`, `html`, `text`) and the line and column, e.g. `{"field":"html","message":"line 3, column 5: ..."}`.';

export function registerTemplateDocs(registry: OpenAPIRegistry): void {
  const tags = ['Templates'];
  const lookup = { params: TemplateKeyParamsSchema, query: TemplateLookupQuerySchema };
  registry.registerPath({
    method: 'get', path: '/v1/templates', tags, summary: 'Email and SMS templates: stored ones and the file defaults (`source: file`)',
    request: { query: TemplateListQuerySchema },
    responses: { 200: jsonBody('All templates', TemplateListSchema), ...problemResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/templates', tags, summary: 'Create a template (version 1)',
    description: `A stored template overrides the file template with the same key and channel. ${strictNote}`,
    request: { body: { content: { 'application/json': { schema: TemplateCreateSchema } } } },
    responses: { 201: jsonBody('Created', TemplateSchema), ...problemResponses(400, 401, 403, 409, 413, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/templates/{key}', tags, summary: 'A template with its current content', request: lookup,
    responses: { 200: jsonBody('The template', TemplateSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'put', path: '/v1/templates/{key}', tags, summary: 'Save a new version (on a file template: store an override of it)',
    description: strictNote,
    request: { ...lookup, body: { content: { 'application/json': { schema: TemplateUpdateSchema } } } },
    responses: { 200: jsonBody('Saved', TemplateSchema), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/templates/{key}/versions', tags, summary: 'Stored versions, newest first (empty for a file template)', request: lookup,
    responses: { 200: jsonBody('The versions', TemplateVersionListSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/templates/{key}/preview', tags, summary: 'Render a template with a contact\'s data or sample data',
    description: 'Renders exactly what a send would: layout, footer (shown when `links.unsubscribe` is set, as on marketing email) and a text part derived from the HTML when the template has none. Preview links are placeholders. `warnings` lists variables that render empty with this data.',
    request: { ...lookup, body: { content: { 'application/json': { schema: TemplatePreviewSchema } } } },
    responses: { 200: jsonBody('The rendered message', TemplatePreviewResultSchema), ...problemResponses(400, 401, 403, 404, 415, 422) },
  });
}

export function templatesRouter(deps: ApiDeps): Router {
  const { prisma, config } = deps;
  const renderer = new TemplateRenderer(templatesRoot, prisma, { sender: { company: config.EMAIL_FROM_NAME, postalAddress: config.SENDER_POSTAL_ADDRESS } });
  const service: TemplateServiceDeps = { prisma, renderer, publicUrl: publicUrl(config) };
  const router = Router();

  router.get('/', requireRole(...readers), async (req, res) => {
    const { channel } = parseQuery(TemplateListQuerySchema, req);
    res.json({ data: await listTemplates(service, channel) });
  });

  router.post('/', requireRole(...writers), async (req, res) => {
    const input = parseBody(TemplateCreateSchema, req);
    const template = await createTemplate(service, input, { actorId: req.principal!.apiKeyId, requestId: String(req.id) });
    res.status(201).location(`/v1/templates/${template.key}`).json(template);
  });

  router.get('/:key', requireRole(...readers), async (req, res) => {
    const { key } = parseParams(TemplateKeyParamsSchema, req);
    const { channel } = parseQuery(TemplateLookupQuerySchema, req);
    res.json(await getTemplate(service, key, channel));
  });

  router.put('/:key', requireRole(...writers), async (req, res) => {
    const { key } = parseParams(TemplateKeyParamsSchema, req);
    const { channel } = parseQuery(TemplateLookupQuerySchema, req);
    const input = parseBody(TemplateUpdateSchema, req);
    res.json(await updateTemplate(service, key, channel, input, { actorId: req.principal!.apiKeyId, requestId: String(req.id) }));
  });

  router.get('/:key/versions', requireRole(...readers), async (req, res) => {
    const { key } = parseParams(TemplateKeyParamsSchema, req);
    const { channel } = parseQuery(TemplateLookupQuerySchema, req);
    res.json({ data: await listVersions(service, key, channel) });
  });

  router.post('/:key/preview', requireRole(...readers), async (req, res) => {
    const { key } = parseParams(TemplateKeyParamsSchema, req);
    const { channel } = parseQuery(TemplateLookupQuerySchema, req);
    const request = parseBody(TemplatePreviewSchema, req);
    res.json(await previewTemplate(service, key, channel, request));
  });

  return router;
}
