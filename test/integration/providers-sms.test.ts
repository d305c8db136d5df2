import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../activities';
import { createProviders } from '../../activities/providers';
import type { HistoryEntry } from '../../activities/providers/outbox';
import type { TemplatedSmsRequest } from '../../activities/sms-sending';
import { TemplateRenderer, templatesRoot } from '../../activities/templates';
import { TwilioSmsProvider } from '../../activities/providers/twilio-sms';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio-fake';
import { startTestStack, type TestStack } from '../support/stack';
import type { sendOneSms } from './providers-workflows';

/**
 * Exactly-once SMS through the twilio package against the Twilio fake, with real Temporal
 * retries (a workflow of the tests' own, since no product workflow sends SMS yet) and
 * PostgreSQL. Twilio has a lookup API, so an unresolved send is reconciled from its Messages list.
 */

const accountSid = `AC${'b'.repeat(32)}`;
const authToken = 'sms-test-auth-token';
const from = '+15005550006';
const reconcileWindowSeconds = 20;

let twilio: TwilioFake;
let stack: TestStack;
let worker: Worker;
let running: Promise<void>;
let workerConnection: NativeConnection;
const taskQueue = `sms-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  twilio = await startTwilioFake({ accountSid, authToken });
  stack = await startTestStack({
    TWILIO_ACCOUNT_SID: accountSid,
    TWILIO_AUTH_TOKEN: authToken,
    TWILIO_FROM: from,
    TWILIO_API_BASE_URL: twilio.url,
    TWILIO_WEBHOOK_BASE_URL: 'https://hooks.example.com',
    PROVIDER_TIMEOUT_MS: '1500',
    MESSAGE_RECONCILE_WINDOW_SECONDS: String(reconcileWindowSeconds),
  });
  const providers = createProviders(stack.config);
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./providers-workflows'),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  workerConnection = await NativeConnection.connect({ address: stack.config.TEMPORAL_ADDRESS });
  worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle: { code },
    activities: createActivities({
      prisma: stack.db.prisma,
      logger: pino({ level: 'silent' }),
      emailProvider: providers.email,
      smsProvider: providers.sms,
      reconcileWindowMs: providers.reconcileWindowMs,
      templates: new TemplateRenderer(templatesRoot, null, { sender: { company: 'Touchpoint' } }),
      emailFrom: { address: stack.config.EMAIL_FROM, name: stack.config.EMAIL_FROM_NAME },
      publicUrl: 'http://localhost',
    }),
  });
  running = worker.run();
}, 90_000);
afterAll(async () => {
  worker.shutdown();
  await running;
  await workerConnection.close();
  await stack.close();
  await twilio.close();
});

interface ContactSetup {
  phone?: string;
  consent?: 'granted' | 'revoked';
}

async function createContact({ phone, consent }: ContactSetup): Promise<string> {
  const contact = await stack.db.prisma.contact.create({
    data: {
      firstName: 'Ada',
      ...(phone ? { phones: { create: [{ e164: phone, isPrimary: true }] } } : {}),
      ...(consent ? { consents: { create: [{ channel: 'sms', status: consent, source: 'test', at: new Date() }] } } : {}),
    },
  });
  return contact.id;
}

function send(request: Omit<TemplatedSmsRequest, 'idempotencyKey'> & { idempotencyKey?: string }) {
  const full: TemplatedSmsRequest = { idempotencyKey: `test:${request.contactId}:${request.templateKey}`, ...request };
  return stack.client.workflow.execute<typeof sendOneSms>('sendOneSms', {
    taskQueue,
    workflowId: `sms-test-${randomBytes(6).toString('hex')}`,
    args: [full],
  });
}

const sentTo = (phone: string) => twilio.received().filter((message) => message.to === phone);
const messageFor = (contactId: string) => stack.db.prisma.message.findFirstOrThrow({ where: { contactId, channel: 'sms' } });
const historyOf = (row: { statusHistory: unknown }) => row.statusHistory as HistoryEntry[];
const outboxEvents = (row: { statusHistory: unknown }) => historyOf(row).flatMap((entry) => (entry.event ? [entry.event] : []));

describe('SMS through Twilio', () => {
  it('is sent once to the primary phone, with a StatusCallback that names the Message, and a replay sends nothing', async () => {
    const phone = '+14155550111';
    const contactId = await createContact({ phone });
    const outcome = await send({ contactId, templateKey: 'welcome', transactional: true });
    expect(outcome.status).toBe('accepted');
    const message = await messageFor(contactId);
    const [sms, ...more] = sentTo(phone);
    expect(more).toHaveLength(0);
    expect(message).toMatchObject({ status: 'accepted', provider: 'twilio', providerMessageId: sms!.sid, toAddress: phone, fromAddress: from });
    expect(sms).toMatchObject({ from, body: message.text });
    expect(message.text).toMatch(/^Hi Ada, /);
    expect(sms!.status_callback).toBe(`https://hooks.example.com/v1/webhooks/twilio/status?messageId=${message.id}`);

    // The same business key again (a replayed or repeated step): found, not resent.
    expect(await send({ contactId, templateKey: 'welcome', transactional: true })).toEqual({ status: 'already_sent', messageId: message.id });
    expect(sentTo(phone)).toHaveLength(1);
  });

  it('needs granted SMS consent for marketing, lets transactional through without it, and never sends after a revocation', async () => {
    const noConsent = await createContact({ phone: '+14155550112' });
    expect(await send({ contactId: noConsent, templateKey: 'welcome', transactional: false })).toEqual({ status: 'skipped', reason: 'no_consent' });
    expect((await send({ contactId: noConsent, templateKey: 'welcome', transactional: true })).status).toBe('accepted');

    const granted = await createContact({ phone: '+14155550113', consent: 'granted' });
    expect((await send({ contactId: granted, templateKey: 'welcome', transactional: false })).status).toBe('accepted');

    const revoked = await createContact({ phone: '+14155550114', consent: 'revoked' });
    expect(await send({ contactId: revoked, templateKey: 'welcome', transactional: true })).toEqual({ status: 'skipped', reason: 'no_consent' });
    expect(sentTo('+14155550114')).toHaveLength(0);

    const noPhone = await createContact({});
    expect(await send({ contactId: noPhone, templateKey: 'welcome', transactional: true })).toEqual({ status: 'skipped', reason: 'no_phone_number' });
  });

  it("marks the message failed on Twilio's 21610 (unsubscribed) with its reason and logs it on the contact, without retrying", async () => {
    const phone = '+14155550115';
    twilio.unsubscribe(phone);
    const contactId = await createContact({ phone });
    const before = twilio.createRequestCount();
    const outcome = await send({ contactId, templateKey: 'welcome', transactional: true });
    const message = await messageFor(contactId);
    expect(outcome).toEqual({ status: 'failed', messageId: message.id, reason: '21610 Attempt to send to unsubscribed recipient' });
    expect(message).toMatchObject({ status: 'failed', error: '21610 Attempt to send to unsubscribed recipient' });
    const activities = await stack.db.prisma.activity.findMany({ where: { contactId, type: 'sms' } });
    expect(activities.map((activity) => activity.subject)).toEqual(['SMS not sent: 21610 Attempt to send to unsubscribed recipient']);
    expect(twilio.createRequestCount() - before).toBe(1);
  });
});

describe('faults between Touchpoint and Twilio', () => {
  it('a message Twilio took before the answer timed out is found in the Messages list and not sent again', async () => {
    const phone = '+14155550116';
    const contactId = await createContact({ phone });
    twilio.failNext(1, { acceptThenHangMs: 5_000 });
    const before = twilio.createRequestCount();
    const outcome = await send({ contactId, templateKey: 'welcome', transactional: true });
    expect(outcome.status).toBe('accepted');
    const message = await messageFor(contactId);
    expect(sentTo(phone)).toHaveLength(1);
    expect(twilio.createRequestCount() - before).toBe(1);
    expect(message).toMatchObject({ status: 'accepted', providerMessageId: sentTo(phone)[0]!.sid });
    expect(outboxEvents(message)).toEqual(['call', 'ambiguous', 'reconciled']);
  });

  it('a request lost in a timeout is looked for, and with no trace within the window sent once more', async () => {
    const phone = '+14155550117';
    const contactId = await createContact({ phone });
    twilio.failNext(1, { hang: true });
    const outcome = await send({ contactId, templateKey: 'welcome', transactional: true });
    expect(outcome.status).toBe('accepted');
    const message = await messageFor(contactId);
    expect(sentTo(phone)).toHaveLength(1);
    expect(message.providerMessageId).toBe(sentTo(phone)[0]!.sid);
    const history = historyOf(message);
    const calls = history.filter((entry) => entry.event === 'call');
    expect(calls.map((call) => Boolean(call.resend))).toEqual([false, true]);
    expect(Date.parse(calls[1]!.at) - Date.parse(calls[0]!.at)).toBeGreaterThanOrEqual(reconcileWindowSeconds * 1000);
    expect(twilio.listRequestCount()).toBeGreaterThan(0);
  }, 90_000);

  it('a message found still in `sending` (its worker died mid-call) is resolved from the Messages list, not resent', async () => {
    const phone = '+14155550118';
    const contactId = await createContact({ phone });
    const body = 'Hi Ada, see you tomorrow at 10:00.';
    const idempotencyKey = `test:${contactId}:died-mid-call`;
    // What a worker killed mid-call leaves behind: the row in `sending` with an open call...
    const startedAt = new Date();
    const row = await stack.db.prisma.message.create({
      data: {
        idempotencyKey, contactId, channel: 'sms', templateKey: 'welcome', transactional: true, toAddress: phone, fromAddress: from, text: body, provider: 'twilio', status: 'sending',
        statusHistory: [{ status: 'pending', at: startedAt.toISOString() }, { status: 'sending', at: startedAt.toISOString(), event: 'call', call: 1 }],
      },
    });
    // ...and the message at Twilio, which took it.
    const provider = new TwilioSmsProvider({ accountSid, authToken, from, apiBaseUrl: twilio.url, webhookBaseUrl: 'https://hooks.example.com', timeoutMs: 5_000 });
    const { providerMessageId } = await provider.send({ messageId: row.id, to: phone, body });
    const before = twilio.createRequestCount();

    const outcome = await send({ idempotencyKey, contactId, templateKey: 'welcome', transactional: true });
    expect(outcome).toEqual({ status: 'accepted', messageId: row.id });
    expect(twilio.createRequestCount()).toBe(before);
    expect(sentTo(phone)).toHaveLength(1);
    const message = await messageFor(contactId);
    expect(message).toMatchObject({ status: 'accepted', providerMessageId });
    expect(historyOf(message).find((entry) => entry.event === 'reconciled')?.reason).toBe('provider lookup');
  });
});
