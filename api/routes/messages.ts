import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { NotFoundError } from '../../domain/errors';
import { CursorQuerySchema, IdParamsSchema, IdSchema, pageSchema } from '../../domain/schemas/common';
import type { Message } from '../../prisma/generated/client';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import { parseParams, parseQuery } from '../validate';

const MessageListQuerySchema = CursorQuerySchema.extend({ contactId: IdSchema.optional(), templateKey: z.string().max(100).optional() }).strict();

export const MessageSchema = z
  .object({
    id: IdSchema,
    idempotencyKey: z.string(),
    contactId: IdSchema.nullable(),
    channel: z.enum(['email', 'sms']),
    templateKey: z.string().nullable(),
    transactional: z.boolean(),
    to: z.string(),
    from: z.string(),
    subject: z.string().nullable(),
    html: z.string().nullable(),
    text: z.string().nullable(),
    headers: z.record(z.string(), z.string()),
    provider: z.string(),
    providerMessageId: z.string().nullable(),
    status: z.string(),
    statusHistory: z.array(z.object({ status: z.string(), at: z.string() })),
    createdAt: z.string(),
  })
  .meta({ id: 'Message' });

const readers = ['admin', 'marketer', 'sales_ops', 'manager'] as const;

export function registerMessageDocs(registry: OpenAPIRegistry): void {
  const tags = ['Messages'];
  registry.registerPath({
    method: 'get', path: '/v1/messages', tags, summary: 'The outbox: every message sent or captured, newest first',
    request: { query: MessageListQuerySchema },
    responses: { 200: jsonBody('A page of messages', pageSchema(MessageSchema, 'MessagePage')), ...problemResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/messages/{id}', tags, summary: 'One message with its rendered content and status history',
    request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The message', MessageSchema), ...problemResponses(400, 401, 403, 404) },
  });
}

function toMessageView(message: Message): z.infer<typeof MessageSchema> {
  return {
    id: message.id,
    idempotencyKey: message.idempotencyKey,
    contactId: message.contactId,
    channel: message.channel,
    templateKey: message.templateKey,
    transactional: message.transactional,
    to: message.toAddress,
    from: message.fromAddress,
    subject: message.subject,
    html: message.html,
    text: message.text,
    headers: message.headers as Record<string, string>,
    provider: message.provider,
    providerMessageId: message.providerMessageId,
    status: message.status,
    statusHistory: message.statusHistory as { status: string; at: string }[],
    createdAt: message.createdAt.toISOString(),
  };
}

export function messagesRouter({ prisma }: ApiDeps): Router {
  const router = Router();
  router.get('/', requireRole(...readers), async (req, res) => {
    const query = parseQuery(MessageListQuerySchema, req);
    const cursor = decodeCursor(query.cursor);
    const rows = await prisma.message.findMany({
      where: {
        ...(query.contactId ? { contactId: query.contactId } : {}),
        ...(query.templateKey ? { templateKey: query.templateKey } : {}),
        ...(cursor ? { OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    res.json(page(rows.map(toMessageView), query.limit, (message) => ({ at: new Date(message.createdAt), id: message.id })));
  });
  router.get('/:id', requireRole(...readers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const message = await prisma.message.findUnique({ where: { id } });
    if (!message) throw new NotFoundError('Message', id);
    res.json(toMessageView(message));
  });
  return router;
}
