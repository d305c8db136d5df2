import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient } from '../support/api-client';
import { salesFixture } from '../support/sales';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let call: ReturnType<typeof apiClient>;
let team: Awaited<ReturnType<typeof salesFixture>>;

beforeAll(async () => {
  stack = await startTestStack();
  team = await salesFixture(stack.db.prisma);
  call = apiClient(stack, () => stack.keys.admin);
});
afterAll(() => stack.close());

interface CompanyBody {
  id: string;
  name: string;
  domain: string | null;
  ownerId: string | null;
  counts: { contacts: number; openDeals: number };
}

async function createCompany(body: Record<string, unknown>): Promise<CompanyBody> {
  const reply = await call<CompanyBody>('POST', '/v1/companies', { body });
  expect(reply.status).toBe(201);
  return reply.body;
}

const contactAt = (companyId: string, firstName = 'Ann') => stack.db.prisma.contact.create({ data: { firstName, companyId } });
const dealAt = (companyId: string, status: 'open' | 'won' = 'open') =>
  stack.db.prisma.deal.create({ data: { name: `${status} deal`, pipelineId: team.pipeline.id, stageId: team.stage(status === 'won' ? 'Won' : 'New').id, ownerId: team.rita.id, companyId, status } });
const liveCompanies = () => stack.db.prisma.company.count({ where: { deletedAt: null } });

describe('creating companies', () => {
  it('stores the registrable domain of a URL and the name as typed, with its match key, and audits it', async () => {
    const reply = await call<CompanyBody>('POST', '/v1/companies', { body: { name: '  Initech   GmbH ', domain: 'https://www.Shop.Initech.co.uk/pricing?x=1', ownerId: team.rita.id } });
    expect(reply.status).toBe(201);
    expect(reply.headers.get('location')).toBe(`/v1/companies/${reply.body.id}`);
    expect(reply.body).toMatchObject({ name: 'Initech GmbH', domain: 'initech.co.uk', ownerId: team.rita.id, counts: { contacts: 0, openDeals: 0 } });
    expect(await stack.db.prisma.company.findUniqueOrThrow({ where: { id: reply.body.id } })).toMatchObject({ nameKey: 'initech' });
    const audit = await stack.db.prisma.auditLog.findFirstOrThrow({ where: { entityType: 'company', entityId: reply.body.id } });
    expect(audit).toMatchObject({ action: 'company.created', after: expect.objectContaining({ domain: 'initech.co.uk' }) });
  });

  it('is a 409 naming domain, with the existing company, for any spelling of a domain that is taken', async () => {
    const acme = await createCompany({ name: 'Acme', domain: 'acme.com' });
    const before = await liveCompanies();
    for (const domain of ['www.acme.com', 'https://shop.acme.com/path', 'ACME.com']) {
      const reply = await call('POST', '/v1/companies', { body: { name: 'Acme Inc.', domain } });
      expect(reply.status).toBe(409);
      expect(reply.type).toContain('application/problem+json');
      expect(reply.body.existingCompanyId).toBe(acme.id);
      expect(reply.body.errors).toEqual([{ field: 'domain', message: `acme.com belongs to company ${acme.id}` }]);
    }
    expect(await liveCompanies()).toBe(before);
  });

  it('is a 422 naming each bad field, and stores nothing', async () => {
    const before = await stack.db.prisma.company.count();
    for (const domain of ['not a domain', 'jane@acme.com', 'localhost', '10.0.0.1', 'co.uk']) {
      const reply = await call('POST', '/v1/companies', { body: { name: 'Bad', domain } });
      expect(reply.status).toBe(422);
      expect(reply.body.errors?.map((error) => error.field)).toEqual(['domain']);
    }
    const reply = await call('POST', '/v1/companies', { body: { name: '   ', ownerId: 'nope', website: 'x.com' } });
    expect(reply.status).toBe(422);
    expect(reply.body.errors?.map((error) => error.field).sort()).toEqual(['name', 'ownerId', 'website']);
    const inactive = await stack.db.prisma.user.create({ data: { email: 'gone@example.com', name: 'Gone', role: 'rep', active: false } });
    const owner = await call('POST', '/v1/companies', { body: { name: 'Owned', ownerId: inactive.id } });
    expect(owner.status).toBe(422);
    expect(owner.body.errors).toEqual([{ field: 'ownerId', message: 'is not an active user' }]);
    expect(await stack.db.prisma.company.count()).toBe(before);
  });
});

describe('reading companies', () => {
  it('shows the counts of live contacts and open deals', async () => {
    const globex = await createCompany({ name: 'Globex' });
    await contactAt(globex.id);
    const gone = await contactAt(globex.id, 'Gone');
    await stack.db.prisma.contact.update({ where: { id: gone.id }, data: { deletedAt: new Date() } });
    await dealAt(globex.id);
    await dealAt(globex.id, 'won');
    const reply = await call<CompanyBody>('GET', `/v1/companies/${globex.id}`, { key: stack.keys.rep });
    expect(reply.status).toBe(200);
    expect(reply.body.counts).toEqual({ contacts: 1, openDeals: 1 });
    expect((await call('GET', '/v1/companies/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('filters by domain written any way and by name ignoring case and legal form, a page at a time', async () => {
    const umbrella = await createCompany({ name: 'Umbrella Corporation', domain: 'umbrella.example' });
    const umbrellaDe = await createCompany({ name: 'UMBRELLA GmbH' });
    await createCompany({ name: 'Hooli' });

    const byDomain = await call<{ data: CompanyBody[] }>('GET', `/v1/companies?domain=${encodeURIComponent('https://www.umbrella.example/about')}`);
    expect(byDomain.body.data.map((company) => company.id)).toEqual([umbrella.id]);

    const byName = await call<{ data: CompanyBody[]; nextCursor: string | null }>('GET', '/v1/companies?name=umbrella%20inc&limit=1');
    expect(byName.body.data.map((company) => company.id)).toEqual([umbrellaDe.id]);
    const next = await call<{ data: CompanyBody[]; nextCursor: string | null }>('GET', `/v1/companies?name=umbrella%20inc&limit=1&cursor=${byName.body.nextCursor!}`);
    expect(next.body.data.map((company) => company.id)).toEqual([umbrella.id]);
    expect(next.body.nextCursor).toBeNull();

    const bad = await call('GET', '/v1/companies?domain=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.field).toBe('query.domain');
  });
});

describe('updating companies', () => {
  it('renames with a new match key, changes and clears the domain, and audits before and after', async () => {
    const company = await createCompany({ name: 'Vandelay', domain: 'vandelay.example' });
    const renamed = await call<CompanyBody>('PATCH', `/v1/companies/${company.id}`, { key: stack.keys.rep, body: { name: 'Vandelay Industries LLC', domain: 'https://WWW.vandelay.example' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Vandelay Industries LLC', domain: 'vandelay.example' });
    expect(await stack.db.prisma.company.findUniqueOrThrow({ where: { id: company.id } })).toMatchObject({ nameKey: 'vandelayindustries' });

    const cleared = await call<CompanyBody>('PATCH', `/v1/companies/${company.id}`, { body: { domain: null } });
    expect(cleared.body.domain).toBeNull();
    const audit = await stack.db.prisma.auditLog.findMany({ where: { entityId: company.id, action: 'company.updated' }, orderBy: { at: 'asc' } });
    expect(audit.map((row) => [(row.before as { name: string }).name, (row.after as { name: string }).name])).toEqual([
      ['Vandelay', 'Vandelay Industries LLC'],
      ['Vandelay Industries LLC', 'Vandelay Industries LLC'],
    ]);
  });

  it('refuses a domain another company has with 409 and existingCompanyId, changing nothing', async () => {
    const holder = await createCompany({ name: 'Soylent', domain: 'soylent.example' });
    const other = await createCompany({ name: 'Soylent Green', domain: 'soylentgreen.example' });
    const reply = await call('PATCH', `/v1/companies/${other.id}`, { body: { name: 'Renamed', domain: 'eu.soylent.example' } });
    expect(reply.status).toBe(409);
    expect(reply.body.existingCompanyId).toBe(holder.id);
    expect(reply.body.errors?.[0]?.field).toBe('domain');
    expect(await stack.db.prisma.company.findUniqueOrThrow({ where: { id: other.id } })).toMatchObject({ name: 'Soylent Green', domain: 'soylentgreen.example' });
  });

  it('answers 422 for an empty patch and 404 for an unknown company', async () => {
    const company = await createCompany({ name: 'Empty Patch' });
    expect((await call('PATCH', `/v1/companies/${company.id}`, { body: {} })).status).toBe(422);
    expect((await call('PATCH', '/v1/companies/00000000-0000-4000-8000-000000000000', { body: { name: 'X' } })).status).toBe(404);
  });
});

describe('deleting companies', () => {
  it('refuses while contacts or open deals link to it, then soft-deletes it and releases its domain', async () => {
    const company = await createCompany({ name: 'Wonka', domain: 'wonka.example' });
    const contact = await contactAt(company.id);
    const deal = await dealAt(company.id);

    expect((await call('DELETE', `/v1/companies/${company.id}`, { key: stack.keys.rep })).status).toBe(403);
    const refused = await call('DELETE', `/v1/companies/${company.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('1 contact and 1 open deal');
    await stack.db.prisma.contact.update({ where: { id: contact.id }, data: { companyId: null } });
    expect((await call('DELETE', `/v1/companies/${company.id}`)).status).toBe(409);
    await stack.db.prisma.deal.update({ where: { id: deal.id }, data: { status: 'won', stageId: team.stage('Won').id } });

    expect((await call('DELETE', `/v1/companies/${company.id}`)).status).toBe(204);
    expect(await stack.db.prisma.company.findUniqueOrThrow({ where: { id: company.id } })).toMatchObject({ deletedAt: expect.any(Date), domain: null });
    expect((await stack.db.prisma.deal.findUniqueOrThrow({ where: { id: deal.id } })).companyId).toBe(company.id);
    const audit = await stack.db.prisma.auditLog.findFirstOrThrow({ where: { entityId: company.id, action: 'company.deleted' } });
    expect(audit.before).toMatchObject({ domain: 'wonka.example' });
    expect((await call('GET', `/v1/companies/${company.id}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/companies/${company.id}`)).status).toBe(404);
    // The released domain is free for a new company.
    expect((await createCompany({ name: 'Wonka Again', domain: 'www.wonka.example' })).domain).toBe('wonka.example');
  });
});

describe('merging companies', () => {
  it('moves contacts and deals to the survivor, fills its empty fields, soft-deletes the others and audits before images', async () => {
    const survivor = await createCompany({ name: 'Stark Industries' });
    const withDomain = await createCompany({ name: 'Stark Industries Inc.', domain: 'stark.example', ownerId: team.rob.id });
    const withRecords = await createCompany({ name: 'STARK', domain: 'stark-eu.example', ownerId: team.rita.id });
    const contacts = [await contactAt(withDomain.id), await contactAt(withRecords.id), await contactAt(withRecords.id)];
    const deals = [await dealAt(withRecords.id), await dealAt(withRecords.id, 'won')];
    await contactAt(survivor.id);

    const salesOps = await stack.keyFor('sales_ops', team.sam.id);
    const reply = await call<{ survivor: CompanyBody; mergedIds: string[]; decisions: Record<string, { from: string; rule: string }>; moved: { contacts: number; deals: number } }>(
      'POST', `/v1/companies/${survivor.id}/merge`, { key: salesOps, body: { mergeIds: [withDomain.id, withRecords.id] } },
    );
    expect(reply.status).toBe(200);
    expect(reply.body.survivor).toMatchObject({ id: survivor.id, name: 'Stark Industries', domain: 'stark.example', ownerId: team.rob.id, counts: { contacts: 4, openDeals: 1 } });
    expect(reply.body.decisions).toEqual({ domain: { from: withDomain.id, rule: 'filled' }, ownerId: { from: withDomain.id, rule: 'filled' } });
    expect(reply.body.moved).toEqual({ contacts: 3, deals: 2 });

    for (const contact of contacts) expect((await stack.db.prisma.contact.findUniqueOrThrow({ where: { id: contact.id } })).companyId).toBe(survivor.id);
    for (const deal of deals) expect((await stack.db.prisma.deal.findUniqueOrThrow({ where: { id: deal.id } })).companyId).toBe(survivor.id);
    for (const loser of [withDomain, withRecords]) {
      expect(await stack.db.prisma.company.findUniqueOrThrow({ where: { id: loser.id } })).toMatchObject({ deletedAt: expect.any(Date), domain: null });
    }

    const merged = await stack.db.prisma.auditLog.findFirstOrThrow({ where: { entityId: survivor.id, action: 'company.merged' } });
    expect(merged.before).toEqual({
      survivor: expect.objectContaining({ id: survivor.id, domain: null, counts: { contacts: 1, openDeals: 0 } }),
      merged: [
        expect.objectContaining({ id: withDomain.id, domain: 'stark.example', counts: { contacts: 1, openDeals: 0 } }),
        expect.objectContaining({ id: withRecords.id, domain: 'stark-eu.example', counts: { contacts: 2, openDeals: 1 } }),
      ],
    });
    expect(merged.after).toMatchObject({ moved: { contacts: 3, deals: 2 } });
    const mergedInto = await stack.db.prisma.auditLog.findFirstOrThrow({ where: { entityId: withRecords.id, action: 'company.merged_into' } });
    expect(mergedInto.after).toEqual({ mergedIntoId: survivor.id, moved: { contacts: 2, deals: 2 } });

    // The released domain of the merged company the survivor did not take is free again.
    expect((await createCompany({ name: 'Stark Europe', domain: 'stark-eu.example' })).domain).toBe('stark-eu.example');
  });

  it('refuses itself and unknown or deleted companies with 422 naming each, a missing survivor with 404, and changes nothing', async () => {
    const survivor = await createCompany({ name: 'Cyberdyne' });
    const other = await createCompany({ name: 'Cyberdyne Systems', domain: 'cyberdyne.example' });
    const contact = await contactAt(other.id);
    const deleted = await createCompany({ name: 'Deleted Co' });
    expect((await call('DELETE', `/v1/companies/${deleted.id}`)).status).toBe(204);
    const unknown = '00000000-0000-4000-8000-000000000000';

    const itself = await call('POST', `/v1/companies/${survivor.id}/merge`, { body: { mergeIds: [other.id, survivor.id] } });
    expect(itself.status).toBe(422);
    expect(itself.body.errors).toEqual([{ field: 'mergeIds/1', message: 'is the surviving company itself' }]);
    const missing = await call('POST', `/v1/companies/${survivor.id}/merge`, { body: { mergeIds: [other.id, unknown, deleted.id] } });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([
      { field: 'mergeIds/1', message: 'is not an existing company' },
      { field: 'mergeIds/2', message: 'is not an existing company' },
    ]);
    const twice = await call('POST', `/v1/companies/${survivor.id}/merge`, { body: { mergeIds: [other.id, other.id] } });
    expect(twice.status).toBe(422);
    expect(twice.body.errors?.[0]?.field).toBe('mergeIds/1');
    expect((await call('POST', `/v1/companies/${unknown}/merge`, { body: { mergeIds: [other.id] } })).status).toBe(404);

    expect(await stack.db.prisma.company.findUniqueOrThrow({ where: { id: other.id } })).toMatchObject({ deletedAt: null, domain: 'cyberdyne.example' });
    expect((await stack.db.prisma.contact.findUniqueOrThrow({ where: { id: contact.id } })).companyId).toBe(other.id);
    expect(await stack.db.prisma.auditLog.count({ where: { entityId: survivor.id, action: 'company.merged' } })).toBe(0);
  });

  it('is not for reps, who may still create and read companies', async () => {
    const survivor = await createCompany({ name: 'Tyrell' });
    const other = await createCompany({ name: 'Tyrell Corp', domain: 'tyrell.example' });
    const reply = await call('POST', `/v1/companies/${survivor.id}/merge`, { key: stack.keys.rep, body: { mergeIds: [other.id] } });
    expect(reply.status).toBe(403);
    expect(await stack.db.prisma.company.findUniqueOrThrow({ where: { id: other.id } })).toMatchObject({ deletedAt: null });

    const created = await call<CompanyBody>('POST', '/v1/companies', { key: stack.keys.rep, body: { name: 'Rep Made' } });
    expect(created.status).toBe(201);
    expect((await call('GET', '/v1/companies?name=rep%20made', { key: stack.keys.rep })).body.data).toHaveLength(1);
  });
});
