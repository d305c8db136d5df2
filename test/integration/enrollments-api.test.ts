import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollmentWorkflowId } from '../../workflows/workflow-ids';
import { apiClient } from '../support/api-client';
import { eventually, startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let marketer: string;
const call = apiClient({ get baseUrl() { return stack.baseUrl; } }, () => marketer);

beforeAll(async () => {
  stack = await startTestStack();
  marketer = await stack.keyFor('marketer');
  await stack.startWorker();
});
afterAll(() => stack.close());

interface EnrollmentReply {
  id: string;
  status: string;
  version: number;
  workflowId: string;
  stopReason: string | null;
  stopDetail: string | null;
  reason?: string;
  enrollmentId?: string;
  detail?: string;
}

/** A week's wait first: enrollments stay active and their workflows idle on a timer. */
async function publishedSequence(settings: Record<string, unknown> = {}, name = `seq ${randomUUID().slice(0, 6)}`): Promise<string> {
  const reply = await call<{ id: string }>('POST', '/v1/sequences', {
    body: { name, publish: true, definition: { steps: [{ key: 'pause', type: 'wait', duration: 'P7D' }, { key: 'hello', type: 'email', template: 'welcome' }], settings } },
  });
  expect(reply.status).toBe(201);
  return reply.body.id;
}

async function contact(data: { tags?: string[]; lifecycleStage?: 'lead' | 'customer'; deletedAt?: Date } = {}) {
  return stack.db.prisma.contact.create({ data: { firstName: 'Pat', emails: { create: { address: `pat-${randomUUID().slice(0, 8)}@example.com`, isPrimary: true } }, ...data } });
}

/** An enrollment that ended `daysAgo` days ago, as the enrollment workflow leaves it. */
async function endedEnrollment(sequenceId: string, contactId: string, daysAgo: number) {
  return stack.db.prisma.enrollment.create({
    data: { sequenceId, contactId, version: 1, status: 'completed', stopReason: 'completed', source: 'api', workflowId: enrollmentWorkflowId(sequenceId, contactId), endedAt: new Date(Date.now() - daysAgo * 86_400_000) },
  });
}

const enroll = (sequenceId: string, contactId: string, headers: Record<string, string> = {}) =>
  call<EnrollmentReply>('POST', `/v1/sequences/${sequenceId}/enrollments`, { body: { contactId }, headers });

describe('enrolling one contact', () => {
  it('writes the enrollment on the published version and starts its workflow, whose memo names it', async () => {
    const sequenceId = await publishedSequence();
    const pat = await contact();
    const reply = await enroll(sequenceId, pat.id);
    expect(reply.status).toBe(201);
    expect(reply.headers.get('location')).toBe(`/v1/enrollments/${reply.body.id}`);
    expect(reply.body).toMatchObject({ status: 'active', version: 1, workflowId: `enrollment:${sequenceId}:${pat.id}`, source: 'api', contactId: pat.id });

    const description = await stack.client.workflow.getHandle(reply.body.workflowId).describe();
    expect(description.type).toBe('sequenceEnrollment');
    expect(description.memo).toEqual({ enrollmentId: reply.body.id });
    expect(description.typedSearchAttributes.getAll().find((pair) => pair.key.name === 'ContactId')?.value).toBe(pat.id);
  });

  it('answers 409 with the running enrollment while the contact is in the sequence, whatever the policy', async () => {
    const sequenceId = await publishedSequence({ reenrollment: { policy: 'always' } });
    const pat = await contact();
    const first = await enroll(sequenceId, pat.id);
    const second = await enroll(sequenceId, pat.id);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ type: '/problems/conflict', reason: 'active', enrollmentId: first.body.id });
  });

  it('lets exactly one of many simultaneous requests enroll the contact', async () => {
    const sequenceId = await publishedSequence({ reenrollment: { policy: 'always' } });
    const pat = await contact();
    const replies = await Promise.all(Array.from({ length: 8 }, () => enroll(sequenceId, pat.id)));
    expect(replies.map((reply) => reply.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    expect(await stack.db.prisma.enrollment.count({ where: { sequenceId, contactId: pat.id } })).toBe(1);
  });

  it('applies the re-enrollment policy to a contact that was in the sequence before', async () => {
    const never = await publishedSequence();
    const cooldown = await publishedSequence({ reenrollment: { policy: 'after_cooldown', cooldownDays: 7 } });
    const always = await publishedSequence({ reenrollment: { policy: 'always' } });
    const recent = await contact();
    const longAgo = await contact();
    for (const sequenceId of [never, cooldown, always]) await endedEnrollment(sequenceId, recent.id, 2);
    await endedEnrollment(cooldown, longAgo.id, 8);

    const refused = await enroll(never, recent.id);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ type: '/problems/enrollment-rejected', reason: 'not_reenrollable' });
    const cooling = await enroll(cooldown, recent.id);
    expect(cooling.status).toBe(422);
    expect(cooling.body.reason).toBe('cooldown');
    expect(cooling.body.detail).toMatch(/may enroll again from \d{4}-/);
    expect((await enroll(cooldown, longAgo.id)).status).toBe(201);
    expect((await enroll(always, recent.id)).status).toBe(201);
  });

  it('refuses suppressed contacts: by tag, by stage, while active in a listed sequence, and deleted ones', async () => {
    const other = await publishedSequence();
    const sequenceId = await publishedSequence({ suppression: { tags: ['do-not-mail'], lifecycleStages: ['customer'], activeInSequences: [other] } });
    const tagged = await contact({ tags: ['do-not-mail'] });
    const customer = await contact({ lifecycleStage: 'customer' });
    const busy = await contact();
    expect((await enroll(other, busy.id)).status).toBe(201);
    const deleted = await contact({ deletedAt: new Date() });
    const details = [];
    for (const pat of [tagged, customer, busy, deleted]) {
      const reply = await enroll(sequenceId, pat.id);
      expect([reply.status, reply.body.reason]).toEqual([422, 'suppressed']);
      details.push(reply.body.detail);
    }
    expect(details).toEqual([
      'The contact has the suppressed tag "do-not-mail".',
      'The contact is in the suppressed lifecycle stage customer.',
      `The contact is active in sequence ${other}, which suppresses this one.`,
      'The contact was deleted.',
    ]);
  });

  it('refuses unpublished and archived sequences and unknown contacts, and 404s an unknown sequence', async () => {
    const draft = await call<{ id: string }>('POST', '/v1/sequences', { body: { name: 'Draft', definition: { steps: [{ key: 'hello', type: 'email', template: 'welcome' }] } } });
    const archived = await publishedSequence();
    expect((await call('DELETE', `/v1/sequences/${archived}`)).status).toBe(204);
    const pat = await contact();
    expect((await enroll(draft.body.id, pat.id)).body.reason).toBe('unpublished');
    expect((await enroll(archived, pat.id)).body.reason).toBe('archived');
    const nobody = await enroll(archived.replace(/^.{8}/, '00000000'), pat.id);
    expect(nobody.status).toBe(404);
    const ghost = await enroll(await publishedSequence(), randomUUID());
    expect([ghost.status, ghost.body.reason]).toEqual([422, 'contact_not_found']);
    expect((await call('POST', `/v1/sequences/${archived}/enrollments`, { body: { contactId: 'x' } })).body.errors).toEqual([{ field: 'contactId', message: 'must be a UUID' }]);
  });

  it('starts the workflow of an enrollment whose row was written just before a crash: on a retry with the same Idempotency-Key, and when it blocks a new one', async () => {
    const sequenceId = await publishedSequence({ reenrollment: { policy: 'always' } });
    const principal = await stack.db.prisma.apiKey.findFirstOrThrow({ where: { name: 'test marketer' } });
    const orphan = async (sourceKey: string | null) => {
      const pat = await contact();
      const row = await stack.db.prisma.enrollment.create({
        data: { sequenceId, contactId: pat.id, version: 1, status: 'active', activeKey: `${sequenceId}:${pat.id}`, source: 'api', sourceKey, workflowId: enrollmentWorkflowId(sequenceId, pat.id) },
      });
      return { pat, row };
    };

    const retried = await orphan(`api:${principal.id}:retry-1`);
    const reply = await enroll(sequenceId, retried.pat.id, { 'idempotency-key': 'retry-1' });
    expect(reply.status).toBe(201);
    expect(reply.body.id).toBe(retried.row.id);
    expect((await stack.client.workflow.getHandle(retried.row.workflowId).describe()).memo).toEqual({ enrollmentId: retried.row.id });

    const blocking = await orphan(null);
    const conflict = await enroll(sequenceId, blocking.pat.id);
    expect([conflict.status, conflict.body.enrollmentId]).toEqual([409, blocking.row.id]);
    expect((await stack.client.workflow.getHandle(blocking.row.workflowId).describe()).memo).toEqual({ enrollmentId: blocking.row.id });
  });

  it('lets sales ops and managers read enrollments but not enroll', async () => {
    const sequenceId = await publishedSequence();
    const pat = await contact();
    for (const role of ['sales_ops', 'manager'] as const) {
      const key = await stack.keyFor(role);
      expect((await call('POST', `/v1/sequences/${sequenceId}/enrollments`, { key, body: { contactId: pat.id } })).status).toBe(403);
      expect((await call('GET', `/v1/sequences/${sequenceId}/enrollments`, { key })).status).toBe(200);
    }
    expect((await call('GET', `/v1/sequences/${sequenceId}/enrollments`, { key: stack.keys.rep })).status).toBe(403);
  });
});

describe('reading and ending enrollments', () => {
  it('lists a sequence\'s enrollments newest first, by status, page by page', async () => {
    const sequenceId = await publishedSequence();
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push((await enroll(sequenceId, (await contact()).id)).body.id);
    await endedEnrollment(sequenceId, (await contact()).id, 1);
    const first = await call('GET', `/v1/sequences/${sequenceId}/enrollments?status=active&limit=2`);
    const second = await call('GET', `/v1/sequences/${sequenceId}/enrollments?status=active&limit=2&cursor=${String(first.body.nextCursor)}`);
    expect([...first.body.data!, ...second.body.data!].map((row) => row.id)).toEqual(ids.reverse());
    expect(second.body.nextCursor).toBeNull();
    expect((await call('GET', `/v1/sequences/${sequenceId}/enrollments?status=completed`)).body.data).toHaveLength(1);
  });

  it('shows an enrollment with its steps and the workflow\'s live progress', async () => {
    const sequenceId = await publishedSequence();
    const created = await enroll(sequenceId, (await contact()).id);
    const detail = await eventually(
      () => call<{ progress: { currentStepKey: string | null; waitingUntil: string | null } | null; steps: unknown[] }>('GET', `/v1/enrollments/${created.body.id}`),
      (reply) => reply.body.progress?.waitingUntil != null,
    );
    expect(detail.body.progress).toMatchObject({ enrollmentId: created.body.id, status: 'active', currentStepKey: 'pause' });
    expect(detail.body).toMatchObject({ id: created.body.id, status: 'active', steps: [] });
  });

  it('unenrolls through the workflow with the reason given, and refuses an enrollment that already ended', async () => {
    const sequenceId = await publishedSequence();
    const created = await enroll(sequenceId, (await contact()).id);
    await eventually(() => call<{ progress: unknown }>('GET', `/v1/enrollments/${created.body.id}`), (reply) => reply.body.progress !== null);
    expect((await call('DELETE', `/v1/enrollments/${created.body.id}`)).status).toBe(422);
    const reply = await call<EnrollmentReply>('DELETE', `/v1/enrollments/${created.body.id}`, { body: { reason: 'asked us to stop on the phone' } });
    expect(reply.status).toBe(202);
    const ended = await eventually(() => stack.db.prisma.enrollment.findUniqueOrThrow({ where: { id: created.body.id } }), (row) => row.status !== 'active');
    expect(ended).toMatchObject({ status: 'exited', stopReason: 'unenrolled', stopDetail: 'asked us to stop on the phone', activeKey: null });
    const again = await call('DELETE', `/v1/enrollments/${created.body.id}?reason=again`);
    expect(again.status).toBe(409);
    expect((await call<{ progress: unknown }>('GET', `/v1/enrollments/${created.body.id}`)).body.progress).toBeNull();
  });

  it('ends an enrollment whose workflow is not running directly, with the reason from the query', async () => {
    const sequenceId = await publishedSequence();
    const pat = await contact();
    const row = await stack.db.prisma.enrollment.create({
      data: { sequenceId, contactId: pat.id, version: 1, status: 'active', activeKey: `${sequenceId}:${pat.id}`, source: 'api', workflowId: enrollmentWorkflowId(sequenceId, pat.id) },
    });
    const reply = await call<EnrollmentReply>('DELETE', `/v1/enrollments/${row.id}?reason=${encodeURIComponent('cleanup')}`);
    expect(reply.status).toBe(202);
    expect(reply.body).toMatchObject({ status: 'exited', stopReason: 'unenrolled', stopDetail: 'cleanup' });
    expect((await enroll(sequenceId, pat.id)).body.reason).toBe('not_reenrollable');
  });
});

describe('pausing and resuming over HTTP', () => {
  it('pauses and resumes through the workflow, records who did it, and refuses an ended enrollment', async () => {
    const sequenceId = await publishedSequence();
    const pat = await contact();
    const created = await enroll(sequenceId, pat.id);

    const paused = await call<EnrollmentReply & { progress: { status: string } | null }>('POST', `/v1/enrollments/${created.body.id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ status: 'paused', progress: { status: 'paused' } });
    expect((await call<EnrollmentReply>('POST', `/v1/enrollments/${created.body.id}/pause`)).body.status).toBe('paused');
    const resumed = await call<EnrollmentReply>('POST', `/v1/enrollments/${created.body.id}/resume`);
    expect(resumed.body.status).toBe('active');
    const audit = await stack.db.prisma.auditLog.findMany({ where: { entityId: created.body.id }, orderBy: { at: 'asc' } });
    expect(audit.map((row) => row.action)).toEqual(['enrollment.paused', 'enrollment.resumed']);

    await call('DELETE', `/v1/enrollments/${created.body.id}`, { body: { reason: 'done' } });
    await eventually(() => stack.db.prisma.enrollment.findUniqueOrThrow({ where: { id: created.body.id } }), (row) => row.status === 'exited');
    const refused = await call<{ type: string }>('POST', `/v1/enrollments/${created.body.id}/resume`);
    expect(refused.status).toBe(409);
    expect((await call('POST', `/v1/enrollments/${randomUUID()}/pause`)).status).toBe(404);
  });
});

describe('migrating running enrollments to a newer version', () => {
  const v1 = { steps: [{ key: 'pause', type: 'wait', duration: 'P7D' }, { key: 'hello', type: 'email', template: 'welcome' }] };
  const v2 = { steps: [{ key: 'pause', type: 'wait', duration: 'P7D' }, { key: 'greeting', type: 'email', template: 'welcome' }, { key: 'nudge', type: 'wait', duration: 'P1D' }] };

  async function publish(sequenceId: string, definition: unknown, publishIt = true) {
    const reply = await call<{ publishedVersion: number | null; latestVersion: number }>('PUT', `/v1/sequences/${sequenceId}`, { body: { definition, publish: publishIt } });
    expect(reply.status).toBe(200);
    return reply.body.latestVersion;
  }

  it('refuses a mapping that leaves a step of the old version without a place, a draft or missing version, and the same version', async () => {
    const sequenceId = await publishedSequence();
    await publish(sequenceId, v2);
    const unmapped = await call<{ errors: Array<{ field: string; message: string }> }>('POST', `/v1/sequences/${sequenceId}/migrations`, { body: { fromVersion: 1 } });
    expect(unmapped.status).toBe(422);
    expect(unmapped.body.errors).toEqual([{ field: 'stepMap/hello', message: expect.stringContaining('v2 has no step "hello"') }]);
    const badTarget = await call<{ errors: Array<{ field: string }> }>('POST', `/v1/sequences/${sequenceId}/migrations`, { body: { fromVersion: 1, stepMap: { hello: 'nowhere', ghost: 'greeting' } } });
    expect(badTarget.body.errors.map((error) => error.field).sort()).toEqual(['stepMap/ghost', 'stepMap/hello']);
    const draft = await publish(sequenceId, v1, false);
    const toDraft = await call<{ errors: Array<{ field: string }> }>('POST', `/v1/sequences/${sequenceId}/migrations`, { body: { fromVersion: 1, toVersion: draft } });
    expect(toDraft.body.errors).toEqual([{ field: 'toVersion', message: expect.stringContaining('draft') }]);
    expect((await call<{ errors: Array<{ field: string }> }>('POST', `/v1/sequences/${sequenceId}/migrations`, { body: { fromVersion: 9, stepMap: {} } })).body.errors[0]!.field).toBe('fromVersion');
    expect((await call<{ errors: Array<{ field: string }> }>('POST', `/v1/sequences/${sequenceId}/migrations`, { body: { fromVersion: 2 } })).body.errors[0]!.field).toBe('toVersion');
    expect(await stack.db.prisma.sequenceMigration.count({ where: { sequenceId } })).toBe(0);
  });

  it('previews a dry run, then moves every live enrollment of the old version and counts each once', async () => {
    const sequenceId = await publishedSequence();
    const [ann, bob, cid] = await Promise.all([contact(), contact(), contact()]);
    const [a, b, c] = [await enroll(sequenceId, ann.id), await enroll(sequenceId, bob.id), await enroll(sequenceId, cid.id)];
    await call('DELETE', `/v1/enrollments/${c.body.id}`, { body: { reason: 'left' } });
    await eventually(() => stack.db.prisma.enrollment.findUniqueOrThrow({ where: { id: c.body.id } }), (row) => row.status === 'exited');
    await call('POST', `/v1/enrollments/${b.body.id}/pause`);
    await eventually(() => stack.db.prisma.enrollment.findUniqueOrThrow({ where: { id: a.body.id } }), (row) => row.currentStepKey === 'pause');
    await publish(sequenceId, v2);

    const preview = await call<{ matched: number; byStep: Record<string, number>; mapping: Record<string, string> }>('POST', `/v1/sequences/${sequenceId}/migrations`, { body: { fromVersion: 1, stepMap: { hello: 'greeting' }, dryRun: true } });
    expect(preview.status).toBe(200);
    expect(preview.body).toEqual({ fromVersion: 1, toVersion: 2, mapping: { pause: 'pause', hello: 'greeting' }, matched: 2, byStep: { pause: 2 } });
    expect(await stack.db.prisma.sequenceMigration.count({ where: { sequenceId } })).toBe(0);

    const started = await call<{ id: string; status: string; matched: number }>('POST', `/v1/sequences/${sequenceId}/migrations`, { body: { fromVersion: 1, stepMap: { hello: 'greeting' } } });
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(`/v1/sequence-migrations/${started.body.id}`);
    expect(started.body).toMatchObject({ status: 'running', matched: 2, workflowId: `migrate-enrollments:${started.body.id}` });
    const done = await eventually(() => call<{ status: string }>('GET', `/v1/sequence-migrations/${started.body.id}`), (reply) => reply.body.status !== 'running');
    expect(done.body).toMatchObject({ status: 'completed', matched: 2, migrated: 2, skipped: 0, failed: 0 });

    for (const enrollment of [a, b]) {
      const detail = await call<EnrollmentReply & { progress: { currentStepKey: string | null } | null }>('GET', `/v1/enrollments/${enrollment.body.id}`);
      expect(detail.body).toMatchObject({ version: 2, progress: { currentStepKey: 'pause' } });
    }
    expect((await call<EnrollmentReply>('GET', `/v1/enrollments/${b.body.id}`)).body.status).toBe('paused');
    expect((await call<EnrollmentReply>('GET', `/v1/enrollments/${c.body.id}`)).body.version).toBe(1);
    expect((await call<{ data: Array<{ id: string }> }>('GET', `/v1/sequences/${sequenceId}/migrations`)).body.data.map((job) => job.id)).toEqual([started.body.id]);

    // Nothing is left on v1 to move; a second job finds nobody.
    const again = await call<{ id: string }>('POST', `/v1/sequences/${sequenceId}/migrations`, { body: { fromVersion: 1, stepMap: { hello: 'greeting' } } });
    const second = await eventually(() => call<{ status: string }>('GET', `/v1/sequence-migrations/${again.body.id}`), (reply) => reply.body.status !== 'running');
    expect(second.body).toMatchObject({ status: 'completed', matched: 0, migrated: 0 });
  });
});

describe('stage changes made outside the contact workflow', () => {
  it('ends an enrollment that exits at a stage when a rep sets that stage through PATCH /v1/contacts, and the contact workflow follows', async () => {
    const sequenceId = await publishedSequence({ exitOn: ['lifecycle_reached'], exitLifecycleStage: 'customer' });
    const pat = await contact();
    const enrolled = await enroll(sequenceId, pat.id);
    await eventually(() => stack.db.prisma.enrollment.findUniqueOrThrow({ where: { id: enrolled.body.id } }), (row) => row.currentStepKey === 'pause');

    expect((await call('PATCH', `/v1/contacts/${pat.id}`, { body: { lifecycleStage: 'sql' } })).status).toBe(200);
    const contactWorkflow = stack.client.workflow.getHandle(`contact:${pat.id}`);
    await eventually(() => contactWorkflow.query<{ lifecycleStage: string }>('state').catch(() => null), (state) => state?.lifecycleStage === 'sql');
    expect((await stack.db.prisma.enrollment.findUniqueOrThrow({ where: { id: enrolled.body.id } })).status).toBe('active');

    expect((await call('PATCH', `/v1/contacts/${pat.id}`, { body: { lifecycleStage: 'customer' } })).status).toBe(200);
    const ended = await eventually(() => stack.db.prisma.enrollment.findUniqueOrThrow({ where: { id: enrolled.body.id } }), (row) => row.status !== 'active');
    expect(ended).toMatchObject({ status: 'exited', stopReason: 'lifecycle_reached' });
    const search = await contactWorkflow.describe();
    expect(search.typedSearchAttributes.getAll().find((pair) => pair.key.name === 'LifecycleStage')?.value).toBe('customer');
  });
});
