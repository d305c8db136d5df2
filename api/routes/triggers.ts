import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { TemplateRenderer, templatesRoot } from '../../activities/templates';
import { IdParamsSchema } from '../../domain/schemas/common';
import {
  SigningSecretSchema,
  TriggerCreateSchema,
  TriggerCreatedSchema,
  TriggerListQuerySchema,
  TriggerPageSchema,
  TriggerPublishSchema,
  TriggerRunListQuerySchema,
  TriggerRunPageSchema,
  TriggerSchema,
  TriggerTextContextSchema,
  TriggerUpdateSchema,
  TriggerVersionListSchema,
  TriggerVersionParamsSchema,
  TriggerVersionSchema,
  TriggerWebhookEventSchema,
  triggerWriteSchemas,
} from '../../domain/schemas/trigger';
import type { ApiDeps } from '../deps';
import { principalOf, requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import { listTriggerRuns } from '../services/trigger-runs';
import {
  archiveTrigger,
  createTrigger,
  getSigningSecret,
  getTrigger,
  getVersion,
  listTriggers,
  listVersions,
  publishTrigger,
  rotateSigningSecret,
  setTriggerActive,
  updateTrigger,
  type TriggerAudit,
  type TriggerServiceDeps,
} from '../services/triggers';
import { parseBody, parseParams, parseQuery } from '../validate';

export const triggerReaders = ['admin', 'sales_ops', 'manager'] as const;
export const triggerWriters = ['admin', 'sales_ops'] as const;

const definitionNote = [
  'A trigger fires when a deal enters (`event: enter`) or leaves (`event: leave`) the stage `stageId` and every filter given matches; its actions then run in order, each exactly once per stage change, inside the deal\'s workflow. Actions: `create_task`, `send_email` (to the deal\'s contact), `notify_owner` (email to the owner), `enroll_in_sequence`, `update_field`, `webhook` (JSON, HMAC-signed, retried).',
  'An `enter` trigger may set `idleLimitDays` (business days, 1-365): a deal it fires for then goes idle after that many business days in the stage instead of the stage\'s limit, touches restart the clock on it, and when several matching triggers set one the shortest applies. Such a trigger needs no actions; any other needs at least one.',
  'Every save checks the shape and the Handlebars texts (task title and description, webhook body strings; variables in TriggerTextContext) and answers 422 listing each bad field, e.g. `{"field":"definition/actions/2/assignee/userId","message":"must be a UUID"}` or `{"field":"definition/actions/0/title","message":"line 1, column 12: ..."}`.',
  'Publishing also checks that every stage, pipeline, user, sequence and email template named exists (422 for each that does not). A published version never changes; a PUT saves a new version.',
].join('\n\n');

const signatureNote =
  'Webhook calls are POSTs of JSON (the `body` of the action, or the TriggerWebhookEvent) with `Touchpoint-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the signing secret>`, `Touchpoint-Delivery: <delivery id>` (the same on every retry, and on a redelivery the first delivery\'s id) and `Touchpoint-Event: deal.stage_entered|deal.stage_left`.';

export function registerTriggerDocs(registry: OpenAPIRegistry): void {
  const tags = ['Triggers'];
  const body = <T>(schema: T) => ({ content: { 'application/json': { schema } } });
  // Referenced by descriptions only, so registered by hand: the variables of trigger texts.
  const { $schema: _dialect, ...textContext } = z.toJSONSchema(TriggerTextContextSchema, { metadata: z.registry() });
  registry.registerComponent('schemas', 'TriggerTextContext', textContext as Parameters<typeof registry.registerComponent<'schemas'>>[2]);
  registry.registerWebhook({
    method: 'post', path: 'trigger-webhook', tags, summary: 'What a trigger\'s webhook action posts to its URL',
    description: `${signatureNote} Answer 2xx to acknowledge; 408, 429, 5xx and timeouts are retried, other answers fail the delivery.`,
    request: { body: body(TriggerWebhookEventSchema) },
    responses: { 200: { description: 'Received' } },
  });
  registry.registerPath({
    method: 'get', path: '/v1/triggers', tags, summary: 'List stage-move triggers (newest first; archived ones with includeArchived=true)',
    request: { query: TriggerListQuerySchema },
    responses: { 200: jsonBody('A page of triggers', TriggerPageSchema), ...problemResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/triggers', tags, summary: 'Create a trigger (version 1: a draft, or published with `publish: true`)',
    description: `${definitionNote}\n\n${signatureNote} The answer carries the trigger's \`signingSecret\`.`,
    request: { body: body(TriggerCreateSchema) },
    responses: { 201: jsonBody('Created', TriggerCreatedSchema), ...problemResponses(400, 401, 403, 413, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/triggers/{id}', tags, summary: 'A trigger with its latest version', request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The trigger', TriggerSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'put', path: '/v1/triggers/{id}', tags, summary: 'Save a new version (and publish it with `publish: true`)', description: definitionNote,
    request: { params: IdParamsSchema, body: body(TriggerUpdateSchema) },
    responses: { 200: jsonBody('Saved', TriggerSchema), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422) },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/triggers/{id}', tags, summary: 'Archive a trigger: it never fires again; its runs stay readable', request: { params: IdParamsSchema },
    responses: { 204: { description: 'Archived' }, ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/triggers/{id}/publish', tags, summary: 'Publish a draft version (default: the latest); it fires from now on',
    description: 'Checks every reference (422 listing each problem). 409 when the version is already published or older than the published one.',
    request: { params: IdParamsSchema, body: body(TriggerPublishSchema) },
    responses: { 200: jsonBody('Published', TriggerSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  });
  for (const [action, summary] of [['activate', 'Let the published version fire again'], ['deactivate', 'Pause the trigger: it matches nothing until activated']] as const) {
    registry.registerPath({
      method: 'post', path: `/v1/triggers/{id}/${action}`, tags, summary, request: { params: IdParamsSchema },
      responses: { 200: jsonBody('The trigger', TriggerSchema), ...problemResponses(400, 401, 403, 404, 409) },
    });
  }
  registry.registerPath({
    method: 'get', path: '/v1/triggers/{id}/versions', tags, summary: 'Every version, newest first', request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The versions', TriggerVersionListSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/triggers/{id}/versions/{version}', tags, summary: 'One version', request: { params: TriggerVersionParamsSchema },
    responses: { 200: jsonBody('The version', TriggerVersionSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/triggers/{id}/runs', tags, summary: 'The trigger\'s ledger: one row per action and stage change, newest first',
    description: 'Each row says which version ran, for which deal and stage change, and what the action did (`detail`: taskId, messageId, enrollmentId, deliveryId) or why it was skipped or failed.',
    request: { params: IdParamsSchema, query: TriggerRunListQuerySchema },
    responses: { 200: jsonBody('A page of runs', TriggerRunPageSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/triggers/{id}/signing-secret', tags, summary: 'The key of the trigger\'s webhook signatures (sales ops, admins)',
    description: signatureNote, request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The secret', SigningSecretSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/triggers/{id}/signing-secret/rotate', tags, summary: 'Replace the signing secret; deliveries from now on use the new one',
    request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The new secret', SigningSecretSchema), ...problemResponses(400, 401, 403, 404) },
  });
}

export function triggersRouter(deps: ApiDeps): Router {
  const { prisma, config } = deps;
  const renderer = new TemplateRenderer(templatesRoot, prisma, { sender: { company: config.EMAIL_FROM_NAME, postalAddress: config.SENDER_POSTAL_ADDRESS } });
  const service: TriggerServiceDeps = { prisma, renderer };
  // The webhook URL rule depends on this deployment's http allow-list and private-network switch.
  const writeSchemas = triggerWriteSchemas({ httpAllowedHosts: config.WEBHOOK_HTTP_ALLOWED_HOSTS, allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS });
  const router = Router();

  router.get('/', requireRole(...triggerReaders), async (req, res) => {
    const query = parseQuery(TriggerListQuerySchema, req);
    const rows = await listTriggers(prisma, query, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (row) => ({ at: new Date(row.createdAt), id: row.id })));
  });

  router.post('/', requireRole(...triggerWriters), async (req, res) => {
    const input = parseBody(writeSchemas.create, req);
    const trigger = await createTrigger(service, input, audit(req));
    res.status(201).location(`/v1/triggers/${trigger.id}`).json(trigger);
  });

  router.get('/:id', requireRole(...triggerReaders), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await getTrigger(prisma, id));
  });

  router.put('/:id', requireRole(...triggerWriters), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const input = parseBody(writeSchemas.update, req);
    res.json(await updateTrigger(service, id, input, audit(req)));
  });

  router.delete('/:id', requireRole(...triggerWriters), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    await archiveTrigger(prisma, id, audit(req));
    res.status(204).end();
  });

  router.post('/:id/publish', requireRole(...triggerWriters), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const { version } = parseBody(TriggerPublishSchema, req);
    res.json(await publishTrigger(service, id, version, audit(req)));
  });

  router.post('/:id/activate', requireRole(...triggerWriters), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await setTriggerActive(prisma, id, true, audit(req)));
  });

  router.post('/:id/deactivate', requireRole(...triggerWriters), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await setTriggerActive(prisma, id, false, audit(req)));
  });

  router.get('/:id/versions', requireRole(...triggerReaders), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json({ data: await listVersions(prisma, id) });
  });

  router.get('/:id/versions/:version', requireRole(...triggerReaders), async (req, res) => {
    const { id, version } = parseParams(TriggerVersionParamsSchema, req);
    res.json(await getVersion(prisma, id, version));
  });

  router.get('/:id/runs', requireRole(...triggerReaders), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const query = parseQuery(TriggerRunListQuerySchema, req);
    const rows = await listTriggerRuns(prisma, id, query, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (row) => ({ at: new Date(row.at), id: row.id })));
  });

  router.get('/:id/signing-secret', requireRole(...triggerWriters), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await getSigningSecret(prisma, id));
  });

  router.post('/:id/signing-secret/rotate', requireRole(...triggerWriters), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await rotateSigningSecret(prisma, id, audit(req)));
  });

  return router;
}

function audit(req: Request): TriggerAudit {
  const principal = principalOf(req);
  return { actorId: principal.apiKeyId, userId: principal.userId, requestId: String(req.id) };
}
