import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createUnsubscribeToken, listUnsubscribeHeaders, unsubscribeLinks } from '../../domain/unsubscribe-token';
import { contactStateQuery } from '../../workflows/contact-lifecycle';
import { contactWorkflowId } from '../../workflows/workflow-ids';
import { eventually, startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  await stack.startWorker();
});
afterAll(() => stack.close());

const prisma = () => stack.db.prisma;

let counter = 0;
async function subscribedContact() {
  counter += 1;
  const address = `unsub-${counter}-${randomUUID().slice(0, 8)}@example.com`;
  const contact = await prisma().contact.create({
    data: {
      firstName: 'Subscriber',
      emails: { create: { address, isPrimary: true } },
      consents: { create: { channel: 'email', status: 'granted', source: 'form:demo-contact', at: new Date(Date.now() - 60_000) } },
    },
  });
  return { contact, address };
}

const tokenFor = (contactId: string, channel: 'email' | 'sms' = 'email') => createUnsubscribeToken(stack.config.UNSUBSCRIBE_SECRET, { contactId, channel });
const consentOf = (contactId: string) => prisma().contactConsent.findUnique({ where: { contactId_channel: { contactId, channel: 'email' } } });

async function request(method: 'GET' | 'POST', token: string, body?: { value: string | FormData; type?: string }, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.baseUrl}/u/${token}`, {
    method,
    headers: { ...(body?.type ? { 'content-type': body.type } : {}), ...headers },
    ...(body ? { body: body.value } : {}),
  });
  return { status: res.status, type: res.headers.get('content-type'), html: await res.text() };
}

const oneClick = { value: 'List-Unsubscribe=One-Click', type: 'application/x-www-form-urlencoded' };

describe('unsubscribe page', () => {
  it('GET shows a confirmation form that posts back to the same URL, and changes nothing', async () => {
    const { contact } = await subscribedContact();
    const page = await request('GET', tokenFor(contact.id));
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.html).toContain('<form method="post">');
    expect(page.html).toContain('<button type="submit">Unsubscribe</button>');
    expect((await consentOf(contact.id))?.status).toBe('granted');
    expect(await prisma().consentEvent.count({ where: { contactId: contact.id } })).toBe(0);
  });

  it('POST from the confirmation page unsubscribes with source unsubscribe_link, IP and user agent', async () => {
    const { contact } = await subscribedContact();
    const done = await request('POST', tokenFor(contact.id), { value: 'confirm=yes', type: 'application/x-www-form-urlencoded' }, { 'user-agent': 'Mozilla/5.0 (test)' });
    expect(done.status).toBe(200);
    expect(done.html).toContain('You are unsubscribed');
    expect(await consentOf(contact.id)).toMatchObject({ status: 'revoked', source: 'unsubscribe_link' });
    const event = await prisma().consentEvent.findFirstOrThrow({ where: { contactId: contact.id } });
    expect(event).toMatchObject({ channel: 'email', status: 'revoked', source: 'unsubscribe_link', method: 'confirmation_page', userAgent: 'Mozilla/5.0 (test)' });
    expect(event.ip).toMatch(/127\.0\.0\.1/);
    expect(await prisma().auditLog.findFirstOrThrow({ where: { entityId: contact.id, action: 'consent.revoked' } })).toMatchObject({ actorType: 'contact' });
  });

  it('a one-click POST (RFC 8058) unsubscribes at once with no cookie or page visit, source list_unsubscribe', async () => {
    const { contact } = await subscribedContact();
    const done = await request('POST', tokenFor(contact.id), oneClick);
    expect(done.status).toBe(200);
    expect(done.html).toContain('You are unsubscribed');
    expect(await consentOf(contact.id)).toMatchObject({ status: 'revoked', source: 'list_unsubscribe' });
    expect(await prisma().consentEvent.findFirstOrThrow({ where: { contactId: contact.id } })).toMatchObject({ source: 'list_unsubscribe', method: 'one_click' });
  });

  it('accepts the one-click body as multipart/form-data too', async () => {
    const { contact } = await subscribedContact();
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    expect((await request('POST', tokenFor(contact.id), { value: form })).status).toBe(200);
    expect(await consentOf(contact.id)).toMatchObject({ status: 'revoked', source: 'list_unsubscribe' });
  });

  it('the URL from listUnsubscribeHeaders works for one-click', async () => {
    const { contact } = await subscribedContact();
    const header = listUnsubscribeHeaders(stack.config, contact.id)['List-Unsubscribe'];
    const token = /\/u\/([A-Za-z0-9_-]+)>/.exec(header)![1]!;
    expect(unsubscribeLinks(stack.config, contact.id, 'email').url).toMatch(/\/u\/[A-Za-z0-9_-]+$/);
    expect((await request('POST', token, oneClick)).status).toBe(200);
    expect((await consentOf(contact.id))?.status).toBe('revoked');
  });

  it('records a repeated unsubscribe once', async () => {
    const { contact } = await subscribedContact();
    const token = tokenFor(contact.id);
    await request('POST', token, oneClick);
    await request('POST', token, oneClick);
    await request('POST', token, { value: 'confirm=yes', type: 'application/x-www-form-urlencoded' });
    expect(await prisma().consentEvent.count({ where: { contactId: contact.id } })).toBe(1);
  });

  it('tells the contact workflow, so sequences can stop', async () => {
    const { contact } = await subscribedContact();
    await request('POST', tokenFor(contact.id), oneClick);
    const event = await prisma().consentEvent.findFirstOrThrow({ where: { contactId: contact.id } });
    await eventually(() => stack.client.workflow.getHandle(contactWorkflowId(contact.id)).query(contactStateQuery), (state) => (state.handledEventIds ?? []).includes(event.id));
  });
});

describe('tokens that must not work', () => {
  it('a forged or tampered token gets a 400 page without details and changes nothing', async () => {
    const { contact } = await subscribedContact();
    const genuine = tokenFor(contact.id);
    const forged = createUnsubscribeToken('an-attacker-guessed-secret-of-32-chars!', { contactId: contact.id, channel: 'email' });
    const bytes = Buffer.from(genuine, 'base64url');
    bytes[5] = bytes[5]! ^ 0xff;
    for (const token of [forged, bytes.toString('base64url'), 'not-a-token', `${genuine}x`]) {
      for (const method of ['GET', 'POST'] as const) {
        const reply = await request(method, token, method === 'POST' ? oneClick : undefined);
        expect(reply.status).toBe(400);
        expect(reply.type).toContain('text/html');
        expect(reply.html).toContain('This link is not valid');
        expect(reply.html).not.toMatch(/signature|hmac|secret|contact/i);
      }
    }
    expect((await consentOf(contact.id))?.status).toBe('granted');
    expect(await prisma().consentEvent.count({ where: { contactId: contact.id } })).toBe(0);
  });

  it('one contact\'s token unsubscribes only that contact, and only from its channel', async () => {
    const a = await subscribedContact();
    const b = await subscribedContact();
    await prisma().contactConsent.create({ data: { contactId: a.contact.id, channel: 'sms', status: 'granted', source: 'api', at: new Date(Date.now() - 60_000) } });
    await request('POST', tokenFor(a.contact.id, 'sms'), { value: 'confirm=yes', type: 'application/x-www-form-urlencoded' });
    const aConsents = await prisma().contactConsent.findMany({ where: { contactId: a.contact.id }, orderBy: { channel: 'asc' } });
    expect(aConsents.map(({ channel, status }) => ({ channel, status }))).toEqual([
      { channel: 'email', status: 'granted' },
      { channel: 'sms', status: 'revoked' },
    ]);
    expect((await consentOf(b.contact.id))?.status).toBe('granted');
    expect(await prisma().consentEvent.count({ where: { contactId: b.contact.id } })).toBe(0);
  });
});

describe('consent ledger', () => {
  it('a form opt-in is in the ledger, and a later unsubscribe revokes it', async () => {
    const res = await fetch(`${stack.baseUrl}/v1/forms/demo-contact/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `ledger-${randomUUID().slice(0, 8)}@example.com`, consent: true, pageUrl: 'https://example.com/signup' }),
    });
    const { contactId } = (await res.json()) as { contactId: string };
    expect(await consentOf(contactId)).toMatchObject({ status: 'granted', source: 'form:demo-contact' });
    await request('POST', tokenFor(contactId), oneClick);
    const ledger = await prisma().consentEvent.findMany({ where: { contactId }, orderBy: { at: 'asc' } });
    expect(ledger.map(({ status, source, method }) => ({ status, source, method }))).toEqual([
      { status: 'granted', source: 'form:demo-contact', method: 'checkbox' },
      { status: 'revoked', source: 'list_unsubscribe', method: 'one_click' },
    ]);
    expect(ledger[0]!.evidence).toMatchObject({ formKey: 'demo-contact', pageUrl: 'https://example.com/signup' });
    expect(await consentOf(contactId)).toMatchObject({ status: 'revoked' });
    expect(await prisma().auditLog.count({ where: { entityId: contactId, action: { in: ['consent.granted', 'consent.revoked'] } } })).toBe(2);
  });
});
