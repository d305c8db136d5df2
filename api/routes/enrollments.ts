import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { IdParamsSchema } from '../../domain/schemas/common';
import {
  BulkEnrollmentCreateSchema,
  BulkEnrollmentListSchema,
  BulkEnrollmentSchema,
  EnrollmentCreateSchema,
  EnrollmentDetailSchema,
  EnrollmentListQuerySchema,
  EnrollmentPageSchema,
  EnrollmentSchema,
  SequenceMigrationCreateSchema,
  SequenceMigrationListSchema,
  SequenceMigrationPreviewSchema,
  SequenceMigrationSchema,
  UnenrollSchema,
} from '../../domain/schemas/enrollment';
import { SequenceParamsSchema } from '../../domain/schemas/sequence-views';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import {
  cancelBulkEnrollment,
  enrollOne,
  getBulkEnrollment,
  getEnrollment,
  listBulkEnrollments,
  listEnrollments,
  setEnrollmentPaused,
  startBulkEnrollment,
  unenroll,
  type EnrollmentServiceDeps,
} from '../services/enrollments';
import { getSequenceMigration, listSequenceMigrations, startSequenceMigration } from '../services/sequence-migrations';
import { parseBody, parseParams, parseQuery } from '../validate';
import { sequenceReaders, sequenceWriters } from './sequences';

const UnenrollQuerySchema = z.strictObject({ reason: UnenrollSchema.shape.reason.optional() });

const enrollNote =
  'Refusals: 409 `conflict` with `reason: "active"` and the running `enrollmentId` when the contact is in the sequence now (never twice at once, whatever the policy); 422 `enrollment-rejected` with `reason` `not_reenrollable` (re-enrollment policy never, and it was enrolled before), `cooldown` (policy after_cooldown, ended fewer than cooldownDays ago; `detail` gives the date), `suppressed` (a suppressed tag or lifecycle stage, active in a suppressing sequence, or deleted), `unpublished`, `archived` or `contact_not_found`. With an `Idempotency-Key`, a retry answers with the enrollment the first request made.';

export function registerEnrollmentDocs(registry: OpenAPIRegistry): void {
  const tags = ['Enrollments'];
  const body = <T>(schema: T) => ({ content: { 'application/json': { schema } } });
  registry.registerPath({
    method: 'post', path: '/v1/sequences/{id}/enrollments', tags, summary: 'Enroll one contact in the published version',
    description: enrollNote,
    request: { params: SequenceParamsSchema, body: body(EnrollmentCreateSchema) },
    responses: { 201: jsonBody('Enrolled: the row is written and its workflow started', EnrollmentSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/sequences/{id}/enrollments', tags, summary: 'The sequence\'s enrollments, newest first',
    request: { params: SequenceParamsSchema, query: EnrollmentListQuerySchema },
    responses: { 200: jsonBody('A page of enrollments', EnrollmentPageSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/enrollments/{id}', tags, summary: 'One enrollment: its steps so far and, while it runs, live progress from its workflow',
    request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The enrollment', EnrollmentDetailSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/enrollments/{id}', tags, summary: 'Unenroll: the workflow stops the enrollment (stop reason `unenrolled`)',
    description: 'The reason comes in the body (`{"reason": "..."}`) or as `?reason=`. Answers 202: the workflow records the stop a moment later. 409 when the enrollment already ended.',
    request: { params: IdParamsSchema, query: UnenrollQuerySchema, body: { ...body(UnenrollSchema), required: false } },
    responses: { 202: jsonBody('Unenrolling', EnrollmentSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  });
  for (const action of ['pause', 'resume'] as const) {
    registry.registerPath({
      method: 'post', path: `/v1/enrollments/{id}/${action}`, tags,
      summary: action === 'pause' ? 'Pause: the enrollment runs no step until resumed (its waits keep counting)' : 'Resume a paused enrollment: a wait that ended meanwhile goes on at once',
      description: `The workflow applies it before answering, so the answer shows the new status. ${action === 'pause' ? 'Pausing a paused' : 'Resuming an active'} enrollment changes nothing. 409 when the enrollment ended or its workflow is not running.`,
      request: { params: IdParamsSchema },
      responses: { 200: jsonBody('The enrollment', EnrollmentDetailSchema), ...problemResponses(400, 401, 403, 404, 409) },
    });
  }
  const migrationTags = ['Sequence migrations'];
  registry.registerPath({
    method: 'post', path: '/v1/sequences/{id}/migrations', tags: migrationTags, summary: 'Move running enrollments to another published version, by step key',
    description:
      'Publishing never changes a running enrollment; this does, explicitly. Every step key of `fromVersion` must have a place in `toVersion`: the same key, or the step `stepMap` names (422 lists each key without one as `stepMap/<key>`). Each enrollment finishes the step it is in (a wait keeps its timer, a send completes) on its old version and goes on at the mapped step of the new one; visit counts carry over, so nothing is sent twice. With `dryRun` the answer (200) is the mapping and the live enrollments per current step, and nothing changes. Otherwise the job (202) runs as workflow `migrate-enrollments:{id}`: resumable after a crash, counters exact. 409 while another migration of the sequence runs.',
    request: { params: SequenceParamsSchema, body: body(SequenceMigrationCreateSchema) },
    responses: { 200: jsonBody('Dry run: what would move', SequenceMigrationPreviewSchema), 202: jsonBody('Started', SequenceMigrationSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/sequences/{id}/migrations', tags: migrationTags, summary: 'The sequence\'s migrations, newest first (latest 100)',
    request: { params: SequenceParamsSchema },
    responses: { 200: jsonBody('The jobs', SequenceMigrationListSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/sequence-migrations/{id}', tags: migrationTags, summary: 'A migration\'s progress',
    request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The job', SequenceMigrationSchema), ...problemResponses(400, 401, 403, 404) },
  });
  const bulkTags = ['Bulk enrollments'];
  registry.registerPath({
    method: 'post', path: '/v1/sequences/{id}/bulk-enrollments', tags: bulkTags, summary: 'Enroll a segment of contacts, as a background job',
    description:
      'Counts the segment (`matched`), writes the job and starts its workflow `bulk-enroll:{jobId}`, which walks the segment page by page (oldest contact first) and enrolls each contact as a single enrollment would; refusals count as `skipped` by reason. Contacts created after the job started are not enrolled. A crashed worker\'s page is done again: nobody is enrolled twice and counters stay exact. 422 `enrollment-rejected` with `reason` `unpublished` or `archived`.',
    request: { params: SequenceParamsSchema, body: body(BulkEnrollmentCreateSchema) },
    responses: { 202: jsonBody('Started', BulkEnrollmentSchema), ...problemResponses(400, 401, 403, 404, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/sequences/{id}/bulk-enrollments', tags: bulkTags, summary: 'The sequence\'s bulk enrollments, newest first (latest 100)',
    request: { params: SequenceParamsSchema },
    responses: { 200: jsonBody('The jobs', BulkEnrollmentListSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/bulk-enrollments/{id}', tags: bulkTags, summary: 'A bulk enrollment\'s progress',
    request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The job', BulkEnrollmentSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/bulk-enrollments/{id}/cancel', tags: bulkTags, summary: 'Cancel a running bulk enrollment',
    description: 'The page under way finishes and is counted; then the job is `cancelled`. Contacts enrolled so far stay enrolled. 409 when the job already ended.',
    request: { params: IdParamsSchema },
    responses: { 202: jsonBody('Cancelling', BulkEnrollmentSchema), ...problemResponses(400, 401, 403, 404, 409) },
  });
}

/** Enrollments of a sequence, single and bulk: mounted at /v1, since its paths start under /sequences and at the top. */
export function enrollmentsRouter(deps: ApiDeps): Router {
  const { prisma, temporal, config } = deps;
  const service: EnrollmentServiceDeps = { prisma, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, bulkPageSize: config.BULK_ENROLLMENT_PAGE_SIZE };
  const router = Router();

  router.post('/sequences/:id/enrollments', requireRole(...sequenceWriters), async (req, res) => {
    const { id } = parseParams(SequenceParamsSchema, req);
    const { contactId } = parseBody(EnrollmentCreateSchema, req);
    const enrollment = await enrollOne(service, id, contactId, req.principal!, req.get('idempotency-key'));
    res.status(201).location(`/v1/enrollments/${enrollment.id}`).json(enrollment);
  });

  router.get('/sequences/:id/enrollments', requireRole(...sequenceReaders), async (req, res) => {
    const { id } = parseParams(SequenceParamsSchema, req);
    const query = parseQuery(EnrollmentListQuerySchema, req);
    const rows = await listEnrollments(prisma, id, query, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (row) => ({ at: new Date(row.enrolledAt), id: row.id })));
  });

  router.get('/enrollments/:id', requireRole(...sequenceReaders), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await getEnrollment(service, id));
  });

  router.delete('/enrollments/:id', requireRole(...sequenceWriters), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const fromQuery = parseQuery(UnenrollQuerySchema, req).reason;
    const { reason } = fromQuery !== undefined && req.body === undefined ? { reason: fromQuery } : parseBody(UnenrollSchema, req);
    res.status(202).json(await unenroll(service, id, reason, req.principal!));
  });

  for (const action of ['pause', 'resume'] as const) {
    router.post(`/enrollments/:id/${action}`, requireRole(...sequenceWriters), async (req, res) => {
      const { id } = parseParams(IdParamsSchema, req);
      res.json(await setEnrollmentPaused(service, id, action === 'pause', req.principal!));
    });
  }

  router.post('/sequences/:id/migrations', requireRole(...sequenceWriters), async (req, res) => {
    const { id } = parseParams(SequenceParamsSchema, req);
    const started = await startSequenceMigration(service, id, parseBody(SequenceMigrationCreateSchema, req), req.principal!);
    if ('preview' in started) res.json(started.preview);
    else res.status(202).location(`/v1/sequence-migrations/${started.job.id}`).json(started.job);
  });

  router.get('/sequences/:id/migrations', requireRole(...sequenceReaders), async (req, res) => {
    const { id } = parseParams(SequenceParamsSchema, req);
    res.json({ data: await listSequenceMigrations(prisma, id) });
  });

  router.get('/sequence-migrations/:id', requireRole(...sequenceReaders), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await getSequenceMigration(prisma, id));
  });

  router.post('/sequences/:id/bulk-enrollments', requireRole(...sequenceWriters), async (req, res) => {
    const { id } = parseParams(SequenceParamsSchema, req);
    const { filter } = parseBody(BulkEnrollmentCreateSchema, req);
    const job = await startBulkEnrollment(service, id, filter, req.principal!);
    res.status(202).location(`/v1/bulk-enrollments/${job.id}`).json(job);
  });

  router.get('/sequences/:id/bulk-enrollments', requireRole(...sequenceReaders), async (req, res) => {
    const { id } = parseParams(SequenceParamsSchema, req);
    res.json({ data: await listBulkEnrollments(prisma, id) });
  });

  router.get('/bulk-enrollments/:id', requireRole(...sequenceReaders), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await getBulkEnrollment(prisma, id));
  });

  router.post('/bulk-enrollments/:id/cancel', requireRole(...sequenceWriters), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.status(202).json(await cancelBulkEnrollment(service, id));
  });

  return router;
}
