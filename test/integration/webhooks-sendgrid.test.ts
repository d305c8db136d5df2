import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { createApp } from '../../api/app';
import { createMetrics } from '../../runtime/metrics';
import { contactStateQuery } from '../../workflows/contact-lifecycle';
import { contactWorkflowId } from '../../workflows/workflow-ids';
import { contactWithSentEmail } from '../support/fixtures';
import { eventually, startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  await stack.startWorker();
});
afterAll(() => stack.close());

const prisma = () => stack.db.prisma;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Signs like SendGrid: ECDSA P-256 / SHA-256 over timestamp + raw body, base64 DER. */
function signature(body: string, timestamp: string, key: KeyObject = stack.sendgridSigningKey): string {
  return sign('sha256', Buffer.from(timestamp + body), key).toString('base64');
}

async function post(
  body: string,
  options: { timestamp?: string; key?: KeyObject; signature?: string | null; contentType?: string; baseUrl?: string } = {},
): Promise<{ status: number; type: string | null; json: Record<string, unknown> }> {
  const timestamp = options.timestamp ?? String(nowSeconds());
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
  const sig = options.signature === undefined ? signature(body, timestamp, options.key) : options.signature;
  if (sig !== null) {
    headers['X-Twilio-Email-Event-Webhook-Signature'] = sig;
    headers['X-Twilio-Email-Event-Webhook-Timestamp'] = timestamp;
  }
  const res = await fetch(`${options.baseUrl ?? stack.baseUrl}/v1/webhooks/sendgrid`, { method: 'POST', headers, body });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, type: res.headers.get('content-type'), json };
}

const postEvents = (events: unknown[], options: Parameters<typeof post>[1] = {}) => post(JSON.stringify(events), options);

let counter = 0;
/** A contact with one email message already accepted by SendGrid. */
async function sentEmail(options: { providerMessageId?: string | null } = {}) {
  counter += 1;
  const sent = await contactWithSentEmail(prisma(), { addressPrefix: `sg-${counter}`, firstName: 'Webhook', subject: 'Hello', status: 'accepted', ...options });
  const xMessageId = sent.generatedId;
  return { contact: sent.contact, message: sent.message, address: sent.address, xMessageId, sgMessageId: `${xMessageId}.filterdrecv-5645d9c87-abcde-1-6745-0` };
}

function event(fields: Record<string, unknown>) {
  return { sg_event_id: randomUUID(), timestamp: nowSeconds(), ...fields };
}

async function snapshot() {
  const db = prisma();
  return {
    inbound: await db.inboundEvent.count(),
    events: await db.messageEvent.count(),
    consent: await db.consentEvent.count(),
    messages: (await db.message.findMany({ orderBy: { id: 'asc' }, select: { id: true, status: true, providerMessageId: true } })),
  };
}

describe('SendGrid event webhook authentication', () => {
  it('answers 401 without a signature and 403 with a forged, tampered or stale one, changing nothing', async () => {
    const { message, address, sgMessageId } = await sentEmail();
    const body = JSON.stringify([event({ event: 'delivered', email: address, sg_message_id: sgMessageId, messageId: message.id })]);
    const before = await snapshot();

    const missing = await post(body, { signature: null });
    expect(missing.status).toBe(401);
    expect(missing.type).toContain('application/problem+json');
    expect(missing.json.type).toBe('/problems/missing-signature');

    const otherKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    expect((await post(body, { key: otherKey })).status).toBe(403);
    const timestamp = String(nowSeconds());
    const tampered = body.replace('delivered', 'bounce');
    expect((await post(tampered, { timestamp, signature: signature(body, timestamp) })).status).toBe(403);
    expect((await post(body, { signature: 'not-a-signature' })).status).toBe(403);
    const stale = await post(body, { timestamp: String(nowSeconds() - 3600) });
    expect(stale.status).toBe(403);
    expect(stale.json.type).toBe('/problems/invalid-signature');

    expect(await snapshot()).toEqual(before);
  });

  it('answers 4xx to bodies that are not JSON, not an array, invalid or larger than 1 MB, changing nothing', async () => {
    const before = await snapshot();
    const notJson = await post('{"event": "delivered",');
    expect(notJson.status).toBe(400);
    expect(notJson.json.type).toBe('/problems/malformed-json');
    const notArray = await post(JSON.stringify({ event: 'delivered', timestamp: nowSeconds() }));
    expect(notArray.status).toBe(422);
    const invalidEvent = await post(JSON.stringify([{ event: 'delivered', timestamp: 'yesterday' }]));
    expect(invalidEvent.status).toBe(422);
    const huge = JSON.stringify([event({ event: 'delivered', email: 'x@example.com', padding: 'x'.repeat(1024 * 1024) })]);
    const tooLarge = await post(huge);
    expect(tooLarge.status).toBe(413);
    const wrongType = await post(JSON.stringify([]), { contentType: 'text/plain' });
    expect(wrongType.status).toBe(415);
    expect(await snapshot()).toEqual(before);
  });
});

describe('SendGrid events', () => {
  it('records a delivery, moves the message forward and appends to its status history', async () => {
    const { message, address, sgMessageId } = await sentEmail();
    const reply = await postEvents([event({ event: 'delivered', email: address, sg_message_id: sgMessageId, messageId: message.id, contactId: message.contactId })]);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ received: 1, recorded: 1, duplicates: 0, ignored: 0 });
    const stored = await prisma().message.findUniqueOrThrow({ where: { id: message.id }, include: { events: true } });
    expect(stored.status).toBe('delivered');
    expect((stored.statusHistory as Array<{ status: string }>).map((entry) => entry.status)).toEqual(['accepted', 'delivered']);
    expect(stored.events).toHaveLength(1);
    expect(stored.events[0]).toMatchObject({ provider: 'sendgrid', event: 'delivered' });
  });

  it('records the same sg_event_id once, however often SendGrid delivers it', async () => {
    const { message, address, sgMessageId } = await sentEmail();
    const batch = [event({ event: 'open', email: address, sg_message_id: sgMessageId, messageId: message.id })];
    expect((await postEvents(batch)).json).toMatchObject({ recorded: 1, duplicates: 0 });
    expect((await postEvents(batch)).json).toMatchObject({ recorded: 0, duplicates: 1 });
    expect(await prisma().messageEvent.count({ where: { messageId: message.id } })).toBe(1);
  });

  it('recognises a retried event that carries a new sg_event_id by message, event and timestamp', async () => {
    const { message, address, sgMessageId } = await sentEmail();
    const first = event({ event: 'delivered', email: address, sg_message_id: sgMessageId, messageId: message.id });
    expect((await postEvents([first])).json).toMatchObject({ recorded: 1 });
    expect((await postEvents([{ ...first, sg_event_id: randomUUID() }])).json).toMatchObject({ recorded: 0, duplicates: 1 });
    expect(await prisma().messageEvent.count({ where: { messageId: message.id } })).toBe(1);
  });

  it('never moves a message backwards when events arrive out of order', async () => {
    const { message, address, sgMessageId } = await sentEmail();
    const base = { email: address, sg_message_id: sgMessageId, messageId: message.id };
    const t = nowSeconds();
    await postEvents([event({ ...base, event: 'click', timestamp: t + 3, url: 'https://example.com/pricing' })]);
    await postEvents([event({ ...base, event: 'open', timestamp: t + 2 }), event({ ...base, event: 'delivered', timestamp: t + 1 }), event({ ...base, event: 'processed', timestamp: t })]);
    const stored = await prisma().message.findUniqueOrThrow({ where: { id: message.id } });
    expect(stored.status).toBe('clicked');
    expect((stored.statusHistory as Array<{ status: string }>).map((entry) => entry.status)).toEqual(['accepted', 'clicked']);
    // Every report is still kept as an event.
    expect(await prisma().messageEvent.count({ where: { messageId: message.id } })).toBe(4);
  });

  it('ignores event types it does not know, and events for messages it never sent', async () => {
    const reply = await postEvents([event({ event: 'machine_learning_thing', email: 'nobody@example.com' }), event({ event: 'delivered', email: 'stranger@example.com', sg_message_id: 'UNKNOWN.filter' })]);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ received: 2, ignored: 1, recorded: 1 });
  });

  it('matches a bounce without custom args through the provider id an earlier event stored, and signals a hard bounce', async () => {
    const { contact, message, address, sgMessageId, xMessageId } = await sentEmail({ providerMessageId: null });
    const t = nowSeconds();
    await postEvents([event({ event: 'processed', email: address, sg_message_id: sgMessageId, messageId: message.id, contactId: contact.id, timestamp: t })]);
    expect((await prisma().message.findUniqueOrThrow({ where: { id: message.id } })).providerMessageId).toBe(xMessageId);

    // The bounce comes from another SendGrid filter, so only the prefix of sg_message_id matches.
    const bounce = event({ event: 'bounce', type: 'bounce', email: address, sg_message_id: `${xMessageId}.other-filter-2`, timestamp: t + 5, reason: '550 5.1.1 The email account does not exist', bounce_classification: 'Invalid Address' });
    expect((await postEvents([bounce])).status).toBe(200);
    const stored = await prisma().message.findUniqueOrThrow({ where: { id: message.id }, include: { events: { orderBy: { occurredAt: 'asc' } } } });
    expect(stored.status).toBe('bounced');
    expect(stored.error).toBe('550 5.1.1 The email account does not exist');
    expect(stored.events.map((row) => row.event)).toEqual(['processed', 'bounce']);

    // The contact workflow applied it: the address is marked bounced with SendGrid's reason.
    const email = await eventually(
      () => prisma().contactEmail.findUniqueOrThrow({ where: { address } }),
      (row) => row.status === 'bounced',
    );
    expect(email.bounceReason).toBe('550 5.1.1 The email account does not exist');
    const inbound = await prisma().inboundEvent.findFirstOrThrow({ where: { source: 'sendgrid:message-event', externalId: { startsWith: `${xMessageId}.other-filter-2:bounce:` } } });
    expect(await prisma().emailBounce.findUnique({ where: { id: inbound.id } })).toMatchObject({ kind: 'hard', address });
  });

  it('records a block as undelivered and signals it as blocked, not as a hard bounce', async () => {
    const { contact, message, address, sgMessageId } = await sentEmail();
    await postEvents([event({ event: 'bounce', type: 'blocked', email: address, sg_message_id: sgMessageId, messageId: message.id, reason: '421 try again later', bounce_classification: 'Reputation' })]);
    const stored = await prisma().message.findUniqueOrThrow({ where: { id: message.id }, include: { events: true } });
    expect(stored.status).toBe('undelivered');
    expect(stored.events.map((row) => row.event)).toEqual(['blocked']);
    const bounce = await eventually(() => prisma().emailBounce.findFirst({ where: { address } }), (row) => row !== null);
    expect(bounce).toMatchObject({ kind: 'soft', contactId: contact.id, messageId: message.id });
    expect((await prisma().contactEmail.findUniqueOrThrow({ where: { address } })).status).toBe('valid');
  });

  it('revokes email consent on a spam report and on an unsubscribe, with evidence and an audit entry', async () => {
    const spam = await sentEmail();
    const unsub = await sentEmail();
    await prisma().contactConsent.create({ data: { contactId: spam.contact.id, channel: 'email', status: 'granted', source: 'form:demo-contact', at: new Date(Date.now() - 60_000) } });
    const t = nowSeconds();
    const reply = await postEvents([
      event({ event: 'spamreport', email: spam.address, sg_message_id: spam.sgMessageId, messageId: spam.message.id, timestamp: t }),
      event({ event: 'group_unsubscribe', email: unsub.address, sg_message_id: unsub.sgMessageId, messageId: unsub.message.id, asm_group_id: 42, timestamp: t }),
    ]);
    expect(reply.json).toMatchObject({ recorded: 2 });

    const spamConsent = await prisma().contactConsent.findUniqueOrThrow({ where: { contactId_channel: { contactId: spam.contact.id, channel: 'email' } } });
    expect(spamConsent).toMatchObject({ status: 'revoked', source: 'spam_report' });
    expect(await prisma().consentEvent.findFirstOrThrow({ where: { contactId: spam.contact.id } })).toMatchObject({ status: 'revoked', source: 'spam_report', method: 'sendgrid:spamreport' });
    expect((await prisma().message.findUniqueOrThrow({ where: { id: spam.message.id } })).status).toBe('spam_reported');
    expect(await prisma().auditLog.count({ where: { entityId: spam.contact.id, action: 'consent.revoked' } })).toBe(1);

    const unsubEvent = await prisma().consentEvent.findFirstOrThrow({ where: { contactId: unsub.contact.id } });
    expect(unsubEvent).toMatchObject({ channel: 'email', status: 'revoked', source: 'provider', method: 'sendgrid:group_unsubscribe' });
    expect(unsubEvent.evidence).toMatchObject({ messageId: unsub.message.id, asmGroupId: 42 });

    // Both were signalled to the contacts' workflows.
    for (const contactId of [spam.contact.id, unsub.contact.id]) {
      const state = await eventually(() => stack.client.workflow.getHandle(contactWorkflowId(contactId)).query(contactStateQuery), (value) => (value.handledEventIds ?? []).length === 1);
      expect(state.handledEventIds).toHaveLength(1);
    }
  });
});

describe('SendGrid webhook failures', () => {
  it('answers 5xx when the workflow cannot be signalled, and a redelivery signals what was stored', async () => {
    // The same app, but its Temporal client is closed: the signal after the database write fails.
    const connection = await Connection.connect({ address: stack.config.TEMPORAL_ADDRESS });
    const brokenClient = new Client({ connection, namespace: stack.config.TEMPORAL_NAMESPACE });
    await connection.close();
    const app = createApp({ prisma: prisma(), temporal: brokenClient, config: stack.config, logger: pino({ level: 'silent' }), metrics: createMetrics('api') });
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const brokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { contact, message, address, sgMessageId } = await sentEmail();
      const batch = [event({ event: 'bounce', type: 'bounce', email: address, sg_message_id: sgMessageId, messageId: message.id, reason: '550 no such user' })];
      const failed = await postEvents(batch, { baseUrl: brokenUrl });
      expect(failed.status).toBeGreaterThanOrEqual(500);

      // SendGrid retries the batch: it is a duplicate now, and the bounce still reaches the workflow.
      const retried = await postEvents(batch);
      expect(retried.status).toBe(200);
      expect(retried.json).toMatchObject({ duplicates: 1, recorded: 0 });
      await eventually(() => prisma().contactEmail.findUniqueOrThrow({ where: { address } }), (row) => row.status === 'bounced');
      expect(await prisma().messageEvent.count({ where: { messageId: message.id } })).toBe(1);
      expect(contact.id).toBeTruthy();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    }
  });
});
