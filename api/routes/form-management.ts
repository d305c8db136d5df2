import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { TemplateRenderer, templatesRoot } from '../../activities/templates';
import { pageSchema } from '../../domain/schemas/common';
import { FormCreateSchema, FormListQuerySchema, FormRefParamsSchema, FormSchema, FormUpdateSchema } from '../../domain/schemas/form';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import type { AuditContext } from '../services/contacts';
import { createForm, deactivateForm, getForm, listForms, updateForm, type FormServiceDeps } from '../services/forms';
import { parseBody, parseParams, parseQuery } from '../validate';

// Forms are the marketers' (they write the page and its opt-in text); sales ops read them for lead sources.
const readers = ['admin', 'marketer', 'sales_ops'] as const;
const writers = ['admin', 'marketer'] as const;

const checks =
  'Each invalid field is a 422 naming it: an origin that is not `scheme://host[:port]` (no path, no wildcard), a country that is not ISO 3166-1, a required field that a submission cannot fill in, a `welcomeTemplate` that is not an email template (stored or shipped) that compiles, an `enrollSequenceId` that is not a published, unarchived sequence. Changes reach the next submission; every write is in the audit log.';

export function registerFormManagementDocs(registry: OpenAPIRegistry): void {
  const tags = ['Forms'];
  const byRef = { params: FormRefParamsSchema };
  registry.registerPath({
    method: 'get', path: '/v1/forms', tags, summary: 'List website forms (newest first, cursor pagination)',
    request: { query: FormListQuerySchema },
    responses: { 200: jsonBody('A page of forms', pageSchema(FormSchema, 'FormPage')), ...problemResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/forms', tags, summary: 'Create a website form',
    description: `The website posts to \`/v1/forms/{key}/submissions\`; the key is generated when left out, and a key another form has (active or not) is a 409 naming \`key\`. ${checks}`,
    request: { body: { content: { 'application/json': { schema: FormCreateSchema } } } },
    responses: { 201: jsonBody('Created', FormSchema), ...problemResponses(400, 401, 403, 409, 413, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/forms/{id}', tags, summary: 'One form, by id or key', request: byRef,
    responses: { 200: jsonBody('The form', FormSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'patch', path: '/v1/forms/{id}', tags, summary: 'Change a form (the key cannot change)',
    description: `The stored form with the changes is checked as a whole. \`active: true\` reactivates a form. ${checks}`,
    request: { ...byRef, body: { content: { 'application/json': { schema: FormUpdateSchema } } } },
    responses: { 200: jsonBody('The changed form', FormSchema), ...problemResponses(400, 401, 403, 404, 415, 422) },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/forms/{id}', tags, summary: 'Deactivate a form: its submissions get 404 from then on',
    description: 'The form is kept, with its key, so nothing else can take the key its pages post to; PATCH `active: true` brings it back.',
    request: byRef,
    responses: { 204: { description: 'Deactivated' }, ...problemResponses(400, 401, 403, 404) },
  });
}

export function formManagementRouter({ prisma, config }: ApiDeps): Router {
  const router = Router();
  const renderer = new TemplateRenderer(templatesRoot, prisma, { sender: { company: config.EMAIL_FROM_NAME, postalAddress: config.SENDER_POSTAL_ADDRESS } });
  const service: FormServiceDeps = { prisma, renderer };

  router.get('/', requireRole(...readers), async (req, res) => {
    const query = parseQuery(FormListQuerySchema, req);
    const rows = await listForms(prisma, query, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (form) => ({ at: new Date(form.createdAt), id: form.id })));
  });

  router.post('/', requireRole(...writers), async (req, res) => {
    const form = await createForm(service, parseBody(FormCreateSchema, req), auditOf(req));
    res.status(201).location(`/v1/forms/${form.id}`).json(form);
  });

  router.get('/:id', requireRole(...readers), async (req, res) => {
    const { id } = parseParams(FormRefParamsSchema, req);
    res.json(await getForm(prisma, id));
  });

  router.patch('/:id', requireRole(...writers), async (req, res) => {
    const { id } = parseParams(FormRefParamsSchema, req);
    res.json(await updateForm(service, id, parseBody(FormUpdateSchema, req), auditOf(req)));
  });

  router.delete('/:id', requireRole(...writers), async (req, res) => {
    const { id } = parseParams(FormRefParamsSchema, req);
    await deactivateForm(prisma, id, auditOf(req));
    res.status(204).end();
  });

  return router;
}

function auditOf(req: Request): AuditContext {
  return { actorId: req.principal!.apiKeyId, requestId: String(req.id) };
}
