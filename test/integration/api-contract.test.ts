import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../../api/app';
import { createMetrics } from '../../runtime/metrics';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ BODY_LIMIT: '2kb' });
});
afterAll(() => stack.close());

interface Reply {
  status: number;
  type: string | null;
  body: Record<string, unknown> & { errors?: Array<{ field: string; message: string }> };
}

async function call(method: string, path: string, options: { key?: string | null; body?: unknown; raw?: string; contentType?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const key = options.key === undefined ? stack.keys.admin : options.key;
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (key) headers.authorization = `Bearer ${key}`;
  let payload: string | undefined = options.raw;
  if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const res = await fetch(`${stack.baseUrl}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: text ? (JSON.parse(text) as Reply['body']) : {} };
}

const contactCount = () => stack.db.prisma.contact.count();

describe('authentication and roles', () => {
  it('answers 401 with a WWW-Authenticate challenge when the key is missing, malformed or unknown', async () => {
    for (const key of [null, 'nonsense', 'tp_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      const reply = await call('GET', '/v1/contacts', { key });
      expect(reply.status).toBe(401);
      expect(reply.type).toContain('application/problem+json');
    }
  });

  it('answers 401 for a revoked key', async () => {
    const key = await stack.keyFor('marketer');
    await stack.db.prisma.apiKey.updateMany({ where: { name: 'test marketer' }, data: { revokedAt: new Date() } });
    expect((await call('GET', '/v1/contacts', { key })).status).toBe(401);
  });

  it('answers 403 when the role may not do this', async () => {
    const marketer = await stack.keyFor('marketer');
    const reply = await call('GET', '/v1/tasks', { key: marketer });
    expect(reply.status).toBe(403);
    expect(reply.body.detail).toContain('marketer');
    const rep = await call('DELETE', '/v1/contacts/00000000-0000-4000-8000-000000000000', { key: stack.keys.rep });
    expect(rep.status).toBe(403);
  });
});

describe('bad requests are 4xx problems and change nothing', () => {
  it('malformed JSON is 400', async () => {
    const before = await contactCount();
    const reply = await call('POST', '/v1/contacts', { raw: '{"emails": [' });
    expect(reply.status).toBe(400);
    expect(reply.body.type).toBe('/problems/malformed-json');
    expect(await contactCount()).toBe(before);
  });

  it('a body that is not JSON is 415', async () => {
    const reply = await call('POST', '/v1/contacts', { raw: 'emails=a@b.co', contentType: 'text/plain' });
    expect(reply.status).toBe(415);
    expect(reply.body.errors?.[0]?.field).toBe('header.Content-Type');
  });

  it('a body over the limit is 413', async () => {
    const reply = await call('POST', '/v1/contacts', { body: { emails: ['big@example.com'], customFields: { notes: 'x'.repeat(1999) }, tags: Array(60).fill('t') } });
    expect(reply.status).toBe(413);
  });

  it('unknown and invalid fields are 422 with each field named', async () => {
    const before = await contactCount();
    const reply = await call('POST', '/v1/contacts', { body: { emails: ['ok@example.com', 'nope'], phones: ['+1 415 555'], timeZone: 'Mars/Base', favourite: 1 } });
    expect(reply.status).toBe(422);
    const fields = reply.body.errors!.map((e) => e.field).sort();
    expect(fields).toEqual(['emails/1', 'favourite', 'phones/0', 'timeZone']);
    expect(await contactCount()).toBe(before);
  });

  it('a malformed id is 400 and an unknown one is 404', async () => {
    const bad = await call('GET', '/v1/contacts/123');
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.field).toBe('path.id');
    expect((await call('GET', '/v1/contacts/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call('GET', '/v1/contacts?limit=0')).status).toBe(400);
    expect((await call('GET', '/v1/contacts?cursor=garbage')).status).toBe(400);
    expect((await call('GET', '/v1/nowhere')).status).toBe(404);
  });
});

describe('contacts', () => {
  it('creates, reads, updates, lists with a cursor and soft-deletes', async () => {
    const created = await call('POST', '/v1/contacts', { body: { firstName: 'LINUS', lastName: 'torvalds', emails: ['Linus@Example.org'], phones: ['+358 40 1234567'], tags: ['Kernel'], customFields: { shell: 'bash' } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ firstName: 'Linus', lastName: 'Torvalds', tags: ['kernel'], emails: [{ address: 'linus@example.org', isPrimary: true }], phones: [{ e164: '+358401234567' }] });
    const id = created.body.id as string;

    const conflict = await call('POST', '/v1/contacts', { body: { emails: ['linus@example.org'] } });
    expect(conflict.status).toBe(409);

    const updated = await call('PATCH', `/v1/contacts/${id}`, { body: { lifecycleStage: 'mql', customFields: { shell: null, editor: 'micro' } } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ lifecycleStage: 'mql', customFields: { editor: 'micro' } });

    for (let i = 0; i < 3; i += 1) await call('POST', '/v1/contacts', { body: { emails: [`page-${i}@example.org`], tags: ['paged'] } });
    const first = await call('GET', '/v1/contacts?tag=paged&limit=2');
    expect((first.body.data as unknown[]).length).toBe(2);
    const second = await call('GET', `/v1/contacts?tag=paged&limit=2&cursor=${first.body.nextCursor as string}`);
    expect((second.body.data as unknown[]).length).toBe(1);
    expect(second.body.nextCursor).toBeNull();

    expect((await call('DELETE', `/v1/contacts/${id}`)).status).toBe(204);
    expect((await call('GET', `/v1/contacts/${id}`)).status).toBe(404);
    // The address is free again for a new contact.
    expect((await call('POST', '/v1/contacts', { body: { emails: ['linus@example.org'] } })).status).toBe(201);
    expect(await stack.db.prisma.auditLog.count({ where: { entityId: id } })).toBe(3);
  });

  it('replays a write sent twice with the same Idempotency-Key and creates one contact', async () => {
    const headers = { 'idempotency-key': 'create-once' };
    const first = await call('POST', '/v1/contacts', { body: { emails: ['once@example.org'] }, headers });
    const second = await call('POST', '/v1/contacts', { body: { emails: ['once@example.org'] }, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.id).toBe(first.body.id);
    expect(await stack.db.prisma.contactEmail.count({ where: { address: 'once@example.org' } })).toBe(1);
  });

  it('replays a 204 answered without a body, so a retried delete is not a conflict', async () => {
    const created = await call('POST', '/v1/contacts', { body: { emails: ['deleted-once@example.org'] } });
    const headers = { 'idempotency-key': 'delete-once' };
    expect((await call('DELETE', `/v1/contacts/${String(created.body.id)}`, { headers })).status).toBe(204);
    await eventuallyStored('delete-once');
    const retried = await call('DELETE', `/v1/contacts/${String(created.body.id)}`, { headers });
    expect(retried.status).toBe(204);
  });

  it('names an unknown query parameter by its name', async () => {
    const reply = await call('GET', '/v1/tasks?colour=red');
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toContainEqual({ field: 'query.colour', message: 'unknown field: colour' });
  });

  it('names a field of the wrong type as such, not as missing', async () => {
    const reply = await call('POST', '/v1/contacts', { body: { emails: ['typed@example.org'], firstName: 12 } });
    expect(reply.status).toBe(422);
    const error = reply.body.errors?.find((entry) => entry.field === 'firstName');
    expect(error?.message).not.toBe('is required');
    expect(error?.message).toMatch(/string/);
  });
});

/** A 204 is stored once the response has finished; the client may see it a moment earlier. */
async function eventuallyStored(key: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const row = await stack.db.prisma.idempotentRequest.findFirst({ where: { key } });
    if (row && row.responseStatus === 204) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`idempotent response ${key} was not stored`);
}

describe('tasks', () => {
  async function makeTask(assigneeEmail: string, dueInMinutes: number): Promise<string> {
    const assignee = await stack.db.prisma.user.findUniqueOrThrow({ where: { email: assigneeEmail } });
    const contact = await stack.db.prisma.contact.create({ data: { firstName: 'Task', emails: { create: { address: `task-${Math.random()}@example.org` } } } });
    const task = await stack.db.prisma.task.create({
      data: { type: 'call', title: 'Call back', dueAt: new Date(Date.now() + dueInMinutes * 60_000), assigneeId: assignee.id, contactId: contact.id },
    });
    return task.id;
  }

  it('shows a rep only their own tasks, overdue first', async () => {
    const overdue = await makeTask('rita.rep@example.com', -60);
    const later = await makeTask('rita.rep@example.com', 60);
    const robs = await makeTask('rob.rep@example.com', -30);
    const reply = await call('GET', '/v1/tasks', { key: stack.keys.rep });
    const ids = (reply.body.data as Array<{ id: string; overdue: boolean }>).map((t) => t.id);
    expect(ids).toEqual([overdue, later]);
    expect((reply.body.data as Array<{ overdue: boolean }>)[0]!.overdue).toBe(true);
    expect(ids).not.toContain(robs);
    expect((await call('POST', `/v1/tasks/${robs}/complete`, { key: stack.keys.rep, body: { outcome: 'done' } })).status).toBe(404);
  });

  it('completes with an outcome and logs an activity; a second completion is a conflict', async () => {
    const id = await makeTask('rita.rep@example.com', 10);
    const done = await call('POST', `/v1/tasks/${id}/complete`, { key: stack.keys.rep, body: { outcome: 'left voicemail' } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', outcome: 'left voicemail' });
    const task = await stack.db.prisma.task.findUniqueOrThrow({ where: { id } });
    expect(await stack.db.prisma.activity.count({ where: { contactId: task.contactId, type: 'task_completed' } })).toBe(1);
    expect((await call('POST', `/v1/tasks/${id}/complete`, { key: stack.keys.rep, body: { outcome: 'again' } })).status).toBe(409);
  });

  it('snoozes only into the future and lets managers reassign', async () => {
    const id = await makeTask('rita.rep@example.com', 10);
    expect((await call('POST', `/v1/tasks/${id}/snooze`, { key: stack.keys.rep, body: { until: '2001-01-01T00:00:00Z' } })).status).toBe(422);
    const until = new Date(Date.now() + 86_400_000).toISOString();
    const snoozed = await call('POST', `/v1/tasks/${id}/snooze`, { key: stack.keys.rep, body: { until } });
    expect(snoozed.body.dueAt).toBe(until);
    expect((await call('POST', `/v1/tasks/${id}/reassign`, { key: stack.keys.rep, body: { assigneeId: id } })).status).toBe(403);
    const rob = await stack.db.prisma.user.findUniqueOrThrow({ where: { email: 'rob.rep@example.com' } });
    const manager = await stack.db.prisma.user.findUniqueOrThrow({ where: { email: 'maria.manager@example.com' } });
    const managerKey = await stack.keyFor('manager', manager.id);
    const moved = await call('POST', `/v1/tasks/${id}/reassign`, { key: managerKey, body: { assigneeId: rob.id } });
    expect(moved.body.assigneeId).toBe(rob.id);
  });
});

describe('operations and documentation', () => {
  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    expect((await call('GET', '/healthz', { key: null })).status).toBe(200);
    const ready = await call('GET', '/readyz', { key: null });
    expect(ready.body).toMatchObject({ status: 'ready', checks: { database: { ok: true }, temporal: { ok: true } } });
    const metrics = await fetch(`${stack.baseUrl}/metrics`).then((r) => r.text());
    expect(metrics).toContain('touchpoint_http_request_duration_seconds');
    const openapi = await call('GET', '/v1/openapi.json', { key: null });
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths as object)).toEqual(expect.arrayContaining(['/v1/forms/{formKey}/submissions', '/v1/contacts', '/v1/contacts/{id}/timeline', '/v1/companies', '/v1/companies/{id}/merge', '/v1/tasks']));
    expect((await fetch(`${stack.baseUrl}/docs/`)).status).toBe(200);
  });
});

describe('form rate limit', () => {
  it('is shared by every API instance through PostgreSQL and answers 429 with Retry-After', async () => {
    const limited = await startTestStack({ FORM_RATE_LIMIT_PER_MINUTE: '3' });
    // A second app on the same database stands in for a second API instance.
    const secondApp = createApp({ prisma: limited.db.prisma, temporal: limited.client, config: limited.config, logger: pino({ level: 'silent' }), metrics: createMetrics('api') });
    const second: Server = await new Promise((resolve) => {
      const server = secondApp.listen(0, '127.0.0.1', () => resolve(server));
    });
    const secondUrl = `http://127.0.0.1:${(second.address() as AddressInfo).port}`;
    const post = (baseUrl: string) =>
      fetch(`${baseUrl}/v1/forms/demo-contact/submissions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ firstName: 'NoContact' }) });
    try {
      const statuses = [];
      for (const baseUrl of [limited.baseUrl, secondUrl, limited.baseUrl]) statuses.push((await post(baseUrl)).status);
      expect(statuses).toEqual([422, 422, 422]);
      const fourth = await post(secondUrl);
      expect(fourth.status).toBe(429);
      expect(fourth.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      second.close();
      second.closeAllConnections();
      await limited.close();
    }
  });
});
