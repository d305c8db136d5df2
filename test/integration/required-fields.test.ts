import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let salesOps: string;

beforeAll(async () => {
  stack = await startTestStack();
  const sam = await stack.db.prisma.user.findUniqueOrThrow({ where: { email: 'sam.salesops@example.com' } });
  salesOps = await stack.keyFor('sales_ops', sam.id);
}, 60_000);
afterAll(() => stack?.close());

interface Reply {
  status: number;
  body: Record<string, unknown> & { errors?: Array<{ field: string; message: string }>; data?: Array<Record<string, unknown>>; detail?: string };
}

async function call(method: string, url: string, options: { key?: string; body?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? salesOps}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${stack.baseUrl}${url}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Reply['body']) : {} };
}

describe('required fields per lifecycle stage', () => {
  it('refuses a stage move that leaves required fields empty with a 422 naming every one, and changes nothing', async () => {
    const rule = await call('PUT', '/v1/required-fields/lifecycle-stages/sql', { body: { fields: ['lastName', 'companyId', 'customFields.budget'] } });
    expect(rule.status).toBe(200);
    expect(rule.body).toMatchObject({ lifecycleStage: 'sql', stageId: null, fields: ['lastName', 'companyId', 'customFields.budget'] });

    const created = await call('POST', '/v1/contacts', { key: stack.keys.rep, body: { firstName: 'Nora', emails: ['nora@example.com'] } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    const refused = await call('PATCH', `/v1/contacts/${id}`, { key: stack.keys.rep, body: { lifecycleStage: 'sql', customFields: { budget: '' } } });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      { field: 'lastName', message: 'is required before a contact enters the sql stage' },
      { field: 'companyId', message: 'is required before a contact enters the sql stage' },
      { field: 'customFields.budget', message: 'is required before a contact enters the sql stage' },
    ]);
    expect(await stack.db.prisma.contact.findUniqueOrThrow({ where: { id } })).toMatchObject({ lifecycleStage: 'lead', customFields: {} });

    // The same request with the fields filled in passes; so does an edit that does not move the stage.
    const company = await stack.db.prisma.company.create({ data: { name: 'Acme' } });
    const moved = await call('PATCH', `/v1/contacts/${id}`, { key: stack.keys.rep, body: { lifecycleStage: 'sql', lastName: 'Quinn', companyId: company.id, customFields: { budget: 12000 } } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ lifecycleStage: 'sql' });
    expect((await call('PATCH', `/v1/contacts/${id}`, { key: stack.keys.rep, body: { lastName: null } })).status).toBe(200);
  });

  it('checks a contact created directly in a guarded stage', async () => {
    await call('PUT', '/v1/required-fields/lifecycle-stages/customer', { body: { fields: ['phones', 'ownerId'] } });
    const refused = await call('POST', '/v1/contacts', { body: { firstName: 'Ola', emails: ['ola@example.com'], lifecycleStage: 'customer' } });
    expect(refused.status).toBe(422);
    expect(refused.body.errors!.map((error) => error.field)).toEqual(['phones', 'ownerId']);
    expect(await stack.db.prisma.contactEmail.count({ where: { address: 'ola@example.com' } })).toBe(0);
  });

  it('is configured by sales ops and admins only, and names each field it does not know', async () => {
    expect((await call('PUT', '/v1/required-fields/lifecycle-stages/mql', { key: stack.keys.rep, body: { fields: ['lastName'] } })).status).toBe(403);
    const unknown = await call('PUT', '/v1/required-fields/lifecycle-stages/mql', { body: { fields: ['lastName', 'shoeSize', 'lastName'] } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([
      { field: 'fields/1', message: expect.stringContaining('"shoeSize" is not a contact field') },
      { field: 'fields/2', message: 'lastName is listed twice' },
    ]);
    expect((await call('PUT', '/v1/required-fields/lifecycle-stages/prospect', { body: { fields: [] } })).status).toBe(400);
  });
});

describe('required fields per deal stage', () => {
  it('stores a rule per pipeline stage, lists every rule and removes one', async () => {
    const proposal = await stack.db.prisma.stage.findFirstOrThrow({ where: { name: 'Proposal' } });
    const put = await call('PUT', `/v1/required-fields/deal-stages/${proposal.id}`, { body: { fields: ['amount', 'expectedCloseDate'] } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ lifecycleStage: null, stageId: proposal.id, fields: ['amount', 'expectedCloseDate'] });
    expect((await call('PUT', `/v1/required-fields/deal-stages/${proposal.id}`, { body: { fields: ['customFields.x'] } })).status).toBe(422);
    expect((await call('PUT', '/v1/required-fields/deal-stages/00000000-0000-4000-8000-000000000000', { body: { fields: ['amount'] } })).status).toBe(404);

    const list = await call('GET', '/v1/required-fields', { key: stack.keys.rep });
    expect(list.body.data).toEqual(expect.arrayContaining([expect.objectContaining({ stageId: proposal.id, fields: ['amount', 'expectedCloseDate'] })]));

    expect((await call('DELETE', `/v1/required-fields/deal-stages/${proposal.id}`)).status).toBe(204);
    expect((await call('DELETE', `/v1/required-fields/deal-stages/${proposal.id}`)).status).toBe(404);
    expect(await stack.db.prisma.auditLog.count({ where: { action: { in: ['required_fields.updated', 'required_fields.deleted'] } } })).toBeGreaterThanOrEqual(2);
  });
});

describe('standardisation on the write paths', () => {
  it('stores names capitalised, email lower-case, phones in E.164 and the country as an ISO code through the API', async () => {
    const created = await call('POST', '/v1/contacts', {
      body: { firstName: '  MARY-KATE ', lastName: "o'brien", emails: [' Mary.OBrien@Example.COM '], phones: ['+44 20 7946 0958'], country: 'United Kingdom' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ firstName: 'Mary-Kate', lastName: "O'Brien", emails: [expect.objectContaining({ address: 'mary.obrien@example.com' })], phones: [expect.objectContaining({ e164: '+442079460958' })], country: 'GB' });
    const bad = await call('PATCH', `/v1/contacts/${created.body.id as string}`, { body: { country: 'Atlantis' } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'country' })]);
  });

  it('files form submitters under one company however its name is written, with the domain of their work email', async () => {
    const submit = (body: Record<string, unknown>) =>
      fetch(`${stack.baseUrl}/v1/forms/demo-contact/submissions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await submit({ email: 'jane@globex-corp.com', name: 'JANE   DOE', company: '  Globex    Corporation ' })).status).toBe(202);
    expect((await submit({ email: 'john@globex-corp.com', name: 'john roe', company: 'GLOBEX, Inc.' })).status).toBe(202);
    expect((await submit({ email: 'ann@globex-corp.com', name: 'Ann Poe', company: 'Globex Widgets' })).status).toBe(202);

    const companies = await stack.db.prisma.company.findMany({ where: { domain: 'globex-corp.com' } });
    expect(companies.map(({ name, nameKey, domain }) => ({ name, nameKey, domain }))).toEqual([{ name: 'Globex Corporation', nameKey: 'globex', domain: 'globex-corp.com' }]);
    const people = await stack.db.prisma.contact.findMany({ where: { emails: { some: { address: { endsWith: '@globex-corp.com' } } } }, orderBy: { createdAt: 'asc' } });
    expect(people.map(({ firstName, lastName, companyId }) => ({ firstName, lastName, companyId }))).toEqual([
      { firstName: 'Jane', lastName: 'Doe', companyId: companies[0]!.id },
      { firstName: 'John', lastName: 'Roe', companyId: companies[0]!.id },
      { firstName: 'Ann', lastName: 'Poe', companyId: companies[0]!.id },
    ]);
  });
});
