import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { contactStateQuery } from '../../workflows/contact-lifecycle';
import { contactWorkflowId } from '../../workflows/workflow-ids';
import { eventually, startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
  await stack.startWorker();
});
afterAll(() => stack.close());

function submit(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${stack.baseUrl}/v1/forms/demo-contact/submissions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

function api(path: string, key = stack.keys.admin) {
  return fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${key}` } }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));
}

const welcomeCount = (contactId: string) => stack.db.prisma.message.count({ where: { contactId, templateKey: 'welcome' } });

describe('a website form starts a durable lead workflow', () => {
  it('creates the contact, assigns a rep, opens a follow-up task and captures one welcome email', async () => {
    const res = await submit({ email: '  Ada.Lovelace@Example.COM ', name: 'ada lovelace', phone: '(415) 555-0132', pageUrl: 'https://example.com/pricing', utm_source: 'newsletter', consent: 'on' });
    expect(res.status).toBe(202);
    const { contactId } = (await res.json()) as { contactId: string };

    const contact = await stack.db.prisma.contact.findUniqueOrThrow({ where: { id: contactId }, include: { emails: true, phones: true, consents: true } });
    expect(contact).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', source: 'newsletter' });
    expect(contact.emails.map((e) => e.address)).toEqual(['ada.lovelace@example.com']);
    expect(contact.phones.map((p) => p.e164)).toEqual(['+14155550132']);
    expect(contact.consents).toEqual([expect.objectContaining({ channel: 'email', status: 'granted', source: 'form:demo-contact' })]);

    await eventually(() => welcomeCount(contactId), (n) => n === 1);
    const owned = await stack.db.prisma.contact.findUniqueOrThrow({ where: { id: contactId }, include: { owner: true } });
    expect(owned.owner?.role).toBe('rep');

    const messages = await api(`/v1/messages?contactId=${contactId}`);
    const [welcome] = messages.body.data as Array<Record<string, unknown>>;
    expect(welcome).toMatchObject({ to: 'ada.lovelace@example.com', provider: 'capture', status: 'accepted', subject: 'Thanks for getting in touch, Ada' });
    expect(welcome!.html).toContain(owned.owner!.name);
    expect(welcome!.text).toContain('Hi Ada,');

    // The follow-up task is the step after the welcome.
    const tasks = await eventually(() => stack.db.prisma.task.findMany({ where: { contactId } }), (found) => found.length > 0);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ type: 'follow_up', status: 'open', assigneeId: owned.ownerId, sourceRef: contactWorkflowId(contactId) });
    expect(tasks[0]!.dueAt.getTime()).toBeGreaterThan(Date.now());

    const timeline = await api(`/v1/contacts/${contactId}/timeline`);
    const kinds = (timeline.body.data as Array<{ kind: string }>).map((entry) => entry.kind).sort();
    expect(kinds).toEqual(['activity', 'message', 'task']);

    const description = await stack.client.workflow.getHandle(contactWorkflowId(contactId)).describe();
    expect(description.typedSearchAttributes.getAll().map((pair) => pair.key.name).sort()).toEqual(expect.arrayContaining(['ContactId', 'LifecycleStage']));
  });

  it('a second submission by the same person updates the contact and sends nothing twice', async () => {
    const first = (await (await submit({ email: 'grace@example.com', firstName: 'Grace' })).json()) as { contactId: string };
    await eventually(() => welcomeCount(first.contactId), (n) => n === 1);
    const ownerBefore = (await stack.db.prisma.contact.findUniqueOrThrow({ where: { id: first.contactId } })).ownerId;

    const second = await submit({ email: 'GRACE@example.com', firstName: 'Grace', lastName: 'Hopper', company: 'Navy' });
    expect(second.status).toBe(202);
    expect(((await second.json()) as { contactId: string }).contactId).toBe(first.contactId);

    const handle = stack.client.workflow.getHandle(contactWorkflowId(first.contactId));
    await eventually(() => handle.query(contactStateQuery), (state) => state.formSubmissions === 2);
    const contact = await stack.db.prisma.contact.findUniqueOrThrow({ where: { id: first.contactId }, include: { company: true } });
    expect(contact).toMatchObject({ lastName: 'Hopper', ownerId: ownerBefore });
    expect(contact.company?.name).toBe('Navy');
    expect(await welcomeCount(first.contactId)).toBe(1);
    expect(await stack.db.prisma.task.count({ where: { contactId: first.contactId } })).toBe(1);
    expect(await stack.db.prisma.activity.count({ where: { contactId: first.contactId, type: 'form_submitted' } })).toBe(2);
  });

  it('50 parallel submissions of 10 people give 10 contacts, 10 owners, 10 tasks and 10 welcome emails', async () => {
    const people = Array.from({ length: 10 }, (_, i) => `parallel-${i}@example.com`);
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => submit({ email: people[i % 10], firstName: `P${i % 10}` })));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(202));
    const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as { contactId: string }).contactId)));
    expect(ids.size).toBe(10);

    const where = { contact: { emails: { some: { address: { in: people } } } } };
    await eventually(() => stack.db.prisma.message.count({ where: { ...where, templateKey: 'welcome' } }), (n) => n >= 10);
    for (const id of ids) {
      await eventually(() => stack.client.workflow.getHandle(contactWorkflowId(id)).query(contactStateQuery), (s) => s.formSubmissions === 5);
    }
    expect(await stack.db.prisma.contact.count({ where: { emails: { some: { address: { in: people } } } } })).toBe(10);
    expect(await stack.db.prisma.contact.count({ where: { emails: { some: { address: { in: people } } }, ownerId: { not: null } } })).toBe(10);
    expect(await stack.db.prisma.message.count({ where: { ...where, templateKey: 'welcome' } })).toBe(10);
    expect(await stack.db.prisma.task.count({ where })).toBe(10);
    expect(await stack.db.prisma.auditLog.count({ where: { action: 'contact.owner_assigned', entityId: { in: [...ids] } } })).toBe(10);
  });

  it('spreads new leads round-robin over the active reps', async () => {
    const reps = await stack.db.prisma.user.findMany({ where: { role: 'rep' } });
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const res = await submit({ email: `rr-${i}@example.com` });
      const { contactId } = (await res.json()) as { contactId: string };
      ids.push(contactId);
      await eventually(() => stack.db.prisma.contact.findUniqueOrThrow({ where: { id: contactId } }), (c) => c.ownerId !== null);
    }
    const owners = await Promise.all(ids.map(async (id) => (await stack.db.prisma.contact.findUniqueOrThrow({ where: { id } })).ownerId));
    expect(new Set(owners).size).toBe(reps.length);
    expect(owners[0]).not.toBe(owners[1]);
    expect(owners[0]).toBe(owners[2]);
  });

  it('refuses invalid submissions with problem+json naming each field, and writes nothing', async () => {
    const before = await stack.db.prisma.contact.count();
    const res = await submit({ email: 'not-an-email', phone: '12', pageUrl: 'javascript:alert(1)', favouriteColour: { nested: true } });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as { errors: Array<{ field: string }> };
    expect(problem.errors.map((e) => e.field).sort()).toEqual(['email', 'favouriteColour', 'pageUrl', 'phone']);
    const missing = await submit({ firstName: 'Nobody' });
    expect(missing.status).toBe(422);
    expect(await stack.db.prisma.contact.count()).toBe(before);
  });

  it('accepts a filled honeypot like any submission but stores nothing', async () => {
    const before = await stack.db.prisma.contact.count();
    const res = await submit({ email: 'bot@example.com', website: 'http://spam.example' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted' });
    expect(await stack.db.prisma.contact.count()).toBe(before);
  });

  it('treats a resent submission id and a repeated Idempotency-Key as the same submission', async () => {
    const body = { email: 'retry@example.com', submissionId: 'browser-123' };
    const first = (await (await submit(body)).json()) as { contactId: string };
    const again = (await (await submit(body)).json()) as { contactId: string };
    expect(again.contactId).toBe(first.contactId);

    const keyed = await submit({ email: 'keyed@example.com' }, { 'idempotency-key': 'k-1' });
    const replay = await submit({ email: 'keyed@example.com' }, { 'idempotency-key': 'k-1' });
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(await keyed.json());
    const reused = await submit({ email: 'other@example.com' }, { 'idempotency-key': 'k-1' });
    expect(reused.status).toBe(422);

    await eventually(() => welcomeCount(first.contactId), (n) => n === 1);
    expect(await stack.db.prisma.activity.count({ where: { contactId: first.contactId } })).toBe(1);
  });

  it('grants CORS only to the origins the form allows and refuses posts from others', async () => {
    const preflight = await fetch(`${stack.baseUrl}/v1/forms/demo-contact/submissions`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:8080', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:8080');
    const foreign = await submit({ email: 'x@example.com' }, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const unknownForm = await fetch(`${stack.baseUrl}/v1/forms/nope/submissions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unknownForm.status).toBe(404);
  });

  it('accepts a plain URL-encoded HTML form post', async () => {
    const res = await fetch(`${stack.baseUrl}/v1/forms/demo-contact/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'html-form@example.com', first_name: 'html', consent: 'on' }).toString(),
    });
    expect(res.status).toBe(202);
  });
});
