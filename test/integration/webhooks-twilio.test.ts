import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import twilio from 'twilio';
import { startTestStack, type TestStack } from '../support/stack';

// Twilio calls the public URL (behind a proxy, with a path prefix); the signature covers it.
const publicBase = 'https://sms.touchpoint.test/crm';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ TWILIO_WEBHOOK_BASE_URL: publicBase, SMS_HELP_TEXT: 'Acme: reply STOP to opt out. Help: acme.test/help' });
});
afterAll(() => stack.close());

const prisma = () => stack.db.prisma;
const sid = () => `SM${randomBytes(16).toString('hex')}`;

async function post(path: string, params: Record<string, string>, options: { signature?: string | null; signedUrl?: string; contentType?: string } = {}) {
  const signature = options.signature === undefined ? twilio.getExpectedTwilioSignature(stack.config.TWILIO_AUTH_TOKEN!, options.signedUrl ?? `${publicBase}${path}`, params) : options.signature;
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/x-www-form-urlencoded' };
  if (signature !== null) headers['X-Twilio-Signature'] = signature;
  const body = options.contentType === 'application/json' ? JSON.stringify(params) : new URLSearchParams(params).toString();
  const res = await fetch(`${stack.baseUrl}${path}`, { method: 'POST', headers, body });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

let counter = 0;
async function textedContact() {
  counter += 1;
  const phone = `+1415555${String(1000 + counter).padStart(4, '0')}`;
  const contact = await prisma().contact.create({ data: { firstName: 'Texter', phones: { create: { e164: phone, isPrimary: true } } } });
  const providerSid = sid();
  const message = await prisma().message.create({
    data: {
      idempotencyKey: `test:${randomUUID()}`,
      contactId: contact.id,
      channel: 'sms',
      toAddress: phone,
      fromAddress: '+14155550000',
      text: 'Hi from Acme',
      provider: 'twilio',
      providerMessageId: providerSid,
      status: 'accepted',
      statusHistory: [{ status: 'accepted', at: new Date().toISOString() }],
    },
  });
  return { contact, message, phone, providerSid };
}

const statusPath = (messageId?: string) => `/v1/webhooks/twilio/status${messageId ? `?messageId=${messageId}` : ''}`;
const counts = async () => ({ inbound: await prisma().inboundEvent.count(), events: await prisma().messageEvent.count(), consent: await prisma().consentEvent.count(), activities: await prisma().activity.count() });

describe('Twilio signatures', () => {
  it('answers 403 to a missing, wrong or wrong-URL signature, changing nothing', async () => {
    const { message, providerSid, phone } = await textedContact();
    const params = { MessageSid: providerSid, MessageStatus: 'delivered', To: phone, From: '+14155550000' };
    const before = await counts();
    expect((await post(statusPath(message.id), params, { signature: null })).status).toBe(403);
    expect((await post(statusPath(message.id), params, { signature: 'bm90IGEgc2lnbmF0dXJl' })).status).toBe(403);
    // Signed for the URL this process listens on, not the public one Twilio was given.
    expect((await post(statusPath(message.id), params, { signedUrl: `${stack.baseUrl}${statusPath(message.id)}` })).status).toBe(403);
    // A signature for another message's URL does not carry over.
    expect((await post(statusPath(message.id), params, { signedUrl: `${publicBase}${statusPath(randomUUID())}` })).status).toBe(403);
    // Changing a parameter after signing breaks it.
    const signature = twilio.getExpectedTwilioSignature(stack.config.TWILIO_AUTH_TOKEN!, `${publicBase}${statusPath(message.id)}`, params);
    expect((await post(statusPath(message.id), { ...params, MessageStatus: 'failed' }, { signature })).status).toBe(403);
    const inbound = await post('/v1/webhooks/twilio/inbound', { MessageSid: sid(), From: phone, To: '+14155550000', Body: 'STOP' }, { signature: null });
    expect(inbound.status).toBe(403);
    expect(await counts()).toEqual(before);
    expect((await prisma().message.findUniqueOrThrow({ where: { id: message.id } })).status).toBe('accepted');
  });

  it('answers 415 to a body that is not form-encoded', async () => {
    const reply = await post(statusPath(), { MessageSid: sid(), MessageStatus: 'sent' }, { contentType: 'application/json' });
    expect(reply.status).toBe(415);
  });
});

describe('Twilio status callbacks', () => {
  it('never move a message backwards, and record each status once', async () => {
    const { message, providerSid, phone } = await textedContact();
    const callback = (status: string) => post(statusPath(message.id), { MessageSid: providerSid, MessageStatus: status, To: phone, From: '+14155550000' });
    for (const status of ['delivered', 'sent', 'queued', 'delivered', 'sending']) expect((await callback(status)).status).toBe(204);
    const stored = await prisma().message.findUniqueOrThrow({ where: { id: message.id }, include: { events: true } });
    expect(stored.status).toBe('delivered');
    expect((stored.statusHistory as Array<{ status: string }>).map((entry) => entry.status)).toEqual(['accepted', 'delivered']);
    expect(stored.events.map((row) => row.event).sort()).toEqual(['delivered', 'queued', 'sending', 'sent']);
  });

  it('find the message by MessageSid when the callback URL has no messageId', async () => {
    const { message, providerSid } = await textedContact();
    expect((await post(statusPath(), { MessageSid: providerSid, MessageStatus: 'sent' })).status).toBe(204);
    expect((await prisma().message.findUniqueOrThrow({ where: { id: message.id } })).status).toBe('sent');
  });

  it('record an SMS opt-out when Twilio reports error 21610', async () => {
    const { contact, message, providerSid, phone } = await textedContact();
    await post(statusPath(message.id), { MessageSid: providerSid, MessageStatus: 'failed', ErrorCode: '21610', To: phone });
    const stored = await prisma().message.findUniqueOrThrow({ where: { id: message.id } });
    expect(stored).toMatchObject({ status: 'failed', error: 'twilio:21610' });
    const consent = await prisma().contactConsent.findUniqueOrThrow({ where: { contactId_channel: { contactId: contact.id, channel: 'sms' } } });
    expect(consent).toMatchObject({ status: 'revoked', source: 'provider' });
    expect(await prisma().consentEvent.findFirstOrThrow({ where: { contactId: contact.id } })).toMatchObject({ channel: 'sms', method: 'twilio:21610' });
  });
});

describe('Twilio inbound texts', () => {
  const inbound = (params: Record<string, string>) => post('/v1/webhooks/twilio/inbound', { To: '+14155550000', NumMedia: '0', ...params });

  it('STOP opts out, START opts back in, each in the consent ledger, answered with empty TwiML', async () => {
    const { contact, phone } = await textedContact();
    const stop = await inbound({ MessageSid: sid(), From: phone, Body: ' stop ' });
    expect(stop.status).toBe(200);
    expect(stop.type).toContain('text/xml');
    expect(stop.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    const consent = () => prisma().contactConsent.findUniqueOrThrow({ where: { contactId_channel: { contactId: contact.id, channel: 'sms' } } });
    expect(await consent()).toMatchObject({ status: 'revoked', source: 'sms_keyword' });

    await inbound({ MessageSid: sid(), From: phone, Body: 'START' });
    expect(await consent()).toMatchObject({ status: 'granted', source: 'sms_keyword' });
    const ledger = await prisma().consentEvent.findMany({ where: { contactId: contact.id }, orderBy: { at: 'asc' } });
    expect(ledger.map(({ status, source, method }) => ({ status, source, method }))).toEqual([
      { status: 'revoked', source: 'sms_keyword', method: 'keyword:STOP' },
      { status: 'granted', source: 'sms_keyword', method: 'keyword:START' },
    ]);
    expect(ledger[0]!.evidence).toMatchObject({ from: phone, body: ' stop ' });
  });

  it('HELP is answered with SMS_HELP_TEXT and changes no consent', async () => {
    const { contact, phone } = await textedContact();
    const help = await inbound({ MessageSid: sid(), From: phone, Body: 'help' });
    expect(help.status).toBe(200);
    expect(help.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Acme: reply STOP to opt out. Help: acme.test/help</Message></Response>');
    expect(await prisma().consentEvent.count({ where: { contactId: contact.id } })).toBe(0);
  });

  it('records a redelivered STOP (same MessageSid) once', async () => {
    const { contact, phone } = await textedContact();
    const params = { MessageSid: sid(), From: phone, Body: 'STOP' };
    expect((await inbound(params)).status).toBe(200);
    expect((await inbound(params)).status).toBe(200);
    expect(await prisma().consentEvent.count({ where: { contactId: contact.id } })).toBe(1);
    expect(await prisma().activity.count({ where: { contactId: contact.id, type: 'sms' } })).toBe(1);
  });

  it('logs an ordinary text as an sms activity on the contact', async () => {
    const { contact, phone } = await textedContact();
    const messageSid = sid();
    const reply = await inbound({ MessageSid: messageSid, From: phone, Body: 'Please stop by on Tuesday' });
    expect(reply.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    const activity = await prisma().activity.findFirstOrThrow({ where: { contactId: contact.id, type: 'sms' } });
    expect(activity.data).toMatchObject({ direction: 'inbound', body: 'Please stop by on Tuesday', messageSid, keyword: null });
    expect(await prisma().consentEvent.count({ where: { contactId: contact.id } })).toBe(0);
  });

  it('answers a text from an unknown number with empty TwiML and stores nothing', async () => {
    const before = await counts();
    const reply = await inbound({ MessageSid: sid(), From: '+14155559999', Body: 'STOP' });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(await counts()).toEqual(before);
  });
});
