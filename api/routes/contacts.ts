import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { NotFoundError } from '../../domain/errors';
import { CursorQuerySchema, IdParamsSchema, pageSchema } from '../../domain/schemas/common';
import {
  ContactCreateSchema,
  ContactListQuerySchema,
  ContactSchema,
  ContactUpdateSchema,
  TimelineEntrySchema,
} from '../../domain/schemas/contact';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { decodeCursor, page } from '../pagination';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { createContact, deleteContact, getContact, listContacts, updateContact } from '../services/contacts';
import { contactTimeline } from '../services/timeline';
import { parseBody, parseParams, parseQuery } from '../validate';
import type { WorkflowGateway } from '../workflow-gateway';

const everyone = ['admin', 'marketer', 'sales_ops', 'rep', 'manager'] as const;

export function registerContactDocs(registry: OpenAPIRegistry): void {
  const tags = ['Contacts'];
  registry.registerPath({
    method: 'get', path: '/v1/contacts', tags, summary: 'List contacts (newest first, cursor pagination)',
    request: { query: ContactListQuerySchema },
    responses: { 200: jsonBody('A page of contacts', pageSchema(ContactSchema, 'ContactPage')), ...problemResponses(400, 401) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/contacts', tags, summary: 'Create a contact',
    request: { body: { content: { 'application/json': { schema: ContactCreateSchema } } } },
    responses: { 201: jsonBody('Created', ContactSchema), ...problemResponses(400, 401, 403, 409, 413, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/contacts/{id}', tags, summary: 'Read a contact', request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The contact', ContactSchema), ...problemResponses(400, 401, 404) },
  });
  registry.registerPath({
    method: 'patch', path: '/v1/contacts/{id}', tags, summary: 'Update a contact',
    request: { params: IdParamsSchema, body: { content: { 'application/json': { schema: ContactUpdateSchema } } } },
    responses: { 200: jsonBody('Updated', ContactSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/contacts/{id}', tags, summary: 'Delete a contact (soft; its addresses are released and automation stops)',
    request: { params: IdParamsSchema },
    responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/contacts/{id}/timeline', tags, summary: 'Activities, messages, tasks and deal stage changes, newest first',
    request: { params: IdParamsSchema, query: CursorQuerySchema },
    responses: { 200: jsonBody('A page of timeline entries', pageSchema(TimelineEntrySchema, 'TimelinePage')), ...problemResponses(400, 401, 404) },
  });
}

export function contactsRouter(deps: ApiDeps, gateway: WorkflowGateway): Router {
  const { prisma } = deps;
  const router = Router();

  router.get('/', requireRole(...everyone), async (req, res) => {
    const query = parseQuery(ContactListQuerySchema, req);
    const rows = await listContacts(prisma, query, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (contact) => ({ at: new Date(contact.createdAt), id: contact.id })));
  });

  router.post('/', requireRole(...everyone), async (req, res) => {
    const input = parseBody(ContactCreateSchema, req);
    const contact = await createContact(prisma, input, { actorId: req.principal!.apiKeyId, requestId: String(req.id) });
    res.status(201).location(`/v1/contacts/${contact.id}`).json(contact);
  });

  router.get('/:id', requireRole(...everyone), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const contact = await getContact(prisma, id);
    if (!contact) throw new NotFoundError('Contact', id);
    res.json(contact);
  });

  router.patch('/:id', requireRole(...everyone), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const patch = parseBody(ContactUpdateSchema, req);
    const contact = await updateContact(prisma, id, patch, { actorId: req.principal!.apiKeyId, requestId: String(req.id) });
    // Sent whenever the stage is given, changed or not: a retry after a lost signal tells it again.
    if (patch.lifecycleStage) await gateway.signalLifecycleStageChanged(id, { changeId: `request:${String(req.id)}`, stage: patch.lifecycleStage });
    res.json(contact);
  });

  router.delete('/:id', requireRole('admin', 'marketer', 'sales_ops'), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    await deleteContact(prisma, id, { actorId: req.principal!.apiKeyId, requestId: String(req.id) });
    await gateway.signalContactDeleted(id);
    res.status(204).end();
  });

  router.get('/:id/timeline', requireRole(...everyone), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const query = parseQuery(CursorQuerySchema.strict(), req);
    const exists = await prisma.contact.findFirst({ where: { id, deletedAt: null }, select: { id: true } });
    if (!exists) throw new NotFoundError('Contact', id);
    const rows = await contactTimeline(prisma, id, query.limit + 1, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (entry) => ({ at: new Date(entry.at), id: entry.id })));
  });

  return router;
}

