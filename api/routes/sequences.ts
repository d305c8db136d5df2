import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { TemplateRenderer, templatesRoot } from '../../activities/templates';
import { SequenceCreateSchema, SequenceListQuerySchema, SequencePageSchema, SequenceUpdateSchema } from '../../domain/schemas/sequence';
import {
  SequenceParamsSchema,
  SequenceSchema,
  SequenceStatsQuerySchema,
  SequenceStatsSchema,
  SequenceVersionListSchema,
  SequenceVersionParamsSchema,
  SequenceVersionSchema,
} from '../../domain/schemas/sequence-views';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import { sequenceStats } from '../services/sequence-stats';
import {
  archiveSequence,
  createSequence,
  getSequence,
  getVersion,
  listSequences,
  listVersions,
  publishVersion,
  updateSequence,
  type SequenceAudit,
  type SequenceServiceDeps,
} from '../services/sequences';
import { parseBody, parseParams, parseQuery } from '../validate';

export const sequenceReaders = ['admin', 'marketer', 'sales_ops', 'manager'] as const;
export const sequenceWriters = ['admin', 'marketer'] as const;

const publishNote =
  'Publishing checks everything and answers 422 with every problem at once, each naming the step by its path and key, e.g. `{"field":"definition.steps[2](follow-up).then[0](nudge).template","message":"there is no email template \\"nudge\\" ..."}`: duplicate step keys, goto targets that do not exist or jump into a split variant from outside, message conditions on a step that is not an earlier email/sms step, steps no contact can reach, a sequence without an email, sms or task step, goto loops without a wait, and templates that do not exist on the step\'s channel or do not compile. Publishing pins the template versions the steps send (`templatePins`: a stored template\'s current version, or `file`), so later template edits do not reach enrollments of this version. A published version never changes; running enrollments stay on the version they started on.';

const statsNote = [
  'Four aggregate queries over enrollments, enrollment_steps, messages, message_events and activities, whatever the number of steps. Per version (published ones, newest first, or `?version=`):',
  '- `enrolled`: enrollments of the version; `active`: active or paused now; `completed`: ran to the end; `exited`: ended early; `stopReasons`: ended enrollments by stop reason.',
  '- `exitedByGoal`: ended by replied, company_replied, meeting_booked, purchased, deal_created or lifecycle_reached.',
  '- `converted`: ended with a stop reason in the version\'s `settings.convertedOn`; `conversionRate` = converted / enrolled.',
  'Per step (every step in reading order, nested ones included): `entered` (enrollments that executed it), `outcomes` (executions by outcome; a goto loop counts each visit), `current` (live enrollments standing at it), `stopReasons` (enrollments that ended while at it), and for message steps:',
  '- `sent`: executions with outcome `sent`;',
  '- `delivered`: messages the provider reported delivered, or that were opened, clicked or replied to (each implies delivery); `opened`: opened or clicked (a click implies an open); `clicked`; `bounced`; `unsubscribed`: unsubscribes and spam reports through the message;',
  '- `replied`: messages answered by an inbound email (Activity type `email`, `data.direction` `inbound`, `data.messageId` the message), out-of-office auto-replies excluded.',
  'A message counts once per fact, from the statuses it passed (its status history and status) and the provider events recorded for it: the same facts branch conditions read. Per split variant: `entered` (enrollments assigned to it), the same enrollment counts, `conversionRate` = converted / entered, and `messages` totals over the message steps inside the variant.',
].join('\n');

export function registerSequenceDocs(registry: OpenAPIRegistry): void {
  const tags = ['Sequences'];
  const body = <T>(schema: T) => ({ content: { 'application/json': { schema } } });
  registry.registerPath({
    method: 'get', path: '/v1/sequences', tags, summary: 'List sequences (newest first, cursor pagination)',
    request: { query: SequenceListQuerySchema },
    responses: { 200: jsonBody('A page of sequences', SequencePageSchema), ...problemResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/sequences', tags, summary: 'Create a sequence (version 1, a draft, or published with `publish: true`)',
    description: publishNote,
    request: { body: body(SequenceCreateSchema) },
    responses: { 201: jsonBody('Created', SequenceSchema), ...problemResponses(400, 401, 403, 413, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/sequences/{id}', tags, summary: 'A sequence with its latest and its published version',
    request: { params: SequenceParamsSchema },
    responses: { 200: jsonBody('The sequence', SequenceSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'put', path: '/v1/sequences/{id}', tags, summary: 'Save a new version (a draft, or published with `publish: true`)',
    description: `Every save is a new version; versions never change. ${publishNote}`,
    request: { params: SequenceParamsSchema, body: body(SequenceUpdateSchema) },
    responses: { 200: jsonBody('Saved', SequenceSchema), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422) },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/sequences/{id}', tags, summary: 'Archive a sequence: no new enrollments; running ones go on to their end',
    request: { params: SequenceParamsSchema },
    responses: { 204: { description: 'Archived (also when it already was)' }, ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/sequences/{id}/versions', tags, summary: 'Every version, newest first',
    request: { params: SequenceParamsSchema },
    responses: { 200: jsonBody('The versions', SequenceVersionListSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/sequences/{id}/versions/{version}', tags, summary: 'One version with its definition and template pins',
    request: { params: SequenceVersionParamsSchema },
    responses: { 200: jsonBody('The version', SequenceVersionSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/sequences/{id}/versions/{version}/publish', tags, summary: 'Publish a draft: new enrollments start on it',
    description: `${publishNote} A draft older than the published version is refused (409): save it again as a new version.`,
    request: { params: SequenceVersionParamsSchema },
    responses: { 200: jsonBody('Published', SequenceSchema), ...problemResponses(400, 401, 403, 404, 409, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/sequences/{id}/stats', tags, summary: 'Enrollments, messages and conversion per version, step and split variant',
    description: statsNote,
    request: { params: SequenceParamsSchema, query: SequenceStatsQuerySchema },
    responses: { 200: jsonBody('The stats', SequenceStatsSchema), ...problemResponses(400, 401, 403, 404) },
  });
}

function auditOf(req: Request): SequenceAudit {
  return { actorId: req.principal!.apiKeyId, userId: req.principal!.userId, requestId: String(req.id) };
}

export function sequencesRouter(deps: ApiDeps): Router {
  const { prisma, config } = deps;
  const renderer = new TemplateRenderer(templatesRoot, prisma, { sender: { company: config.EMAIL_FROM_NAME, postalAddress: config.SENDER_POSTAL_ADDRESS } });
  const service: SequenceServiceDeps = { prisma, renderer };
  const router = Router();

  router.get('/', requireRole(...sequenceReaders), async (req, res) => {
    const query = parseQuery(SequenceListQuerySchema, req);
    const rows = await listSequences(prisma, query.limit, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (row) => ({ at: new Date(row.createdAt), id: row.id })));
  });

  router.post('/', requireRole(...sequenceWriters), async (req, res) => {
    const input = parseBody(SequenceCreateSchema, req);
    const sequence = await createSequence(service, input, auditOf(req));
    res.status(201).location(`/v1/sequences/${sequence.id}`).json(sequence);
  });

  router.get('/:id', requireRole(...sequenceReaders), async (req, res) => {
    const { id } = parseParams(SequenceParamsSchema, req);
    res.json(await getSequence(prisma, id));
  });

  router.put('/:id', requireRole(...sequenceWriters), async (req, res) => {
    const { id } = parseParams(SequenceParamsSchema, req);
    const input = parseBody(SequenceUpdateSchema, req);
    res.json(await updateSequence(service, id, input, auditOf(req)));
  });

  router.delete('/:id', requireRole(...sequenceWriters), async (req, res) => {
    const { id } = parseParams(SequenceParamsSchema, req);
    await archiveSequence(prisma, id, auditOf(req));
    res.status(204).end();
  });

  router.get('/:id/versions', requireRole(...sequenceReaders), async (req, res) => {
    const { id } = parseParams(SequenceParamsSchema, req);
    res.json({ data: await listVersions(prisma, id) });
  });

  router.get('/:id/versions/:version', requireRole(...sequenceReaders), async (req, res) => {
    const { id, version } = parseParams(SequenceVersionParamsSchema, req);
    res.json(await getVersion(prisma, id, version));
  });

  router.post('/:id/versions/:version/publish', requireRole(...sequenceWriters), async (req, res) => {
    const { id, version } = parseParams(SequenceVersionParamsSchema, req);
    res.json(await publishVersion(service, id, version, auditOf(req)));
  });

  router.get('/:id/stats', requireRole(...sequenceReaders), async (req, res) => {
    const { id } = parseParams(SequenceParamsSchema, req);
    const { version } = parseQuery(SequenceStatsQuerySchema, req);
    res.json(await sequenceStats(prisma, id, version));
  });

  return router;
}
