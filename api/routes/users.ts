import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { IdParamsSchema, pageSchema, type UserRole } from '../../domain/schemas/common';
import {
  ApiKeyCreateSchema,
  ApiKeyCreatedSchema,
  ApiKeyListSchema,
  UserCreateSchema,
  UserDeactivationSchema,
  UserListQuerySchema,
  UserSchema,
  UserUpdateSchema,
  type UserUpdate,
} from '../../domain/schemas/user';
import type { ApiDeps } from '../deps';
import { principalOf, requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import { HttpProblem } from '../problem';
import type { AuditContext } from '../services/contacts';
import { activateUser, createUser, createUserApiKey, deactivateUser, getUser, listUserApiKeys, listUsers, revokeApiKey, updateUser } from '../services/users';
import { parseBody, parseParams, parseQuery } from '../validate';

// Sales ops keep lead routing (rules and their teams), so they may read users and set the one
// routing field a user carries; everything else about users and keys is the admins'.
const readers = ['admin', 'sales_ops'] as const;
const salesOpsFields: ReadonlyArray<keyof UserUpdate> = ['leadCapacity'];

export function registerUserDocs(registry: OpenAPIRegistry): void {
  const tags = ['Users'];
  const byId = { params: IdParamsSchema };
  registry.registerPath({
    method: 'get', path: '/v1/users', tags, summary: 'List users (newest first, cursor pagination); admins and sales ops',
    request: { query: UserListQuerySchema },
    responses: { 200: jsonBody('A page of users', pageSchema(UserSchema, 'UserPage')), ...problemResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/users', tags, summary: 'Create a user (admins)',
    request: { body: { content: { 'application/json': { schema: UserCreateSchema } } } },
    responses: { 201: jsonBody('Created', UserSchema), ...problemResponses(400, 401, 403, 409, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/users/{id}', tags, summary: 'One user; admins and sales ops', request: byId,
    responses: { 200: jsonBody('The user', UserSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'patch', path: '/v1/users/{id}', tags, summary: 'Change a user (admins; sales ops only `leadCapacity`)',
    request: { ...byId, body: { content: { 'application/json': { schema: UserUpdateSchema } } } },
    responses: { 200: jsonBody('The changed user', UserSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/users/{id}/deactivate', tags, summary: 'Deactivate a user (admins)',
    description: 'Routing gives them no new leads, their API keys are revoked and keys made for them later do not work. Their open tasks, open deals, direct reports and routing rule memberships stay as they are and are counted in `stillOwned` for reassignment. Deactivating the user your own key acts for is a 409.',
    request: byId,
    responses: { 200: jsonBody('The user and what they still hold', UserDeactivationSchema), ...problemResponses(400, 401, 403, 404, 409) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/users/{id}/activate', tags, summary: 'Activate a deactivated user again (admins); revoked keys stay revoked', request: byId,
    responses: { 200: jsonBody('The user', UserSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/users/{id}/api-keys', tags, summary: 'The user\'s API keys, revoked ones too, newest first, without secrets (admins)', request: byId,
    responses: { 200: jsonBody('The keys', ApiKeyListSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/users/{id}/api-keys', tags, summary: 'Create an API key acting for the user, with their role (admins)',
    description: 'The key is in this response only. The request takes no `Idempotency-Key`: a stored response would keep the key.',
    request: { ...byId, body: { content: { 'application/json': { schema: ApiKeyCreateSchema } } } },
    responses: { 201: jsonBody('The key, shown once', ApiKeyCreatedSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/api-keys/{id}', tags, summary: 'Revoke an API key (admins); it gets 401 from then on', request: byId,
    responses: { 204: { description: 'Revoked (also when it already was)' }, ...problemResponses(400, 401, 403, 404) },
  });
}

export function usersRouter({ prisma }: ApiDeps): Router {
  const router = Router();

  router.get('/', requireRole(...readers), async (req, res) => {
    const query = parseQuery(UserListQuerySchema, req);
    const rows = await listUsers(prisma, query, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (user) => ({ at: new Date(user.createdAt), id: user.id })));
  });

  router.post('/', requireRole('admin'), async (req, res) => {
    const user = await createUser(prisma, parseBody(UserCreateSchema, req), auditOf(req));
    res.status(201).location(`/v1/users/${user.id}`).json(user);
  });

  router.get('/:id', requireRole(...readers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await getUser(prisma, id));
  });

  router.patch('/:id', requireRole(...readers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const patch = parseBody(UserUpdateSchema, req);
    assertMayChange(principalOf(req).role, patch);
    res.json(await updateUser(prisma, id, patch, auditOf(req)));
  });

  router.post('/:id/deactivate', requireRole('admin'), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await deactivateUser(prisma, id, principalOf(req).userId, auditOf(req)));
  });

  router.post('/:id/activate', requireRole('admin'), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await activateUser(prisma, id, auditOf(req)));
  });

  router.get('/:id/api-keys', requireRole('admin'), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json({ data: await listUserApiKeys(prisma, id) });
  });

  router.post('/:id/api-keys', requireRole('admin'), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    // The idempotency middleware stores a replayable copy of 2xx responses: that copy would hold the secret.
    if (req.get('idempotency-key') !== undefined) {
      throw new HttpProblem(400, 'idempotency-key-not-allowed', 'Idempotency-Key not allowed here.', 'A new API key is shown once, so its response is never stored for replay; send the request without Idempotency-Key.', [
        { field: 'header.Idempotency-Key', message: 'is not accepted when creating an API key' },
      ]);
    }
    const { name } = parseBody(ApiKeyCreateSchema, req);
    const key = await createUserApiKey(prisma, id, name, auditOf(req));
    res.status(201).json(key);
  });

  return router;
}

export function apiKeysRouter({ prisma }: ApiDeps): Router {
  const router = Router();
  router.delete('/:id', requireRole('admin'), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    await revokeApiKey(prisma, id, auditOf(req));
    res.status(204).end();
  });
  return router;
}

/** Sales ops may change only the routing fields; the problem names each other field they sent. */
function assertMayChange(role: UserRole, patch: UserUpdate): void {
  if (role === 'admin') return;
  const refused = Object.keys(patch).filter((field) => !salesOpsFields.includes(field as keyof UserUpdate));
  if (refused.length === 0) return;
  throw new HttpProblem(403, 'forbidden', 'Forbidden.', `Your role may change only ${salesOpsFields.join(', ')}; the other fields are for admins.`, refused.map((field) => ({ field, message: 'only admins may change this' })));
}

function auditOf(req: Request): AuditContext {
  return { actorId: req.principal!.apiKeyId, requestId: String(req.id) };
}
