import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FormView } from '../../domain/schemas/form';
import { apiClient } from '../support/api-client';
import { createTemplate } from '../support/sequences';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let marketer: string;
let salesOps: string;
const call = apiClient({ get baseUrl() { return stack.baseUrl; } }, () => marketer);

beforeAll(async () => {
  stack = await startTestStack();
  marketer = await stack.keyFor('marketer');
  salesOps = await stack.keyFor('sales_ops');
});
afterAll(() => stack.close());

const prisma = () => stack.db.prisma;
const formAudits = (entityId?: string) => prisma().auditLog.findMany({ where: { entityType: 'form', ...(entityId ? { entityId } : {}) }, orderBy: { at: 'asc' } });

function submit(key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${stack.baseUrl}/v1/forms/${key}/submissions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

function preflight(key: string, origin: string) {
  return fetch(`${stack.baseUrl}/v1/forms/${key}/submissions`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
}

async function createForm(body: Record<string, unknown>): Promise<FormView> {
  const reply = await call<FormView>('POST', '/v1/forms', { body });
  expect(reply.status).toBe(201);
  return reply.body;
}

describe('forms API', () => {
  it('creates a form with its fields normalised and the defaults of the model, reads it by id or key, and audits it', async () => {
    const created = await call<FormView>('POST', '/v1/forms', {
      body: {
        key: 'spring-webinar',
        name: '  Spring webinar sign-up ',
        allowedOrigins: ['https://WWW.Example.com/', 'http://localhost:8080', 'https://www.example.com:443'],
        defaultCountry: 'Germany',
        requiredFields: ['firstName', 'company', 'seats'],
        allowCustomFields: true,
        grantsEmailConsent: true,
        source: 'webinar',
      },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/forms/${created.body.id}`);
    expect(created.body).toMatchObject({
      key: 'spring-webinar',
      name: 'Spring webinar sign-up',
      allowedOrigins: ['https://www.example.com', 'http://localhost:8080'],
      defaultCountry: 'DE',
      contactRequirement: 'email_or_phone',
      requiredFields: ['firstName', 'company', 'seats'],
      allowCustomFields: true,
      honeypotField: 'website',
      source: 'webinar',
      grantsEmailConsent: true,
      welcomeTemplate: 'welcome',
      enrollSequenceId: null,
      active: true,
    });
    expect((await call('GET', `/v1/forms/${created.body.id}`)).body).toEqual(created.body);
    expect((await call('GET', '/v1/forms/spring-webinar')).body).toEqual(created.body);
    expect((await call('GET', '/v1/forms/no-such-form')).status).toBe(404);
    expect((await call('GET', `/v1/forms/${randomUUID()}`)).status).toBe(404);
    expect((await call('GET', '/v1/forms/not%20a%20key')).status).toBe(400);

    const [audit] = await formAudits(created.body.id);
    expect(audit).toMatchObject({ action: 'form.created', actorType: 'api_key', after: expect.objectContaining({ key: 'spring-webinar', defaultCountry: 'DE' }) });
    expect(audit!.before).toBeNull();
  });

  it('generates a URL-safe key when none is given', async () => {
    const form = await createForm({ name: 'Generated key' });
    expect(form.key).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect((await submit(form.key, { email: 'generated@example.com' })).status).toBe(202);
  });

  it('lists forms newest first with a keyset cursor, filtered by active', async () => {
    const names = ['List A', 'List B', 'List C'];
    for (const name of names) await createForm({ name });
    const first = await call<{ data: FormView[]; nextCursor: string | null }>('GET', '/v1/forms?limit=2');
    expect(first.body.data.map((form) => form.name)).toEqual(['List C', 'List B']);
    const second = await call<{ data: FormView[]; nextCursor: string | null }>('GET', `/v1/forms?limit=2&cursor=${first.body.nextCursor!}`);
    expect(second.body.data[0]!.name).toBe('List A');
    const all = await call<{ data: FormView[] }>('GET', '/v1/forms?limit=200');
    expect(all.body.data.map((form) => form.key)).toContain('demo-contact');

    const listB = all.body.data.find((form) => form.name === 'List B')!;
    expect((await call('DELETE', `/v1/forms/${listB.id}`)).status).toBe(204);
    const inactive = await call<{ data: FormView[] }>('GET', '/v1/forms?active=false');
    expect(inactive.body.data.map((form) => form.id)).toEqual([listB.id]);
    const active = await call<{ data: FormView[] }>('GET', '/v1/forms?active=true&limit=200');
    expect(active.body.data.map((form) => form.id)).not.toContain(listB.id);
    expect((await call('GET', '/v1/forms?cursor=garbage')).status).toBe(400);
  });

  it('changes a form, deactivates it and brings it back, each change in the audit log once', async () => {
    const form = await createForm({ key: 'lifecycle', name: 'Lifecycle' });
    const patched = await call<FormView>('PATCH', '/v1/forms/lifecycle', { body: { name: 'Renamed', defaultCountry: null, contactRequirement: 'email' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: form.id, key: 'lifecycle', name: 'Renamed', contactRequirement: 'email' });

    expect((await call('DELETE', `/v1/forms/${form.id}`)).status).toBe(204);
    expect((await call<FormView>('GET', `/v1/forms/${form.id}`)).body.active).toBe(false);
    expect((await call('DELETE', '/v1/forms/lifecycle')).status).toBe(204);
    expect((await call('DELETE', '/v1/forms/no-such-form')).status).toBe(404);
    expect((await call<FormView>('PATCH', `/v1/forms/${form.id}`, { body: { active: true } })).body.active).toBe(true);

    const audits = await formAudits(form.id);
    expect(audits.map((audit) => audit.action)).toEqual(['form.created', 'form.updated', 'form.deactivated', 'form.updated']);
    expect(audits[1]).toMatchObject({ before: expect.objectContaining({ name: 'Lifecycle' }), after: expect.objectContaining({ name: 'Renamed' }) });
  });
});

describe('bad input is a problem naming each field and changes nothing', () => {
  it('names every invalid field of a create at once', async () => {
    const [forms, audits] = [await prisma().form.count(), (await formAudits()).length];
    const reply = await call('POST', '/v1/forms', {
      body: {
        name: 'Broken',
        allowedOrigins: ['*', 'https://example.com/contact', 'ftp://example.com', 'example.com', 'https://ok.example.com'],
        defaultCountry: 'Atlantis',
        welcomeTemplate: 'no-such-template',
        enrollSequenceId: randomUUID(),
      },
    });
    expect(reply.status).toBe(422);
    expect(reply.type).toContain('application/problem+json');
    expect(reply.body.errors!.map((error) => error.field).sort()).toEqual(['allowedOrigins/0', 'allowedOrigins/1', 'allowedOrigins/2', 'allowedOrigins/3', 'defaultCountry']);
    expect(reply.body.errors).toContainEqual({ field: 'allowedOrigins/0', message: '"*" is not supported: list the origin of each site that embeds the form' });

    // The references are checked once the fields themselves are valid, again all together.
    const references = await call('POST', '/v1/forms', { body: { name: 'Broken', welcomeTemplate: 'no-such-template', enrollSequenceId: randomUUID() } });
    expect(references.status).toBe(422);
    expect(references.body.errors).toEqual([
      { field: 'welcomeTemplate', message: 'there is no email template "no-such-template" (neither stored through /v1/templates nor shipped in templates/email)' },
      { field: 'enrollSequenceId', message: 'is not an existing sequence' },
    ]);
    expect(await prisma().form.count()).toBe(forms);
    expect(await formAudits()).toHaveLength(audits);
  });

  it('takes only an email template as the welcome template', async () => {
    await createTemplate(prisma(), 'text-only', 'sms', [{ text: 'Hi' }]);
    const sms = await call('POST', '/v1/forms', { body: { name: 'SMS welcome', welcomeTemplate: 'text-only' } });
    expect(sms.body.errors).toEqual([{ field: 'welcomeTemplate', message: expect.stringContaining('there is no email template "text-only"') }]);
    await createTemplate(prisma(), 'stored-welcome', 'email', [{ subject: 'Welcome', html: '<p>Hi</p>' }]);
    expect((await createForm({ name: 'Stored welcome', welcomeTemplate: 'stored-welcome' })).welcomeTemplate).toBe('stored-welcome');
  });

  it('takes only a published, unarchived sequence for auto-enrollment', async () => {
    const draft = await prisma().sequence.create({ data: { name: 'Draft drip' } });
    const archived = await prisma().sequence.create({ data: { name: 'Old drip', publishedVersion: 1, archivedAt: new Date() } });
    const published = await prisma().sequence.create({ data: { name: 'Live drip', publishedVersion: 1 } });
    const unpublished = await call('POST', '/v1/forms', { body: { name: 'Draft', enrollSequenceId: draft.id } });
    expect(unpublished.body.errors).toEqual([{ field: 'enrollSequenceId', message: 'is a sequence with no published version yet' }]);
    const form = await createForm({ name: 'Enrolling', enrollSequenceId: published.id });
    const toArchived = await call('PATCH', `/v1/forms/${form.id}`, { body: { enrollSequenceId: archived.id } });
    expect(toArchived.status).toBe(422);
    expect(toArchived.body.errors).toEqual([{ field: 'enrollSequenceId', message: 'is an archived sequence' }]);
    expect((await call<FormView>('GET', `/v1/forms/${form.id}`)).body.enrollSequenceId).toBe(published.id);
    expect((await call<FormView>('PATCH', `/v1/forms/${form.id}`, { body: { enrollSequenceId: null } })).body.enrollSequenceId).toBeNull();
  });

  it('checks required fields and the honeypot against the whole form, also on a PATCH', async () => {
    const bad = await call('POST', '/v1/forms', { body: { name: 'Fields', requiredFields: ['first_name', 'budget', 'email', 'email', 'bad name'], honeypotField: 'company' } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([
      { field: 'honeypotField', message: '"company" is a field people fill in; name the hidden field something else, such as website' },
      { field: 'requiredFields/0', message: 'name the field "firstName"; "first_name" is another way a post may spell it' },
      { field: 'requiredFields/1', message: '"budget" is a custom field, and the form does not allow custom fields' },
      { field: 'requiredFields/3', message: '"email" is listed twice' },
      { field: 'requiredFields/4', message: '"bad name" is not a field name: custom fields start with a letter and use letters, digits and _' },
    ]);
    const form = await createForm({ name: 'Custom', allowCustomFields: true, requiredFields: ['budget'] });
    const before = await call<FormView>('GET', `/v1/forms/${form.id}`);
    const narrowing = await call('PATCH', `/v1/forms/${form.id}`, { body: { allowCustomFields: false, name: 'Changed' } });
    expect(narrowing.body.errors).toEqual([{ field: 'requiredFields/0', message: '"budget" is a custom field, and the form does not allow custom fields' }]);
    const hiding = await call('PATCH', `/v1/forms/${form.id}`, { body: { honeypotField: 'budget' } });
    expect(hiding.body.errors).toEqual([{ field: 'requiredFields/0', message: '"budget" is the honeypot field, which people leave empty' }]);
    expect((await call('PATCH', `/v1/forms/${form.id}`, { body: { key: 'new-key' } })).body.errors).toContainEqual({ field: 'key', message: 'unknown field: key' });
    expect((await call('PATCH', `/v1/forms/${form.id}`, { body: {} })).status).toBe(422);
    expect((await call<FormView>('GET', `/v1/forms/${form.id}`)).body).toEqual(before.body);
    expect((await formAudits(form.id)).map((audit) => audit.action)).toEqual(['form.created']);
  });

  it('refuses a key that another form has, active or not, with 409 naming the key', async () => {
    const taken = await createForm({ key: 'taken', name: 'First' });
    const duplicate = await call('POST', '/v1/forms', { body: { key: 'taken', name: 'Second' } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.errors).toEqual([{ field: 'key', message: `taken belongs to form ${taken.id}` }]);
    await call('DELETE', '/v1/forms/taken');
    expect((await call('POST', '/v1/forms', { body: { key: 'taken', name: 'Third' } })).status).toBe(409);
    expect((await call('POST', '/v1/forms', { body: { key: 'demo-contact', name: 'Demo again' } })).status).toBe(409);
    const odd = await call('POST', '/v1/forms', { body: { key: randomUUID(), name: 'UUID key' } });
    expect(odd.body.errors!.map((error) => error.field)).toEqual(['key']);
    expect((await call('POST', '/v1/forms', { body: { key: 'has space', name: 'Space' } })).body.errors!.map((error) => error.field)).toEqual(['key']);
    expect(await prisma().form.count({ where: { name: { in: ['Second', 'Third', 'Demo again', 'UUID key', 'Space'] } } })).toBe(0);
  });
});

describe('roles', () => {
  it('lets admins and marketers write, sales ops read, and no one else in', async () => {
    const admin = await call<FormView>('POST', '/v1/forms', { key: stack.keys.admin, body: { name: 'By admin' } });
    expect(admin.status).toBe(201);
    const audits = (await formAudits()).length;
    const manager = await stack.keyFor('manager');
    expect((await call('GET', '/v1/forms', { key: salesOps })).status).toBe(200);
    expect((await call('GET', `/v1/forms/${admin.body.id}`, { key: salesOps })).status).toBe(200);
    for (const key of [salesOps, manager, stack.keys.rep]) {
      expect((await call('POST', '/v1/forms', { key, body: { name: 'Not allowed' } })).status).toBe(403);
      expect((await call('PATCH', `/v1/forms/${admin.body.id}`, { key, body: { name: 'Not allowed' } })).status).toBe(403);
      expect((await call('DELETE', `/v1/forms/${admin.body.id}`, { key })).status).toBe(403);
    }
    for (const key of [manager, stack.keys.rep]) {
      expect((await call('GET', '/v1/forms', { key })).status).toBe(403);
      expect((await call('GET', `/v1/forms/${admin.body.id}`, { key })).status).toBe(403);
    }
    expect((await fetch(`${stack.baseUrl}/v1/forms`)).status).toBe(401);
    expect((await call<FormView>('GET', `/v1/forms/${admin.body.id}`)).body).toMatchObject({ name: 'By admin', active: true });
    expect(await formAudits()).toHaveLength(audits);
  });
});

describe('the submission endpoint follows every change at once', () => {
  it('reads origins, fields, country and the active flag from the form as it is now', async () => {
    const form = await createForm({ key: 'live-form', name: 'Live', allowedOrigins: ['https://a.example'] });
    const fromB = { origin: 'https://b.example' };
    expect((await submit('live-form', { email: 'b1@example.com' }, fromB)).status).toBe(403);
    expect((await preflight('live-form', 'https://b.example')).headers.get('access-control-allow-origin')).toBeNull();

    await call('PATCH', '/v1/forms/live-form', { body: { allowedOrigins: ['https://a.example', 'https://b.example'], requiredFields: ['company'], defaultCountry: 'DE' } });
    expect((await preflight('live-form', 'https://b.example')).headers.get('access-control-allow-origin')).toBe('https://b.example');
    const missing = await submit('live-form', { email: 'b2@example.com' }, fromB);
    expect(missing.status).toBe(422);
    expect(((await missing.json()) as { errors: unknown[] }).errors).toEqual([{ field: 'company', message: 'is required' }]);
    const accepted = await submit('live-form', { phone: '030 1234567', company: 'Acme' }, fromB);
    expect(accepted.status).toBe(202);
    const { contactId } = (await accepted.json()) as { contactId: string };
    expect((await prisma().contactPhone.findFirstOrThrow({ where: { contactId } })).e164).toBe('+49301234567');

    expect((await call('DELETE', `/v1/forms/${form.id}`)).status).toBe(204);
    const contacts = await prisma().contact.count();
    const refused = await submit('live-form', { email: 'b3@example.com', company: 'Acme' }, fromB);
    expect(refused.status).toBe(404);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect((await preflight('live-form', 'https://b.example')).headers.get('access-control-allow-origin')).toBeNull();
    expect(await prisma().contact.count()).toBe(contacts);

    await call('PATCH', '/v1/forms/live-form', { body: { active: true } });
    expect((await submit('live-form', { email: 'b4@example.com', company: 'Acme' }, fromB)).status).toBe(202);
  });
});
