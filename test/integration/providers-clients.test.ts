import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createProviders } from '../../activities/providers';
import type { OutboundEmail } from '../../activities/providers/email-provider';
import { nextStep, readCalls } from '../../activities/providers/outbox';
import { parseRetryAfter, ProviderError } from '../../activities/providers/provider-error';
import { SendGridEmailProvider } from '../../activities/providers/sendgrid-email';
import { TwilioSmsProvider } from '../../activities/providers/twilio-sms';
import { loadConfig } from '../../runtime/config';
import { startSendGridFake, type SendGridFake } from '../fakes/sendgrid-fake';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio-fake';

/**
 * The official clients (@sendgrid/mail, twilio) against the local fakes: requests have the
 * real wire shape, and every kind of provider answer maps to the right ProviderError.
 */

const apiKey = 'SG.test-key';
const accountSid = `AC${'a'.repeat(32)}`;
const authToken = 'test-auth-token';
const from = '+15005550006';

let sendgrid: SendGridFake;
let twilio: TwilioFake;

beforeAll(async () => {
  [sendgrid, twilio] = await Promise.all([startSendGridFake({ apiKey }), startTwilioFake({ accountSid, authToken })]);
});
afterAll(async () => {
  await Promise.all([sendgrid.close(), twilio.close()]);
});

const email = (overrides: Partial<OutboundEmail> = {}): OutboundEmail => ({
  messageId: '6f1c1d7e-4f4e-4d0e-9d59-5d1b6f0f3a11',
  contactId: '0b7f5c1e-8f2a-4d55-a1f6-7c1f1b2e9d00',
  templateKey: 'welcome',
  to: 'ada@example.com',
  from: { address: 'hello@touchpoint.local', name: 'Touchpoint' },
  subject: 'Hello Ada',
  html: '<p>Hi Ada</p>',
  text: 'Hi Ada',
  headers: { 'X-Touchpoint-Message-Key': 'contact:1:welcome' },
  ...overrides,
});

const sendgridProvider = (overrides: { apiKey?: string; timeoutMs?: number; baseUrl?: string } = {}) =>
  new SendGridEmailProvider({ apiKey: overrides.apiKey ?? apiKey, baseUrl: overrides.baseUrl ?? sendgrid.url, timeoutMs: overrides.timeoutMs ?? 5_000 });

const twilioProvider = (timeoutMs = 5_000) =>
  new TwilioSmsProvider({ accountSid, authToken, from, apiBaseUrl: twilio.url, webhookBaseUrl: 'https://hooks.example.com/', timeoutMs });

async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('SendGrid through @sendgrid/mail', () => {
  it('sends a v3 Mail Send with ids only in custom_args and categories, and returns X-Message-Id', async () => {
    const before = sendgrid.received().length;
    const { providerMessageId } = await sendgridProvider().send(email());
    const [mail] = sendgrid.received().slice(before);
    expect(mail).toBeDefined();
    expect(providerMessageId).toBe(mail!.providerMessageId);
    expect(mail!.to).toEqual(['ada@example.com']);
    expect(mail!.from).toBe('hello@touchpoint.local');
    expect(mail!.subject).toBe('Hello Ada');
    expect(mail!.customArgs).toEqual({ messageId: email().messageId, contactId: email().contactId });
    expect(mail!.categories).toEqual(['welcome']);
    expect((mail!.body.content as Array<{ type: string }>).map((part) => part.type)).toEqual(['text/plain', 'text/html']);
    expect(mail!.body.headers).toEqual({ 'X-Touchpoint-Message-Key': 'contact:1:welcome' });
  });

  it('maps a rejected API key (401) to a non-retryable refusal', async () => {
    const error = await providerError(sendgridProvider({ apiKey: 'SG.wrong' }).send(email()));
    expect(error).toMatchObject({ status: 401, retryable: false, ambiguous: false });
    expect(error.reason).toContain('authorization grant is invalid');
  });

  it("maps a 400 to a non-retryable refusal carrying SendGrid's own field and message", async () => {
    sendgrid.failNext(1, { status: 400, message: 'Does not contain a valid address.', field: 'personalizations.0.to' });
    const error = await providerError(sendgridProvider().send(email()));
    expect(error).toMatchObject({ status: 400, retryable: false, ambiguous: false, reason: 'personalizations.0.to: Does not contain a valid address.' });
  });

  it('rejects a body the real API would reject (no content), as the fake validates the v3 schema', async () => {
    const error = await providerError(sendgridProvider().send(email({ text: '', html: '' })));
    expect(error.status).toBe(400);
    expect(error.reason).toContain('content');
  });

  it('maps 429 to retryable, certainly-not-sent, with the Retry-After delay', async () => {
    sendgrid.failNext(1, { status: 429, retryAfterSeconds: 7 });
    const error = await providerError(sendgridProvider().send(email()));
    expect(error).toMatchObject({ status: 429, retryable: true, ambiguous: false, retryAfterMs: 7_000 });
  });

  it('maps 5xx to retryable and ambiguous: the message may have been taken', async () => {
    sendgrid.failNext(1, { status: 500 });
    const error = await providerError(sendgridProvider().send(email()));
    expect(error).toMatchObject({ status: 500, retryable: true, ambiguous: true });
  });

  it('maps a timeout to ambiguous, and the lost request records nothing at the provider', async () => {
    const before = sendgrid.received().length;
    sendgrid.failNext(1, { hang: true });
    const error = await providerError(sendgridProvider({ timeoutMs: 300 }).send(email()));
    expect(error).toMatchObject({ status: null, retryable: true, ambiguous: true });
    expect(sendgrid.received().length).toBe(before);
  });

  it('maps a refused connection to retryable but not ambiguous: nothing left this machine', async () => {
    const error = await providerError(sendgridProvider({ baseUrl: `http://127.0.0.1:${await closedPort()}` }).send(email()));
    expect(error).toMatchObject({ status: null, retryable: true, ambiguous: false, code: 'ECONNREFUSED' });
  });
});

describe('Twilio through the twilio package', () => {
  it('creates a Message with Basic auth, form fields and a StatusCallback carrying our message id', async () => {
    const before = twilio.received().length;
    const { providerMessageId } = await twilioProvider().send({ messageId: 'msg-1', to: '+14155550132', body: 'Hi Ada' });
    const [message] = twilio.received().slice(before);
    expect(providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message).toMatchObject({ sid: providerMessageId, to: '+14155550132', from, body: 'Hi Ada' });
    expect(message!.status_callback).toBe('https://hooks.example.com/v1/webhooks/twilio/status?messageId=msg-1');
  });

  it('maps 21211 (invalid To) to a non-retryable refusal with the Twilio code in the reason', async () => {
    const error = await providerError(twilioProvider().send({ messageId: 'msg-2', to: '4155550132', body: 'Hi' }));
    expect(error).toMatchObject({ status: 400, retryable: false, ambiguous: false, code: '21211' });
    expect(error.reason).toBe("21211 The 'To' number 4155550132 is not a valid phone number.");
  });

  it('maps 21610 (unsubscribed recipient) to a non-retryable refusal', async () => {
    twilio.unsubscribe('+14155550199');
    const error = await providerError(twilioProvider().send({ messageId: 'msg-3', to: '+14155550199', body: 'Hi' }));
    expect(error).toMatchObject({ status: 400, retryable: false, code: '21610' });
  });

  it('maps 429 to retryable with the Retry-After delay, read from the answer of this very call', async () => {
    twilio.failNext(1, { status: 429, retryAfterSeconds: 3 });
    const provider = twilioProvider();
    const [limited, fine] = await Promise.allSettled([
      provider.send({ messageId: 'msg-4', to: '+14155550101', body: 'one' }),
      provider.send({ messageId: 'msg-5', to: '+14155550102', body: 'two' }),
    ]);
    const rejected = [limited, fine].filter((result) => result.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ status: 429, retryable: true, ambiguous: false, retryAfterMs: 3_000 });
  });

  it('maps 5xx and timeouts to ambiguous', async () => {
    twilio.failNext(1, { status: 503 });
    expect(await providerError(twilioProvider().send({ messageId: 'msg-6', to: '+14155550103', body: 'x' }))).toMatchObject({ status: 503, ambiguous: true });
    twilio.failNext(1, { hang: true });
    expect(await providerError(twilioProvider(300).send({ messageId: 'msg-7', to: '+14155550104', body: 'x' }))).toMatchObject({ status: null, ambiguous: true });
  });

  it('finds a message whose answer was lost through the Messages list, matching to, from and body', async () => {
    const since = new Date(Date.now() - 60_000);
    twilio.failNext(1, { acceptThenHangMs: 2_000 });
    await providerError(twilioProvider(300).send({ messageId: 'msg-8', to: '+14155550105', body: 'Your code is 1234' }));
    const taken = twilio.received().find((message) => message.to === '+14155550105');
    expect(taken).toBeDefined();
    const provider = twilioProvider();
    expect(await provider.findAccepted({ messageId: 'msg-8', to: '+14155550105', from, body: 'Your code is 1234', since })).toEqual([taken!.sid]);
    expect(await provider.findAccepted({ messageId: 'msg-8', to: '+14155550105', from, body: 'another text', since })).toEqual([]);
    expect(await provider.findAccepted({ messageId: 'msg-8', to: '+14155550105', from, body: 'Your code is 1234', since: new Date(Date.now() + 60_000) })).toEqual([]);
  });
});

describe('createProviders', () => {
  const base = { DATABASE_URL: 'postgresql://localhost/x' };

  it('captures both channels when no credentials are configured, with a ten-minute reconcile window', () => {
    const providers = createProviders(loadConfig(base));
    expect([providers.email.name, providers.sms.name, providers.reconcileWindowMs]).toEqual(['capture', 'capture', 600_000]);
  });

  it('switches each channel on its own credentials', () => {
    expect(createProviders(loadConfig({ ...base, SENDGRID_API_KEY: apiKey })).email.name).toBe('sendgrid');
    expect(createProviders(loadConfig({ ...base, SENDGRID_API_KEY: apiKey })).sms.name).toBe('capture');
    const twilioOnly = createProviders(loadConfig({ ...base, TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken, TWILIO_FROM: from, MESSAGE_RECONCILE_WINDOW_SECONDS: '30' }));
    expect([twilioOnly.email.name, twilioOnly.sms.name, twilioOnly.reconcileWindowMs]).toEqual(['capture', 'twilio', 30_000]);
  });

  it('points the status callback at TWILIO_WEBHOOK_BASE_URL, else PUBLIC_URL', () => {
    const twilioEnv = { ...base, TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken, TWILIO_FROM: from };
    const viaPublic = createProviders(loadConfig({ ...twilioEnv, PUBLIC_URL: 'https://crm.example.com' })).sms as TwilioSmsProvider;
    expect(viaPublic.statusCallbackUrl('m1')).toBe('https://crm.example.com/v1/webhooks/twilio/status?messageId=m1');
    const viaHooks = createProviders(loadConfig({ ...twilioEnv, PUBLIC_URL: 'https://crm.example.com', TWILIO_WEBHOOK_BASE_URL: 'https://hooks.example.com' })).sms as TwilioSmsProvider;
    expect(viaHooks.statusCallbackUrl('m1')).toBe('https://hooks.example.com/v1/webhooks/twilio/status?messageId=m1');
  });
});

describe('the reconcile rule (outbox nextStep over the call log)', () => {
  const window = 600_000;
  const at = (ms: number) => new Date(ms).toISOString();
  const call = (n: number, ms: number, extra: Record<string, unknown> = {}) => ({ status: 'sending', at: at(ms), event: 'call', call: n, ...extra });

  it('calls the provider when no call is unresolved: a fresh message, or one whose last call was certainly refused (429)', () => {
    expect(nextStep(readCalls([{ status: 'pending', at: at(0) }]), 1_000, window)).toEqual({ kind: 'call', resend: false });
    expect(nextStep(readCalls([call(1, 0), { status: 'sending', at: at(10), event: 'rejected', call: 1 }]), 1_000, window)).toEqual({ kind: 'call', resend: false });
  });

  it('waits out the window, measured from the unresolved call and not from the retry, before a resend', () => {
    const died = readCalls([call(1, 0)]); // found still in sending: the worker died mid-call
    expect(nextStep(died, 60_000, window)).toEqual({ kind: 'wait', ms: 540_000 });
    const ambiguous = readCalls([call(1, 0), { status: 'unknown', at: at(20_000), event: 'ambiguous', call: 1 }]);
    expect(nextStep(ambiguous, 599_999, window)).toEqual({ kind: 'wait', ms: 1 });
    expect(nextStep(ambiguous, 600_000, window)).toEqual({ kind: 'call', resend: true });
  });

  it('resends only once: a second unresolved call waits its own window, then the message is given up', () => {
    const twice = readCalls([call(1, 0), { status: 'unknown', at: at(1), event: 'ambiguous', call: 1 }, call(2, 700_000, { resend: true })]);
    expect(nextStep(twice, 800_000, window)).toEqual({ kind: 'wait', ms: 500_000 });
    expect(nextStep(twice, 1_300_000, window)).toEqual({ kind: 'give_up' });
  });

  it('reads rows written before the call log (a bare sending entry per call)', () => {
    expect(readCalls([{ status: 'pending', at: at(0) }, { status: 'sending', at: at(5) }])).toEqual([{ n: 1, startedAt: 5, outcome: 'open' }]);
    expect(readCalls([{ status: 'sending', at: at(5) }, { status: 'accepted', at: at(6) }])).toEqual([{ n: 1, startedAt: 5, outcome: 'accepted' }]);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(10_000 + 30_000).toUTCString(), 10_000)).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
