import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createLeadRoutingActivities } from '../../activities/lead-routing';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let assignOwner: ReturnType<typeof createLeadRoutingActivities>['assignOwner'];
const users = { rita: '', rob: '', rex: '', maria: '', mark: '' };
let salesOps: string;

beforeAll(async () => {
  stack = await startTestStack();
  const { prisma } = stack.db;
  assignOwner = createLeadRoutingActivities({ prisma }).assignOwner;
  const byEmail = async (email: string) => (await prisma.user.findUniqueOrThrow({ where: { email } })).id;
  users.rita = await byEmail('rita.rep@example.com');
  users.rob = await byEmail('rob.rep@example.com');
  users.maria = await byEmail('maria.manager@example.com');
  users.mark = await byEmail('mark.marketer@example.com');
  users.rex = (await prisma.user.create({ data: { email: 'rex.rep@example.com', name: 'Rex Rep', role: 'rep', leadCapacity: 200 } })).id;
  salesOps = await stack.keyFor('sales_ops');
}, 120_000);
afterAll(() => stack.close());

interface Reply {
  status: number;
  body: Record<string, unknown> & { errors?: Array<{ field: string; message: string }>; data?: Array<Record<string, unknown>> };
}

async function call(method: string, path: string, body?: unknown, key = salesOps): Promise<Reply> {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Reply['body']) : {} };
}

const order = async () => ((await call('GET', '/v1/routing-rules')).body.data ?? []).map((rule) => [rule.name, rule.position]);

describe('routing rules API', () => {
  beforeAll(() => stack.db.prisma.routingRule.deleteMany());

  it('creates rules last or at a position, keeps positions 1..n, and audits each change', async () => {
    const dach = await call('POST', '/v1/routing-rules', { name: 'DACH', kind: 'territory', countries: ['de', 'AT', 'CH'], userIds: [users.rob] });
    expect(dach.status).toBe(201);
    expect(dach.body).toMatchObject({ name: 'DACH', kind: 'territory', position: 1, countries: ['DE', 'AT', 'CH'], regions: [], userIds: [users.rob], active: true });
    await call('POST', '/v1/routing-rules', { name: 'Everyone else', kind: 'round_robin', userIds: [users.rita, users.rex] });
    const owner = await call('POST', '/v1/routing-rules', { name: 'Company owner', kind: 'company_owner', position: 1 });
    expect(owner.body).toMatchObject({ position: 1 });
    expect(await order()).toEqual([['Company owner', 1], ['DACH', 2], ['Everyone else', 3]]);
    expect(await stack.db.prisma.auditLog.count({ where: { entityType: 'routing_rule', action: 'routing_rule.created' } })).toBe(3);
  });

  it('reorders with the full list of ids, and refuses a list that misses or repeats one', async () => {
    const rules = (await call('GET', '/v1/routing-rules')).body.data!;
    const [owner, dach, rest] = rules.map((rule) => String(rule.id));
    const bad = await call('POST', '/v1/routing-rules/reorder', { ruleIds: [dach, dach] });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([
      { field: 'ruleIds/1', message: 'is listed twice' },
      { field: 'ruleIds', message: `must list every rule; missing ${owner}, ${rest}` },
    ]);
    expect(await order()).toEqual([['Company owner', 1], ['DACH', 2], ['Everyone else', 3]]);
    const reordered = await call('POST', '/v1/routing-rules/reorder', { ruleIds: [dach, rest, owner] });
    expect(reordered.status).toBe(200);
    expect(reordered.body.data!.map((rule) => [rule.name, rule.position])).toEqual([['DACH', 1], ['Everyone else', 2], ['Company owner', 3]]);
  });

  it('updates a rule checked as a whole, and reports each bad field without changing anything', async () => {
    const dach = (await call('GET', '/v1/routing-rules')).body.data!.find((rule) => rule.name === 'DACH')!;
    const noPlace = await call('PATCH', `/v1/routing-rules/${String(dach.id)}`, { countries: [], userIds: [users.mark, randomUUID()] });
    expect(noPlace.status).toBe(422);
    expect(noPlace.body.errors).toEqual([{ field: 'countries', message: 'give at least one country or region' }]);
    const badTeam = await call('PATCH', `/v1/routing-rules/${String(dach.id)}`, { regions: ['us-ca', 'nowhere'], userIds: [users.mark, users.rob] });
    expect(badTeam.body.errors).toEqual([{ field: 'regions/1', message: 'must be an ISO 3166-2 region code such as US-CA' }]);
    const marketer = await call('PATCH', `/v1/routing-rules/${String(dach.id)}`, { userIds: [users.mark, users.rob] });
    expect(marketer.body.errors).toEqual([{ field: 'userIds/0', message: 'is not an active rep or manager' }]);
    expect((await call('GET', `/v1/routing-rules/${String(dach.id)}`)).body).toMatchObject({ countries: ['DE', 'AT', 'CH'], userIds: [users.rob] });

    const updated = await call('PATCH', `/v1/routing-rules/${String(dach.id)}`, { regions: ['us-ca'], userIds: [users.rob, users.maria], active: false });
    expect(updated.body).toMatchObject({ countries: ['DE', 'AT', 'CH'], regions: ['US-CA'], userIds: [users.rob, users.maria], active: false, position: 1 });
    const kindless = await call('PATCH', `/v1/routing-rules/${String(dach.id)}`, { kind: 'company_owner' });
    expect(kindless.body).toMatchObject({ kind: 'company_owner', countries: [], regions: [], userIds: [] });
  });

  it('refuses fields a kind does not use', async () => {
    const reply = await call('POST', '/v1/routing-rules', { name: 'Owner', kind: 'company_owner', userIds: [users.rob] });
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([{ field: 'userIds', message: 'unknown field: userIds' }]);
    expect((await call('POST', '/v1/routing-rules', { name: 'Team', kind: 'round_robin', userIds: [] })).body.errors).toEqual([{ field: 'userIds', message: 'name at least one user' }]);
  });

  it('deletes a rule and closes the gap', async () => {
    const rules = (await call('GET', '/v1/routing-rules')).body.data!;
    expect((await call('DELETE', `/v1/routing-rules/${String(rules[0]!.id)}`)).status).toBe(204);
    expect(await order()).toEqual([['Everyone else', 1], ['Company owner', 2]]);
    expect((await call('DELETE', `/v1/routing-rules/${String(rules[0]!.id)}`)).status).toBe(404);
  });

  it('lets managers read rules but only sales ops and admins change them', async () => {
    const manager = await stack.keyFor('manager', users.maria);
    expect((await call('GET', '/v1/routing-rules', undefined, manager)).status).toBe(200);
    expect((await call('POST', '/v1/routing-rules', { name: 'Mine', kind: 'company_owner' }, manager)).status).toBe(403);
    expect((await call('GET', '/v1/routing-rules', undefined, stack.keys.rep)).status).toBe(403);
    expect((await call('POST', '/v1/routing-rules', { name: 'Mine', kind: 'company_owner' }, stack.keys.admin)).status).toBe(201);
  });
});

describe('lead routing by rules', () => {
  const ruleOf = (name: string, kind: string, fields: { countries?: string[]; regions?: string[]; userIds?: string[] } = {}) => ({ name, kind, ...fields });

  beforeEach(async () => {
    const { prisma } = stack.db;
    await prisma.routingRule.deleteMany();
    await prisma.routingCursor.deleteMany();
    await prisma.contact.updateMany({ data: { ownerId: null, lifecycleStage: 'customer' } });
    await prisma.user.updateMany({ where: { role: 'rep' }, data: { leadCapacity: 200 } });
  });

  async function rules(...definitions: Array<ReturnType<typeof ruleOf>>): Promise<string[]> {
    const created: string[] = [];
    for (const definition of definitions) {
      const reply = await call('POST', '/v1/routing-rules', definition);
      expect(reply.status).toBe(201);
      created.push(String(reply.body.id));
    }
    return created;
  }

  async function lead(fields: { phone?: string; customFields?: Record<string, string>; companyOwnerId?: string } = {}): Promise<string> {
    const { prisma } = stack.db;
    const company = fields.companyOwnerId ? await prisma.company.create({ data: { name: `Acme ${randomUUID()}`, ownerId: fields.companyOwnerId } }) : null;
    const contact = await prisma.contact.create({
      data: {
        firstName: 'Lead',
        customFields: fields.customFields ?? {},
        ...(company ? { companyId: company.id } : {}),
        ...(fields.phone ? { phones: { create: { e164: fields.phone, isPrimary: true } } } : {}),
      },
    });
    return contact.id;
  }

  const phone = (prefix: string) => `${prefix}${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  const auditOf = (contactId: string) => stack.db.prisma.auditLog.findFirstOrThrow({ where: { entityId: contactId, action: 'contact.owner_assigned' } });

  it('routes a lead by the country of its phone to the territory\'s team, and the audit log names the rule', async () => {
    const [dach] = await rules(ruleOf('DACH', 'territory', { countries: ['DE', 'AT', 'CH'], userIds: [users.rob] }));
    const contactId = await lead({ phone: phone('+49301') });
    expect(await assignOwner(contactId)).toEqual({ ownerId: users.rob, newlyAssigned: true });
    expect((await auditOf(contactId)).after).toEqual({ ownerId: users.rob, rule: { id: dach, name: 'DACH', kind: 'territory' }, pool: `rule:${dach}` });
    expect(await stack.db.prisma.routingCursor.findUnique({ where: { pool: `rule:${dach}` } })).toMatchObject({ lastUserId: users.rob });
    // A retry keeps the owner.
    expect(await assignOwner(contactId)).toEqual({ ownerId: users.rob, newlyAssigned: false });
  });

  it('routes by a region in the contact\'s custom fields, and a lead outside every territory goes to all reps', async () => {
    await rules(ruleOf('West coast', 'territory', { regions: ['US-CA', 'US-WA'], userIds: [users.rex] }));
    const californian = await lead({ customFields: { region: 'US-CA' } });
    expect((await assignOwner(californian))?.ownerId).toBe(users.rex);
    const newYorker = await lead({ customFields: { country: 'us', region: 'NY' } });
    const owner = (await assignOwner(newYorker))!.ownerId;
    expect([users.rita, users.rob, users.rex]).toContain(owner);
    expect((await auditOf(newYorker)).after).toMatchObject({ rule: { id: null, kind: 'round_robin' }, pool: 'reps' });
  });

  it('gives the lead to its company\'s owner first, and past them to the next rule when they are at capacity', async () => {
    await rules(ruleOf('Owner', 'company_owner'), ruleOf('DACH', 'territory', { countries: ['DE'], userIds: [users.rob] }));
    const first = await lead({ companyOwnerId: users.rita, phone: phone('+49301') });
    expect((await assignOwner(first))?.ownerId).toBe(users.rita);
    expect((await auditOf(first)).after).toMatchObject({ rule: { name: 'Owner', kind: 'company_owner' }, pool: null });

    await stack.db.prisma.contact.update({ where: { id: first }, data: { lifecycleStage: 'lead' } });
    await stack.db.prisma.user.update({ where: { id: users.rita }, data: { leadCapacity: 1 } });
    const second = await lead({ companyOwnerId: users.rita, phone: phone('+49301') });
    expect((await assignOwner(second))?.ownerId).toBe(users.rob);
  });

  it('rotates a territory team with its own cursor, skipping members at capacity', async () => {
    await rules(ruleOf('DACH', 'territory', { countries: ['DE'], userIds: [users.rita, users.rob, users.rex] }));
    await stack.db.prisma.user.update({ where: { id: users.rob }, data: { leadCapacity: 0 } });
    const owners: string[] = [];
    for (let i = 0; i < 4; i += 1) owners.push((await assignOwner(await lead({ phone: phone('+49301') })))!.ownerId);
    const team = [users.rita, users.rex].sort();
    expect(owners).toEqual([team[0], team[1], team[0], team[1]]);
  });

  it('never lets concurrent leads push a rep past capacity, whichever rule routes them', async () => {
    // Rita and Rob share two free slots; the territory and the fallback both reach them.
    await rules(ruleOf('DACH', 'territory', { countries: ['DE'], userIds: [users.rita, users.rob] }));
    await stack.db.prisma.user.update({ where: { id: users.rita }, data: { leadCapacity: 1 } });
    await stack.db.prisma.user.update({ where: { id: users.rob }, data: { leadCapacity: 1 } });
    await stack.db.prisma.user.update({ where: { id: users.rex }, data: { leadCapacity: 3 } });
    const contacts = await Promise.all(Array.from({ length: 8 }, (_, i) => lead({ phone: phone(i % 2 ? '+49301' : '+3312') })));
    const results = await Promise.all(contacts.map((id) => assignOwner(id)));
    const counts = new Map<string, number>();
    for (const result of results) if (result) counts.set(result.ownerId, (counts.get(result.ownerId) ?? 0) + 1);
    expect(counts.get(users.rita)).toBe(1);
    expect(counts.get(users.rob)).toBe(1);
    expect(counts.get(users.rex)).toBe(3);
    expect(results.filter((result) => result === null)).toHaveLength(3);
  });

  it('ignores inactive rules', async () => {
    const [dach] = await rules(ruleOf('DACH', 'territory', { countries: ['DE'], userIds: [users.rob] }));
    await call('PATCH', `/v1/routing-rules/${dach}`, { active: false });
    await stack.db.prisma.user.update({ where: { id: users.rob }, data: { leadCapacity: 0 } });
    const owner = (await assignOwner(await lead({ phone: phone('+49301') })))!.ownerId;
    expect([users.rita, users.rex]).toContain(owner);
  });
});
