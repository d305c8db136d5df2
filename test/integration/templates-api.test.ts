import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TemplateRenderer, templatesRoot } from '../../activities/templates';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let marketer: string;
beforeAll(async () => {
  stack = await startTestStack({ EMAIL_FROM_NAME: 'Acme', SENDER_POSTAL_ADDRESS: '1 Example Street, Springfield', PUBLIC_URL: 'https://touchpoint.example' });
  marketer = await stack.keyFor('marketer');
});
afterAll(() => stack.close());

interface Reply {
  status: number;
  type: string | null;
  body: Record<string, unknown> & { errors?: Array<{ field: string; message: string }>; data?: Array<Record<string, unknown>> };
}

async function call(method: string, path: string, options: { key?: string; body?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? marketer}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${stack.baseUrl}${path}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: text ? (JSON.parse(text) as Reply['body']) : {} };
}

const offer = {
  key: 'spring-offer',
  channel: 'email',
  name: 'Spring offer',
  subject: 'Spring offer for {{default contact.firstName "you"}}',
  html: '<p>Hi {{default contact.firstName "there"}},</p>\n<p>Your plan: {{contact.customFields.plan}}. Balance {{formatCurrency contact.customFields.balance "EUR"}}.</p>',
};

describe('templates API', () => {
  it('lists the file defaults', async () => {
    const reply = await call('GET', '/v1/templates');
    expect(reply.status).toBe(200);
    expect(reply.body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'welcome', channel: 'email', source: 'file', currentVersion: null }),
        expect.objectContaining({ key: 'welcome', channel: 'sms', source: 'file', currentVersion: null }),
      ]),
    );
    const file = await call('GET', '/v1/templates/welcome?channel=sms');
    expect(file.body).toMatchObject({ source: 'file', channel: 'sms', subject: null, html: null, text: expect.stringContaining('{{default contact.firstName "there"}}') });
  });

  it('creates version 1, saves version 2 with PUT, lists both versions and audits each save', async () => {
    const created = await call('POST', '/v1/templates', { body: offer });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ key: 'spring-offer', channel: 'email', source: 'database', currentVersion: 1, overridesFile: false, text: null });

    const saved = await call('PUT', '/v1/templates/spring-offer', { body: { subject: 'Last days: {{offer.code}}', html: offer.html } });
    expect(saved.status).toBe(422);

    const updated = await call('PUT', '/v1/templates/spring-offer', { body: { name: 'Spring offer (final)', subject: 'Last days, {{default contact.firstName "friend"}}', html: offer.html } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ currentVersion: 2, name: 'Spring offer (final)', subject: 'Last days, {{default contact.firstName "friend"}}' });

    const versions = await call('GET', '/v1/templates/spring-offer/versions');
    expect(versions.body.data!.map((version) => [version.version, version.current])).toEqual([[2, true], [1, false]]);

    const template = await stack.db.prisma.template.findUniqueOrThrow({ where: { key: 'spring-offer' } });
    const audit = await stack.db.prisma.auditLog.findMany({ where: { entityType: 'template', entityId: template.id }, orderBy: { at: 'asc' } });
    expect(audit.map((entry) => [entry.action, (entry.after as { version: number }).version])).toEqual([['template.created', 1], ['template.updated', 2]]);
  });

  it('rejects an undeclared variable at save with the part, line and column, and stores nothing', async () => {
    const reply = await call('POST', '/v1/templates', {
      body: { ...offer, key: 'broken', subject: 'Hi {{contact.firstName}}', html: '<p>Hello</p>\n<p>Your code: {{coupon.code}}</p>\n<p>{{contact.nickname}}</p>' },
    });
    expect(reply.status).toBe(422);
    expect(reply.type).toContain('application/problem+json');
    expect(reply.body.errors).toEqual([
      { field: 'html', message: expect.stringMatching(/^line 2, column 17: "coupon\.code" is not a variable/) },
      { field: 'html', message: expect.stringMatching(/^line 3, column 6: "contact\.nickname" is not a variable/) },
    ]);
    expect(await stack.db.prisma.template.count({ where: { key: 'broken' } })).toBe(0);

    const syntax = await call('POST', '/v1/templates', { body: { ...offer, key: 'broken', subject: 'Hi {{#if owner}}' } });
    expect(syntax.status).toBe(422);
    expect(syntax.body.errors).toEqual([{ field: 'subject', message: expect.stringMatching(/^line 1, column \d+: a block is not closed/) }]);
  });

  it('validates the parts a channel needs and refuses a second template with the same key', async () => {
    const missing = await call('POST', '/v1/templates', { body: { key: 'no-html', channel: 'email', name: 'x', subject: 'x' } });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([{ field: 'html', message: 'an email template needs an html body' }]);
    const smsWithHtml = await call('POST', '/v1/templates', { body: { key: 'sms-x', channel: 'sms', name: 'x', text: 'hi', html: '<p>' } });
    expect(smsWithHtml.body.errors).toEqual([{ field: 'html', message: 'an SMS template has only a text' }]);
    const duplicate = await call('POST', '/v1/templates', { body: offer });
    expect(duplicate.status).toBe(409);
  });

  it('previews against a contact: escaped HTML, layout and marketing footer, derived text and warnings', async () => {
    const contact = await stack.db.prisma.contact.create({
      data: { firstName: 'Tom <b>', lastName: 'Jones', timeZone: 'Europe/Berlin', customFields: { balance: 1234.5, locale: 'de-DE' }, emails: { create: { address: 'tom@example.com', isPrimary: true } } },
    });
    const reply = await call('POST', '/v1/templates/spring-offer/preview', { body: { contactId: contact.id } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ key: 'spring-offer', channel: 'email', source: 'database', version: 2, subject: 'Last days, Tom <b>' });
    const html = reply.body.html as string;
    expect(html).toContain('<p>Hi Tom &lt;b&gt;,</p>');
    expect(html).toContain('Balance 1.234,50\u00a0€');
    expect(html).toContain('href="https://touchpoint.example/u/preview"');
    expect(html).toContain('Acme &middot; 1 Example Street, Springfield');
    expect(reply.body.text).toMatch(/^Hi Tom <b>,\n\nYour plan: \. Balance 1\.234,50 €\.\n\n--\n/);
    expect(reply.body.warnings).toEqual(['html: line 2, column 17: contact.customFields.plan is empty with this data']);
  });

  it('previews with sample data overridden by `data`, as transactional when links.unsubscribe is null', async () => {
    const reply = await call('POST', '/v1/templates/spring-offer/preview', { body: { data: { contact: { firstName: 'Zoe', customFields: { plan: 'Pro' } }, links: { unsubscribe: null } } } });
    expect(reply.status).toBe(200);
    expect(reply.body.subject).toBe('Last days, Zoe');
    expect(reply.body.html as string).toContain('Your plan: Pro.');
    expect(reply.body.html as string).not.toContain('Unsubscribe');
    const old = await call('POST', '/v1/templates/spring-offer/preview', { body: { version: 1 } });
    expect(old.body).toMatchObject({ version: 1, subject: 'Spring offer for Ada' });
    const badData = await call('POST', '/v1/templates/spring-offer/preview', { body: { data: { coupon: { code: 'X' } } } });
    expect(badData.status).toBe(422);
    expect(badData.body.errors?.[0]?.field).toBe('data/coupon');
  });

  it('overrides a file template with PUT and every renderer sees each new version', async () => {
    const workerRenderer = new TemplateRenderer(templatesRoot, stack.db.prisma);
    const context = { contact: { firstName: 'Ada' }, owner: null, sender: { company: 'Acme' } };
    expect((await workerRenderer.renderEmail('welcome', context)).subject).toBe('Thanks for getting in touch, Ada');

    const first = await call('PUT', '/v1/templates/welcome', { body: { subject: 'Welcome aboard, {{default contact.firstName "there"}}', html: '<p>Hi {{contact.firstName}}</p>' } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ source: 'database', overridesFile: true, currentVersion: 1, channel: 'email' });
    expect((await workerRenderer.renderEmail('welcome', context)).subject).toBe('Welcome aboard, Ada');

    await call('PUT', '/v1/templates/welcome', { body: { subject: 'Hello again, {{default contact.firstName "there"}}', html: '<p>Hi</p>' } });
    expect((await workerRenderer.renderEmail('welcome', context)).subject).toBe('Hello again, Ada');

    const list = await call('GET', '/v1/templates?channel=email');
    expect(list.body.data!.filter((entry) => entry.key === 'welcome')).toEqual([expect.objectContaining({ source: 'database', overridesFile: true, currentVersion: 2 })]);
    // The SMS welcome file is untouched; a key holds one stored template, so storing it is refused.
    expect((await call('GET', '/v1/templates/welcome?channel=sms')).body.source).toBe('file');
    expect((await call('PUT', '/v1/templates/welcome?channel=sms', { body: { text: 'Hi' } })).status).toBe(409);
  });

  it('creates and previews an SMS template as plain text', async () => {
    const created = await call('POST', '/v1/templates', { body: { key: 'reminder', channel: 'sms', name: 'Reminder', text: 'Hi {{default contact.firstName "there"}} & co, see you {{formatDate contact.customFields.meeting "DATETIME_MED"}}' } });
    expect(created.status).toBe(201);
    const preview = await call('POST', '/v1/templates/reminder/preview', { body: { data: { contact: { firstName: 'A&B', timeZone: 'America/New_York', locale: 'en-US', customFields: { meeting: '2025-06-02T14:00:00Z' } } } } });
    expect(preview.body).toMatchObject({ channel: 'sms', subject: null, html: null, text: 'Hi A&B & co, see you Jun 2, 2025, 10:00 AM', warnings: [] });
  });

  it('lets sales ops and managers read and preview, but only marketers and admins write; reps get nothing', async () => {
    const salesOps = await stack.keyFor('sales_ops');
    const manager = await stack.keyFor('manager');
    expect((await call('GET', '/v1/templates', { key: salesOps })).status).toBe(200);
    expect((await call('POST', '/v1/templates/spring-offer/preview', { key: manager, body: {} })).status).toBe(200);
    expect((await call('PUT', '/v1/templates/spring-offer', { key: salesOps, body: { subject: 'x', html: 'x' } })).status).toBe(403);
    expect((await call('POST', '/v1/templates', { key: manager, body: { ...offer, key: 'managers' } })).status).toBe(403);
    expect((await call('GET', '/v1/templates', { key: stack.keys.rep })).status).toBe(403);
    expect((await call('POST', '/v1/templates', { key: stack.keys.admin, body: { ...offer, key: 'by-admin' } })).status).toBe(201);
  });

  it('answers 404 for an unknown key and 400 for a malformed one', async () => {
    expect((await call('GET', '/v1/templates/nothing-here')).status).toBe(404);
    expect((await call('PUT', '/v1/templates/nothing-here', { body: { subject: 'x', html: 'x' } })).status).toBe(404);
    expect((await call('GET', '/v1/templates/Bad%20Key')).status).toBe(400);
  });

  it('is documented in the OpenAPI document', async () => {
    const res = await fetch(`${stack.baseUrl}/v1/openapi.json`);
    const document = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(document.paths['/v1/templates']!)).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(document.paths['/v1/templates/{key}']!)).toEqual(expect.arrayContaining(['get', 'put']));
    expect(document.paths['/v1/templates/{key}/preview']!.post).toBeDefined();
    expect(document.paths['/v1/templates/{key}/versions']!.get).toBeDefined();
  });
});
