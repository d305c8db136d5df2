import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLeadRoutingActivities } from '../../activities/lead-routing';
import { createApiKey } from '../../api/api-keys';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let admin: string;
let maria: string;
let rita: string;

beforeAll(async () => {
  stack = await startTestStack();
  admin = stack.keys.admin;
  const byEmail = async (email: string) => (await stack.db.prisma.user.findUniqueOrThrow({ where: { email } })).id;
  maria = await byEmail('maria.manager@example.com');
  rita = await byEmail('rita.rep@example.com');
}, 120_000);
afterAll(() => stack.close());

interface Reply {
  status: number;
  body: Record<string, unknown> & { errors?: Array<{ field: string; message: string }>; data?: Array<Record<string, unknown>> };
}

async function call(method: string, path: string, body?: unknown, key = admin, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Reply['body']) : {} };
}

async function newUser(fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const reply = await call('POST', '/v1/users', { email: `user-${randomUUID().slice(0, 8)}@example.com`, name: 'Test User', role: 'rep', ...fields });
  expect(reply.status).toBe(201);
  return reply.body;
}

const fieldsOf = (reply: Reply) => reply.body.errors?.map((error) => error.field);

describe('users', () => {
  it('creates, reads, lists with filters and a cursor, updates, and audits each write', async () => {
    const created = await call('POST', '/v1/users', { email: ' Nora.New@Example.com ', name: 'nora new', role: 'rep', managerId: maria, timeZone: 'America/Chicago', leadCapacity: 25 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'nora.new@example.com', name: 'Nora New', role: 'rep', managerId: maria, timeZone: 'America/Chicago', leadCapacity: 25, active: true });
    const id = String(created.body.id);
    expect(await call('GET', `/v1/users/${id}`)).toMatchObject({ status: 200, body: { email: 'nora.new@example.com' } });
    expect((await call('GET', `/v1/users/${randomUUID()}`)).status).toBe(404);

    const team = await call('GET', `/v1/users?managerId=${maria}&role=rep&active=true&limit=2`);
    expect(team.body.data!.map((user) => user.email)).toEqual(['nora.new@example.com', 'rob.rep@example.com']);
    const rest = await call('GET', `/v1/users?managerId=${maria}&role=rep&active=true&limit=2&cursor=${String(team.body.nextCursor)}`);
    expect(rest.body.data!.map((user) => user.email)).toEqual(['rita.rep@example.com']);
    expect(rest.body.nextCursor).toBeNull();
    expect((await call('GET', '/v1/users?email=NORA.NEW@example.com')).body.data!.map((user) => user.id)).toEqual([id]);
    expect((await call('GET', '/v1/users?role=owner')).status).toBe(400);

    const updated = await call('PATCH', `/v1/users/${id}`, { name: 'Nora Newer', managerId: null, leadCapacity: null, timeZone: 'Europe/Paris' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Nora Newer', managerId: null, leadCapacity: null, timeZone: 'Europe/Paris' });
    const audit = await stack.db.prisma.auditLog.findMany({ where: { entityType: 'user', entityId: id }, orderBy: { at: 'asc' } });
    expect(audit.map((entry) => entry.action)).toEqual(['user.created', 'user.updated']);
    expect(audit[1]!.before).toMatchObject({ name: 'Nora New', managerId: maria });
    expect(audit[1]!.after).toMatchObject({ name: 'Nora Newer', managerId: null });
  });

  it('refuses bad input with a problem naming each field, and changes nothing', async () => {
    const before = await stack.db.prisma.user.count();
    const audits = await stack.db.prisma.auditLog.count({ where: { entityType: 'user' } });
    const bad = await call('POST', '/v1/users', { email: 'nope', name: ' ', role: 'owner', timeZone: 'Mars/Olympus', leadCapacity: -1, colour: 'red' });
    expect(bad.status).toBe(422);
    expect(fieldsOf(bad)!.sort()).toEqual(['colour', 'email', 'leadCapacity', 'name', 'role', 'timeZone']);
    expect(bad.body.errors).toContainEqual({ field: 'timeZone', message: 'must be an IANA time zone such as Europe/Berlin' });

    const unknownManager = await call('POST', '/v1/users', { email: 'a1@example.com', name: 'A', role: 'rep', managerId: randomUUID() });
    expect(unknownManager.status).toBe(422);
    expect(unknownManager.body.errors).toEqual([{ field: 'managerId', message: 'is not an active user with role manager' }]);
    const repAsManager = await call('POST', '/v1/users', { email: 'a2@example.com', name: 'A', role: 'rep', managerId: rita });
    expect(repAsManager.body.errors).toEqual([{ field: 'managerId', message: 'is not an active user with role manager' }]);

    const duplicate = await call('POST', '/v1/users', { email: 'RITA.rep@example.com', name: 'Rita Again', role: 'rep' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ type: '/problems/conflict', errors: [{ field: 'email', message: 'belongs to another user' }] });
    const robId = (await stack.db.prisma.user.findUniqueOrThrow({ where: { email: 'rob.rep@example.com' } })).id;
    expect((await call('PATCH', `/v1/users/${robId}`, { email: 'rita.rep@example.com' })).status).toBe(409);
    expect((await call('PATCH', `/v1/users/${robId}`, { timeZone: 'Nowhere/Land' })).body.errors).toEqual([{ field: 'timeZone', message: 'must be an IANA time zone such as Europe/Berlin' }]);
    expect((await call('PATCH', `/v1/users/${robId}`, {})).status).toBe(422);

    expect(await stack.db.prisma.user.count()).toBe(before);
    expect(await stack.db.prisma.auditLog.count({ where: { entityType: 'user' } })).toBe(audits);
    expect(await stack.db.prisma.user.findUniqueOrThrow({ where: { id: robId } })).toMatchObject({ email: 'rob.rep@example.com', timeZone: 'America/New_York' });
  });

  it('refuses a manager cycle: a user as their own manager, or under someone they manage', async () => {
    const director = String((await newUser({ role: 'manager' })).id);
    const lead = String((await newUser({ role: 'manager', managerId: director })).id);
    const rep = String((await newUser({ managerId: lead })).id);

    const self = await call('PATCH', `/v1/users/${director}`, { managerId: director });
    expect(self.status).toBe(422);
    expect(self.body.errors).toEqual([{ field: 'managerId', message: 'cannot be the user themselves' }]);
    const cycle = await call('PATCH', `/v1/users/${director}`, { managerId: lead });
    expect(cycle.status).toBe(422);
    expect(cycle.body.errors).toEqual([{ field: 'managerId', message: 'reports to this user (directly or further down), which would make a cycle' }]);
    expect((await stack.db.prisma.user.findUniqueOrThrow({ where: { id: director } })).managerId).toBeNull();
    // Outside the chain is fine.
    expect((await call('PATCH', `/v1/users/${director}`, { managerId: maria })).status).toBe(200);
    expect((await call('PATCH', `/v1/users/${rep}`, { managerId: director })).status).toBe(200);
  });

  it('keeps a manager with active reports a manager, and gives a user\'s keys their new role', async () => {
    const boss = String((await newUser({ role: 'manager' })).id);
    const report = String((await newUser({ managerId: boss })).id);
    const demote = await call('PATCH', `/v1/users/${boss}`, { role: 'rep' });
    expect(demote.status).toBe(422);
    expect(demote.body.errors).toEqual([{ field: 'role', message: 'manages 1 active user; give them another manager first' }]);

    const key = String((await call('POST', `/v1/users/${report}/api-keys`, { name: 'laptop' })).body.key);
    expect((await call('GET', '/v1/routing-rules', undefined, key)).status).toBe(403);
    expect((await call('PATCH', `/v1/users/${report}`, { role: 'sales_ops', managerId: null })).status).toBe(200);
    expect((await call('GET', '/v1/routing-rules', undefined, key)).status).toBe(200);
    expect((await call('PATCH', `/v1/users/${boss}`, { role: 'rep' })).status).toBe(200);
    const audit = await stack.db.prisma.auditLog.findFirstOrThrow({ where: { entityId: report, action: 'user.updated' } });
    expect(audit.after).toMatchObject({ role: 'sales_ops', apiKeysGivenRole: 1 });
  });
});

describe('roles', () => {
  it('keeps reps, managers and marketers out, lets sales ops read and set lead capacity only', async () => {
    const manager = await stack.keyFor('manager', maria);
    const marketer = await stack.keyFor('marketer');
    for (const key of [stack.keys.rep, manager, marketer]) {
      expect((await call('GET', '/v1/users', undefined, key)).status).toBe(403);
      expect((await call('GET', `/v1/users/${rita}`, undefined, key)).status).toBe(403);
      expect((await call('POST', '/v1/users', { email: 'x@example.com', name: 'X', role: 'rep' }, key)).status).toBe(403);
      expect((await call('PATCH', `/v1/users/${rita}`, { leadCapacity: 1 }, key)).status).toBe(403);
    }
    const rep = await call('GET', '/v1/users', undefined, stack.keys.rep);
    expect(rep.body).toMatchObject({ type: '/problems/forbidden' });

    const salesOps = await stack.keyFor('sales_ops');
    expect((await call('GET', '/v1/users?role=rep', undefined, salesOps)).status).toBe(200);
    expect((await call('PATCH', `/v1/users/${rita}`, { leadCapacity: 150 }, salesOps)).body).toMatchObject({ leadCapacity: 150 });
    const beyond = await call('PATCH', `/v1/users/${rita}`, { leadCapacity: 100, role: 'admin', managerId: null }, salesOps);
    expect(beyond.status).toBe(403);
    expect(beyond.body.errors).toEqual([
      { field: 'role', message: 'only admins may change this' },
      { field: 'managerId', message: 'only admins may change this' },
    ]);
    expect(await stack.db.prisma.user.findUniqueOrThrow({ where: { id: rita } })).toMatchObject({ leadCapacity: 150, role: 'rep', managerId: maria });
    expect((await call('POST', '/v1/users', { email: 'y@example.com', name: 'Y', role: 'rep' }, salesOps)).status).toBe(403);
    expect((await call('POST', `/v1/users/${rita}/deactivate`, undefined, salesOps)).status).toBe(403);
    expect((await call('GET', `/v1/users/${rita}/api-keys`, undefined, salesOps)).status).toBe(403);
    expect((await call('POST', `/v1/users/${rita}/api-keys`, { name: 'k' }, salesOps)).status).toBe(403);
    expect((await call('DELETE', `/v1/api-keys/${randomUUID()}`, undefined, salesOps)).status).toBe(403);
    await stack.db.prisma.user.update({ where: { id: rita }, data: { leadCapacity: 200 } });
  });
});

describe('API keys', () => {
  it('creates a key shown once, lists keys without secrets, and a revoked key gets 401', async () => {
    const user = await newUser({ role: 'sales_ops' });
    const created = await call('POST', `/v1/users/${String(user.id)}/api-keys`, { name: 'zapier' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'zapier', role: 'sales_ops', userId: user.id, revokedAt: null });
    const key = String(created.body.key);
    expect(key).toMatch(new RegExp(`^tp_${String(created.body.prefix)}_`));
    expect((await call('GET', '/v1/users', undefined, key)).status).toBe(200);

    const stored = await stack.db.prisma.apiKey.findUniqueOrThrow({ where: { id: String(created.body.id) } });
    expect(stored.hash).not.toContain(key.split('_')[2]);
    const listed = await call('GET', `/v1/users/${String(user.id)}/api-keys`);
    expect(listed.body.data).toEqual([expect.objectContaining({ id: created.body.id, prefix: created.body.prefix, revokedAt: null })]);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect(Object.keys(listed.body.data![0]!)).not.toContain('hash');

    expect((await call('DELETE', `/v1/api-keys/${String(created.body.id)}`)).status).toBe(204);
    expect((await call('GET', '/v1/users', undefined, key)).status).toBe(401);
    expect((await call('DELETE', `/v1/api-keys/${String(created.body.id)}`)).status).toBe(204);
    expect((await call('DELETE', `/v1/api-keys/${randomUUID()}`)).status).toBe(404);
    expect((await call('GET', `/v1/users/${String(user.id)}/api-keys`)).body.data![0]!.revokedAt).toEqual(expect.any(String));
    const audit = await stack.db.prisma.auditLog.findMany({ where: { entityType: 'api_key', entityId: String(created.body.id) }, orderBy: { at: 'asc' } });
    expect(audit.map((entry) => entry.action)).toEqual(['api_key.created', 'api_key.revoked']);
    expect(JSON.stringify(audit)).not.toContain(key);
  });

  it('refuses an Idempotency-Key, which would store the key, and an empty name, creating nothing', async () => {
    const user = String((await newUser()).id);
    const replayable = await call('POST', `/v1/users/${user}/api-keys`, { name: 'twice' }, admin, { 'idempotency-key': 'once' });
    expect(replayable.status).toBe(400);
    expect(replayable.body.errors).toEqual([{ field: 'header.Idempotency-Key', message: 'is not accepted when creating an API key' }]);
    expect((await call('POST', `/v1/users/${user}/api-keys`, { name: '' })).body.errors?.map((error) => error.field)).toEqual(['name']);
    expect((await call('POST', `/v1/users/${randomUUID()}/api-keys`, { name: 'ghost' })).status).toBe(404);
    expect(await stack.db.prisma.apiKey.count({ where: { userId: user } })).toBe(0);
    expect(await stack.db.prisma.idempotentRequest.count({ where: { key: 'once' } })).toBe(0);
  });
});

describe('deactivation', () => {
  it('stops routing and the user\'s keys, reports what they still hold, and can be undone', async () => {
    const { prisma } = stack.db;
    const user = await newUser({ managerId: maria, leadCapacity: 10 });
    const id = String(user.id);
    const key = String((await call('POST', `/v1/users/${id}/api-keys`, { name: 'phone' })).body.key);
    expect((await call('GET', '/v1/tasks?assigneeId=me', undefined, key)).status).toBe(200);

    // A rule whose team is only this user: routing gives them the lead while they are active.
    const rule = await call('POST', '/v1/routing-rules', { name: 'Solo', kind: 'round_robin', userIds: [id] });
    expect(rule.status).toBe(201);
    const { assignOwner } = createLeadRoutingActivities({ prisma });
    const lead = async () => (await prisma.contact.create({ data: { firstName: 'Lead' } })).id;
    expect((await assignOwner(await lead()))?.ownerId).toBe(id);

    const stage = await prisma.stage.findFirstOrThrow({ where: { name: 'New', pipeline: { name: 'Sales' } } });
    await prisma.deal.create({ data: { name: 'Open deal', pipelineId: stage.pipelineId, stageId: stage.id, ownerId: id } });
    await prisma.task.createMany({
      data: [
        { type: 'call', title: 'Open', dueAt: new Date(), assigneeId: id },
        { type: 'call', title: 'Open too', dueAt: new Date(), assigneeId: id },
        { type: 'call', title: 'Done', dueAt: new Date(), assigneeId: id, status: 'completed' },
      ],
    });

    const deactivated = await call('POST', `/v1/users/${id}/deactivate`);
    expect(deactivated.status).toBe(200);
    expect(deactivated.body).toEqual({
      user: expect.objectContaining({ id, active: false }),
      stillOwned: { openTasks: 2, openDeals: 1, directReports: 0, routingRules: 1 },
      revokedApiKeys: 1,
    });
    expect((await call('GET', '/v1/tasks?assigneeId=me', undefined, key)).status).toBe(401);
    expect(await prisma.task.count({ where: { assigneeId: id, status: 'open' } })).toBe(2);
    const next = (await assignOwner(await lead()))!.ownerId;
    expect(next).not.toBe(id);
    expect((await prisma.auditLog.findFirstOrThrow({ where: { entityId: id, action: 'user.deactivated' } })).after).toMatchObject({ active: false, revokedApiKeys: 1 });

    // Again: the same report, nothing new revoked or audited.
    const again = await call('POST', `/v1/users/${id}/deactivate`);
    expect(again.body).toMatchObject({ stillOwned: { openTasks: 2 }, revokedApiKeys: 0 });
    expect(await prisma.auditLog.count({ where: { entityId: id, action: 'user.deactivated' } })).toBe(1);
    expect((await call('POST', `/v1/users/${id}/api-keys`, { name: 'new phone' })).status).toBe(409);
    expect((await call('POST', '/v1/users', { email: 'under-nobody@example.com', name: 'U', role: 'rep', managerId: id })).status).toBe(422);

    // A key made outside the API (npm run api-key:create) does not work for a deactivated user either.
    const cliKey = (await createApiKey(prisma, { name: 'cli', role: 'rep', userId: id })).key;
    expect((await call('GET', '/v1/tasks', undefined, cliKey)).status).toBe(401);

    const activated = await call('POST', `/v1/users/${id}/activate`);
    expect(activated.body).toMatchObject({ id, active: true });
    expect((await call('GET', '/v1/tasks', undefined, key)).status).toBe(401);
    expect((await call('GET', '/v1/tasks', undefined, cliKey)).status).toBe(200);
    expect((await assignOwner(await lead()))?.ownerId).toBe(id);
    await prisma.routingRule.deleteMany();
  });

  it('counts a manager\'s active reports, and will not deactivate the user the caller\'s key acts for', async () => {
    const boss = String((await newUser({ role: 'manager' })).id);
    await newUser({ managerId: boss });
    const reply = await call('POST', `/v1/users/${boss}/deactivate`);
    expect(reply.body).toMatchObject({ stillOwned: { directReports: 1 } });

    const adminUser = (await stack.db.prisma.user.findUniqueOrThrow({ where: { email: 'alex.admin@example.com' } })).id;
    const self = await call('POST', `/v1/users/${adminUser}/deactivate`);
    expect(self.status).toBe(409);
    expect((await call('GET', '/v1/users')).status).toBe(200);
    expect((await call('POST', `/v1/users/${randomUUID()}/deactivate`)).status).toBe(404);
  });
});
