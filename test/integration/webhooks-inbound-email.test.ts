import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createUnsubscribeToken } from '../../domain/unsubscribe-token';
import { contactStateQuery } from '../../workflows/contact-lifecycle';
import { contactWorkflowId } from '../../workflows/workflow-ids';
import { contactWithSentEmail } from '../support/fixtures';
import { eventually, startTestStack, type TestStack } from '../support/stack';

const replyDomain = 'reply.touchpoint.test';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ REPLY_DOMAIN: replyDomain });
  await stack.startWorker();
});
afterAll(() => stack.close());

const prisma = () => stack.db.prisma;
const inboundPath = (secret = stack.config.SENDGRID_INBOUND_SECRET!) => `/v1/webhooks/sendgrid/inbound/${secret}`;

interface InboundMail {
  from: string;
  to: string;
  subject: string;
  text?: string;
  headers?: string[];
  charsets?: Record<string, string>;
}

/** A multipart post shaped like SendGrid Inbound Parse's. */
function parseForm(mail: InboundMail): FormData {
  const form = new FormData();
  const messageId = `<${randomUUID()}@mail.example.com>`;
  form.set('headers', [`Message-ID: ${messageId}`, `From: ${mail.from}`, `To: ${mail.to}`, `Subject: ${mail.subject}`, ...(mail.headers ?? [])].join('\n'));
  form.set('from', mail.from);
  form.set('to', mail.to);
  form.set('subject', mail.subject);
  form.set('text', mail.text ?? '');
  form.set('envelope', JSON.stringify({ to: [mail.to.replace(/^.*<|>.*$/g, '')], from: mail.from.replace(/^.*<|>.*$/g, '') }));
  form.set('charsets', JSON.stringify(mail.charsets ?? { to: 'UTF-8', from: 'UTF-8', subject: 'UTF-8', text: 'UTF-8' }));
  form.set('spam_score', '0.1');
  return form;
}

/**
 * The same form written by hand, so a field can carry bytes in another charset (FormData
 * would send a Buffer as a file upload).
 */
function rawMultipart(form: FormData, overrides: Record<string, Buffer>): { body: Buffer; contentType: string } {
  const boundary = `xYzZY${randomUUID()}`;
  const parts: Buffer[] = [];
  const fields = new Map<string, Buffer>();
  for (const [name, value] of form.entries()) fields.set(name, Buffer.from(String(value), 'utf8'));
  for (const [name, value] of Object.entries(overrides)) fields.set(name, value);
  for (const [name, value] of fields) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`), value, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function post(body: FormData | string | Buffer, path = inboundPath(), contentType?: string) {
  const res = await fetch(`${stack.baseUrl}${path}`, { method: 'POST', body, ...(contentType ? { headers: { 'content-type': contentType } } : {}) });
  const text = await res.text();
  return { status: res.status, json: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown> };
}

let counter = 0;
async function emailedContact() {
  counter += 1;
  const sent = await contactWithSentEmail(prisma(), { addressPrefix: `reply-${counter}`, firstName: 'Replier', subject: 'Pricing', status: 'delivered' });
  return { contact: sent.contact, message: sent.message, address: sent.address, providerMessageId: sent.providerMessageId! };
}

const state = (contactId: string) => stack.client.workflow.getHandle(contactWorkflowId(contactId)).query(contactStateQuery);

describe('Inbound Parse access', () => {
  it('answers 404 to a wrong secret and 415 to a body that is not multipart, storing nothing', async () => {
    const { address } = await emailedContact();
    const before = await prisma().activity.count();
    expect((await post(parseForm({ from: address, to: `hello@${replyDomain}`, subject: 'Hi' }), inboundPath('wrong-secret'))).status).toBe(404);
    expect((await post('{"from":"x"}', inboundPath(), 'application/json')).status).toBe(415);
    expect(await prisma().activity.count()).toBe(before);
  });

  it('answers 413 to a post over 10 MB', async () => {
    const form = parseForm({ from: 'big@example.com', to: `hello@${replyDomain}`, subject: 'Big' });
    form.set('attachment1', new Blob([Buffer.alloc(10 * 1024 * 1024 + 1, 'a')]), 'big.bin');
    expect((await post(form)).status).toBe(413);
  });
});

describe('replies', () => {
  it('logs a reply to our reply+ address on the contact and signals it to the workflow', async () => {
    const { contact, message, address } = await emailedContact();
    const reply = await post(parseForm({ from: `Jane Replier <${address.toUpperCase()}>`, to: `Touchpoint <reply+${message.id}@${replyDomain}>`, subject: 'Re: Pricing', text: 'Yes, let us talk on Monday.\n\nOn Tue, Nov 24, 2026 Touchpoint wrote:\n> Pricing for you' }));
    expect(reply).toEqual({ status: 200, json: { status: 'reply' } });
    const activity = await prisma().activity.findFirstOrThrow({ where: { contactId: contact.id, type: 'email' } });
    expect(activity.subject).toBe('Re: Pricing');
    expect(activity.data).toMatchObject({ direction: 'inbound', messageId: message.id, autoReply: false, excerpt: 'Yes, let us talk on Monday.' });
    await eventually(() => state(contact.id), (value) => Boolean(value.lastReplyAt));
  });

  it('matches the answered message through In-Reply-To when the reply went to another address', async () => {
    const { contact, message, address, providerMessageId } = await emailedContact();
    await post(parseForm({ from: address, to: `sales@${replyDomain}`, subject: 'Re: Pricing', text: 'Interested.', headers: [`In-Reply-To: <${providerMessageId}.filter0123@ismtpd.sendgrid.net>`] }));
    const activity = await prisma().activity.findFirstOrThrow({ where: { contactId: contact.id, type: 'email' } });
    expect(activity.data).toMatchObject({ messageId: message.id });
  });

  it('logs an out-of-office reply as automatic and does not signal it', async () => {
    const { contact, message, address } = await emailedContact();
    const reply = await post(parseForm({ from: address, to: `reply+${message.id}@${replyDomain}`, subject: 'Automatic reply: Pricing', text: 'I am away until Monday.', headers: ['Auto-Submitted: auto-replied'] }));
    expect(reply.json).toEqual({ status: 'auto_reply' });
    const activity = await prisma().activity.findFirstOrThrow({ where: { contactId: contact.id, type: 'email' } });
    expect(activity.data).toMatchObject({ autoReply: true, autoReplyReason: 'header:auto-submitted=auto-replied', messageId: message.id });
    // Nothing was signalled, so the contact (created without a form) has no workflow at all.
    await expect(state(contact.id)).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('stores a redelivered post (same Message-ID) once', async () => {
    const { contact, message, address } = await emailedContact();
    const form = parseForm({ from: address, to: `reply+${message.id}@${replyDomain}`, subject: 'Re: Pricing', text: 'Call me.' });
    expect((await post(form)).json).toEqual({ status: 'reply' });
    expect((await post(form)).json).toEqual({ status: 'duplicate' });
    expect(await prisma().activity.count({ where: { contactId: contact.id } })).toBe(1);
  });

  it('decodes the text in the charset SendGrid declares', async () => {
    const { contact, message, address } = await emailedContact();
    const form = parseForm({ from: address, to: `reply+${message.id}@${replyDomain}`, subject: 'Re: Pricing', charsets: { text: 'iso-8859-1', subject: 'UTF-8' } });
    const { body, contentType } = rawMultipart(form, { text: Buffer.from('Grüße aus Köln', 'latin1') });
    expect((await post(body, inboundPath(), contentType)).json).toEqual({ status: 'reply' });
    const activity = await prisma().activity.findFirstOrThrow({ where: { contactId: contact.id } });
    expect(activity.data).toMatchObject({ excerpt: 'Grüße aus Köln' });
  });

  it('answers 200 to mail from a stranger about nothing we sent, and logs nothing', async () => {
    const before = await prisma().activity.count();
    const reply = await post(parseForm({ from: 'stranger@example.org', to: `hello@${replyDomain}`, subject: 'Hello', text: 'Who are you?' }));
    expect(reply.json).toEqual({ status: 'unmatched' });
    expect(await prisma().activity.count()).toBe(before);
  });
});

describe('List-Unsubscribe by email', () => {
  it('revokes email consent when the unsubscribe mailto arrives with a genuine token', async () => {
    const { contact, address } = await emailedContact();
    const token = createUnsubscribeToken(stack.config.UNSUBSCRIBE_SECRET, { contactId: contact.id, channel: 'email' });
    const reply = await post(parseForm({ from: address, to: `unsubscribe@${replyDomain}`, subject: `unsubscribe-${token}` }));
    expect(reply.json).toEqual({ status: 'unsubscribed' });
    expect(await prisma().consentEvent.findFirstOrThrow({ where: { contactId: contact.id } })).toMatchObject({ channel: 'email', status: 'revoked', source: 'list_unsubscribe', method: 'mailto' });
  });

  it('ignores a forged token: the mail is handled like any other', async () => {
    const { contact, address } = await emailedContact();
    const token = createUnsubscribeToken('some-other-secret-of-at-least-32-chars!!', { contactId: contact.id, channel: 'email' });
    await post(parseForm({ from: address, to: `unsubscribe@${replyDomain}`, subject: `unsubscribe-${token}` }));
    expect(await prisma().consentEvent.count({ where: { contactId: contact.id } })).toBe(0);
  });
});
