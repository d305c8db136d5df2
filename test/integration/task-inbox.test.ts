import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Task } from '../../prisma/generated/client';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
const users = { rita: '', rob: '', maria: '', otto: '', olga: '', sam: '' };
const keys = { rita: '', rob: '', maria: '', otto: '', salesOps: '', admin: '', serviceOps: '' };
const hour = 3_600_000;

beforeAll(async () => {
  stack = await startTestStack();
  const { prisma } = stack.db;
  const byEmail = async (email: string) => (await prisma.user.findUniqueOrThrow({ where: { email } })).id;
  users.rita = await byEmail('rita.rep@example.com');
  users.rob = await byEmail('rob.rep@example.com');
  users.maria = await byEmail('maria.manager@example.com');
  users.sam = await byEmail('sam.salesops@example.com');
  // A second team: Otto manages Olga.
  users.otto = (await prisma.user.create({ data: { email: 'otto.manager@example.com', name: 'Otto Manager', role: 'manager' } })).id;
  users.olga = (await prisma.user.create({ data: { email: 'olga.rep@example.com', name: 'Olga Rep', role: 'rep', managerId: users.otto } })).id;
  keys.rita = stack.keys.rep;
  keys.admin = stack.keys.admin;
  keys.rob = await stack.keyFor('rep', users.rob);
  keys.maria = await stack.keyFor('manager', users.maria);
  keys.otto = await stack.keyFor('manager', users.otto);
  keys.salesOps = await stack.keyFor('sales_ops', users.sam);
  keys.serviceOps = await stack.keyFor('sales_ops');
}, 120_000);
afterAll(() => stack.close());

interface Reply {
  status: number;
  body: Record<string, unknown> & { errors?: Array<{ field: string; message: string }>; data?: Array<Record<string, unknown>> };
}

async function call(key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Reply['body']) : {} };
}

const ids = (reply: Reply) => (reply.body.data ?? []).map((task) => task.id);

async function task(assigneeId: string, fields: Partial<Omit<Task, 'id' | 'assigneeId'>> = {}): Promise<Task> {
  return stack.db.prisma.task.create({ data: { type: 'call', title: 'A task', dueAt: new Date(Date.now() + hour), assigneeId, ...fields } });
}

describe('task inbox: who sees what', () => {
  it('a rep lists only their own open tasks, overdue first', async () => {
    const later = await task(users.rita, { title: 'Later', dueAt: new Date(Date.now() + 48 * hour) });
    const overdue = await task(users.rita, { title: 'Overdue', dueAt: new Date(Date.now() - 5 * hour) });
    const done = await task(users.rita, { status: 'completed' });
    const robs = await task(users.rob);
    const reply = await call(keys.rita, 'GET', '/v1/tasks');
    expect(reply.status).toBe(200);
    const listed = ids(reply);
    expect(listed).toEqual(expect.arrayContaining([overdue.id, later.id]));
    expect(listed).not.toContain(done.id);
    expect(listed).not.toContain(robs.id);
    expect(listed.indexOf(overdue.id)).toBeLessThan(listed.indexOf(later.id));
    expect(reply.body.data!.find((row) => row.id === overdue.id)).toMatchObject({ overdue: true, assigneeId: users.rita });
    expect(reply.body.data!.every((row) => row.assigneeId === users.rita)).toBe(true);
    // Asking for someone else's tasks still shows only the rep's own: none of Rob's.
    expect(ids(await call(keys.rita, 'GET', `/v1/tasks?assigneeId=${users.rob}`))).toEqual([]);
  });

  it('a rep cannot read, complete, snooze or reassign another rep\'s task, and the task stays as it was', async () => {
    const robs = await task(users.rob, { title: 'Rob\'s call' });
    const read = await call(keys.rita, 'GET', `/v1/tasks/${robs.id}`);
    expect(read.status).toBe(404);
    expect(read.body).toMatchObject({ type: '/problems/not-found' });
    expect((await call(keys.rita, 'POST', `/v1/tasks/${robs.id}/complete`, { outcome: 'done' })).status).toBe(404);
    expect((await call(keys.rita, 'POST', `/v1/tasks/${robs.id}/snooze`, { until: new Date(Date.now() + 72 * hour).toISOString() })).status).toBe(404);
    expect((await call(keys.rita, 'POST', `/v1/tasks/${robs.id}/reassign`, { assigneeId: users.rita })).status).toBe(403);
    expect(await stack.db.prisma.task.findUniqueOrThrow({ where: { id: robs.id } })).toEqual(robs);
    // The task is there for its owner.
    expect((await call(keys.rob, 'GET', `/v1/tasks/${robs.id}`)).body).toMatchObject({ id: robs.id, title: 'Rob\'s call' });
  });

  it('a manager sees their own and their reports\' tasks, and another team\'s tasks look missing', async () => {
    const ritas = await task(users.rita);
    const robs = await task(users.rob);
    const marias = await task(users.maria, { type: 'review' });
    const olgas = await task(users.olga);
    const listed = ids(await call(keys.maria, 'GET', '/v1/tasks?limit=200'));
    expect(listed).toEqual(expect.arrayContaining([ritas.id, robs.id, marias.id]));
    expect(listed).not.toContain(olgas.id);
    expect((await call(keys.maria, 'GET', `/v1/tasks/${robs.id}`)).status).toBe(200);
    expect((await call(keys.maria, 'GET', `/v1/tasks/${olgas.id}`)).status).toBe(404);
    expect((await call(keys.maria, 'POST', `/v1/tasks/${olgas.id}/complete`, { outcome: 'done' })).status).toBe(404);
    expect(ids(await call(keys.maria, 'GET', `/v1/tasks?assigneeId=${users.olga}`))).toEqual([]);
    expect(ids(await call(keys.otto, 'GET', '/v1/tasks?limit=200'))).toEqual(expect.arrayContaining([olgas.id]));
    expect(ids(await call(keys.otto, 'GET', '/v1/tasks?limit=200'))).not.toContain(ritas.id);
  });

  it('a manager completes a report\'s task with an outcome, which logs an activity', async () => {
    const contact = await stack.db.prisma.contact.create({ data: { firstName: 'Jane' } });
    const ritas = await task(users.rita, { contactId: contact.id, title: 'Call Jane' });
    const reply = await call(keys.maria, 'POST', `/v1/tasks/${ritas.id}/complete`, { outcome: 'left a voicemail' });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: 'completed', outcome: 'left a voicemail' });
    expect(await stack.db.prisma.activity.findFirst({ where: { contactId: contact.id, type: 'task_completed' } })).toMatchObject({ subject: 'Completed: Call Jane' });
  });

  it('sales ops and admins see every team\'s tasks', async () => {
    const olgas = await task(users.olga);
    const ritas = await task(users.rita);
    for (const key of [keys.salesOps, keys.admin]) {
      expect(ids(await call(key, 'GET', '/v1/tasks?limit=200'))).toEqual(expect.arrayContaining([olgas.id, ritas.id]));
      expect((await call(key, 'GET', `/v1/tasks/${olgas.id}`)).status).toBe(200);
    }
  });

  it('a manager key that acts for no user is told so instead of seeing nothing', async () => {
    const reply = await call(await stack.keyFor('manager'), 'GET', '/v1/tasks');
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ type: '/problems/no-user' });
  });
});

describe('task inbox: reassigning', () => {
  it('a manager reassigns a report\'s task within the team, and the change is audited', async () => {
    const ritas = await task(users.rita);
    const reply = await call(keys.maria, 'POST', `/v1/tasks/${ritas.id}/reassign`, { assigneeId: users.rob });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ assigneeId: users.rob });
    expect(await stack.db.prisma.auditLog.findFirst({ where: { entityId: ritas.id, action: 'task.reassigned' } })).toMatchObject({
      before: { assigneeId: users.rita },
      after: { assigneeId: users.rob },
    });
  });

  it('a manager cannot give a task to another team, nor touch another team\'s task', async () => {
    const ritas = await task(users.rita);
    const outside = await call(keys.maria, 'POST', `/v1/tasks/${ritas.id}/reassign`, { assigneeId: users.olga });
    expect(outside.status).toBe(422);
    expect(outside.body.errors).toEqual([{ field: 'assigneeId', message: 'is not you or one of your reports' }]);
    const olgas = await task(users.olga);
    expect((await call(keys.maria, 'POST', `/v1/tasks/${olgas.id}/reassign`, { assigneeId: users.rita })).status).toBe(404);
    expect((await stack.db.prisma.task.findUniqueOrThrow({ where: { id: ritas.id } })).assigneeId).toBe(users.rita);
    expect((await stack.db.prisma.task.findUniqueOrThrow({ where: { id: olgas.id } })).assigneeId).toBe(users.olga);
  });

  it('sales ops reassign across teams, but only to active users', async () => {
    const olgas = await task(users.olga);
    expect((await call(keys.salesOps, 'POST', `/v1/tasks/${olgas.id}/reassign`, { assigneeId: users.rita })).body).toMatchObject({ assigneeId: users.rita });
    const gone = await stack.db.prisma.user.create({ data: { email: `gone-${randomUUID()}@example.com`, name: 'Gone', role: 'rep', active: false } });
    const reply = await call(keys.salesOps, 'POST', `/v1/tasks/${olgas.id}/reassign`, { assigneeId: gone.id });
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([{ field: 'assigneeId', message: 'is not an active user' }]);
  });
});

describe('task inbox: filters and source links', () => {
  const sequenceId = randomUUID();
  const enrollmentId = randomUUID();
  const triggerId = randomUUID();
  const stageChangeId = randomUUID();
  const contactId = randomUUID();
  let fixtures: Record<'call' | 'email' | 'trigger' | 'sequence' | 'deal' | 'later', Task>;
  let dealId: string;
  let fay: string;
  let fayKey: string;

  beforeAll(async () => {
    const { prisma } = stack.db;
    // A rep of this block's own, so the other tests' tasks do not get in the way.
    fay = (await prisma.user.create({ data: { email: 'fay.rep@example.com', name: 'Fay Rep', role: 'rep', managerId: users.maria } })).id;
    fayKey = await stack.keyFor('rep', fay);
    const pipeline = await prisma.pipeline.findFirstOrThrow({ include: { stages: true } });
    const deal = await prisma.deal.create({ data: { name: 'Acme renewal', pipelineId: pipeline.id, stageId: pipeline.stages[0]!.id, ownerId: fay } });
    dealId = deal.id;
    const now = Date.now();
    fixtures = {
      call: await task(fay, { type: 'call', priority: 'urgent', dueAt: new Date(now - 2 * hour), sourceType: 'workflow', sourceRef: `contact:${contactId}`, sourceKey: `contact:${contactId}:first-follow-up` }),
      email: await task(fay, { type: 'email', priority: 'low', dueAt: new Date(now + 2 * hour) }),
      trigger: await task(fay, { type: 'follow_up', priority: 'high', dueAt: new Date(now + 3 * hour), dealId: deal.id, sourceType: 'trigger', sourceRef: `trigger:${triggerId}`, sourceKey: `trigger:${triggerId}:${stageChangeId}:0` }),
      sequence: await task(fay, { type: 'call', dueAt: new Date(now + 4 * hour), sourceType: 'sequence', sourceRef: `enrollment:${sequenceId}:${contactId}`, sourceKey: `enrollment:${enrollmentId}:call-step:1` }),
      deal: await task(fay, { type: 'review', dueAt: new Date(now + 5 * hour), dealId: deal.id }),
      later: await task(fay, { type: 'fix_data', dueAt: new Date(now + 240 * hour) }),
    };
  });

  const list = async (query: string) => ids(await call(fayKey, 'GET', `/v1/tasks?${query}`));

  it('filters by type, priority (one or several) and source type', async () => {
    expect(await list('type=call')).toEqual([fixtures.call.id, fixtures.sequence.id]);
    expect(await list('type=call,review')).toEqual([fixtures.call.id, fixtures.sequence.id, fixtures.deal.id]);
    expect(await list('priority=high,urgent')).toEqual([fixtures.call.id, fixtures.trigger.id]);
    expect(await list('priority=high&priority=urgent')).toEqual([fixtures.call.id, fixtures.trigger.id]);
    expect(await list('sourceType=trigger,sequence')).toEqual([fixtures.trigger.id, fixtures.sequence.id]);
  });

  it('filters by deal and by a due range', async () => {
    expect(await list(`dealId=${dealId}`)).toEqual([fixtures.trigger.id, fixtures.deal.id]);
    const now = Date.now();
    expect(await list(`dueBefore=${new Date(now).toISOString()}`)).toEqual([fixtures.call.id]);
    expect(await list(`dueAfter=${new Date(now + hour).toISOString()}&dueBefore=${new Date(now + 6 * hour).toISOString()}`)).toEqual([
      fixtures.email.id, fixtures.trigger.id, fixtures.sequence.id, fixtures.deal.id,
    ]);
  });

  it('answers a bad filter with 400 naming the parameter', async () => {
    const reply = await call(fayKey, 'GET', '/v1/tasks?priority=high,soon');
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([expect.objectContaining({ field: 'query.priority/1' })]);
    expect((await call(fayKey, 'GET', '/v1/tasks?dueAfter=yesterday')).body.errors).toEqual([expect.objectContaining({ field: 'query.dueAfter' })]);
  });

  it('links every task to what created it', async () => {
    const byId = new Map((await call(fayKey, 'GET', '/v1/tasks?limit=200')).body.data!.map((row) => [row.id, row.source]));
    expect(byId.get(fixtures.call.id)).toEqual({ type: 'workflow', ref: `contact:${contactId}`, link: { kind: 'workflow', workflowId: `contact:${contactId}` } });
    expect(byId.get(fixtures.trigger.id)).toEqual({ type: 'trigger', ref: `trigger:${triggerId}`, link: { kind: 'trigger', triggerId, stageChangeId, actionIndex: 0 } });
    expect(byId.get(fixtures.sequence.id)).toEqual({
      type: 'sequence',
      ref: `enrollment:${sequenceId}:${contactId}`,
      link: { kind: 'sequence', sequenceId, workflowId: `enrollment:${sequenceId}:${contactId}`, enrollmentId, stepKey: 'call-step' },
    });
    expect(byId.get(fixtures.email.id)).toEqual({ type: 'manual', ref: null, link: null });
  });
});

describe('task inbox: creating tasks by hand', () => {
  const body = (fields: Record<string, unknown> = {}) => ({ type: 'call', title: 'Call back', dueAt: new Date(Date.now() + 24 * hour).toISOString(), ...fields });

  it('a rep creates a task for themselves, linked to them as its manual source', async () => {
    const contact = await stack.db.prisma.contact.create({ data: { firstName: 'Paul' } });
    const reply = await call(keys.rita, 'POST', '/v1/tasks', body({ contactId: contact.id, priority: 'high', description: 'He asked for Tuesday' }));
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({
      type: 'call', title: 'Call back', priority: 'high', status: 'open', assigneeId: users.rita, contactId: contact.id, description: 'He asked for Tuesday',
      source: { type: 'manual', ref: `user:${users.rita}`, link: { kind: 'manual', userId: users.rita, apiKeyId: null } },
    });
    expect((await call(keys.rita, 'GET', `/v1/tasks/${String(reply.body.id)}`)).status).toBe(200);
  });

  it('a rep cannot give a task to someone else', async () => {
    const before = await stack.db.prisma.task.count();
    const reply = await call(keys.rita, 'POST', '/v1/tasks', body({ assigneeId: users.rob }));
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([{ field: 'assigneeId', message: 'reps can give tasks only to themselves' }]);
    expect(await stack.db.prisma.task.count()).toBe(before);
  });

  it('a manager gives tasks to their reports but not to another team; sales ops to anyone', async () => {
    expect((await call(keys.maria, 'POST', '/v1/tasks', body({ assigneeId: users.rob }))).body).toMatchObject({ assigneeId: users.rob });
    expect((await call(keys.maria, 'POST', '/v1/tasks', body({ assigneeId: users.olga }))).status).toBe(422);
    expect((await call(keys.salesOps, 'POST', '/v1/tasks', body({ assigneeId: users.olga }))).body).toMatchObject({ assigneeId: users.olga });
  });

  it('reports each bad field, and a key without a user must name the assignee', async () => {
    const reply = await call(keys.salesOps, 'POST', '/v1/tasks', { type: 'visit', title: '', dueAt: 'tomorrow' });
    expect(reply.status).toBe(422);
    expect(reply.body.errors!.map((error) => error.field).sort()).toEqual(['dueAt', 'title', 'type']);
    const missing = await call(keys.salesOps, 'POST', '/v1/tasks', body({ contactId: randomUUID(), dealId: randomUUID() }));
    expect(missing.body.errors).toEqual([{ field: 'contactId', message: 'is not an existing contact' }, { field: 'dealId', message: 'is not an existing deal' }]);
    const service = await call(keys.serviceOps, 'POST', '/v1/tasks', body());
    expect(service.body.errors).toEqual([{ field: 'assigneeId', message: 'is required with an API key that acts for no user' }]);
    const made = await call(keys.serviceOps, 'POST', '/v1/tasks', body({ assigneeId: users.rob }));
    expect(made.body).toMatchObject({ source: { type: 'manual', link: { kind: 'manual', userId: null, apiKeyId: expect.any(String) } } });
  });

  it('a repeated create with the same Idempotency-Key makes one task', async () => {
    const key = randomUUID();
    const request = body({ title: 'Once only' });
    const first = await call(keys.rita, 'POST', '/v1/tasks', request, { 'idempotency-key': key });
    const again = await call(keys.rita, 'POST', '/v1/tasks', request, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(await stack.db.prisma.task.count({ where: { title: 'Once only' } })).toBe(1);
  });
});
