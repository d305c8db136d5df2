import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Client as PgClient } from 'pg';
import type { HistoryEntry } from '../../activities/providers/outbox';
import { isAcceptedOrLater, type MessageStatus } from '../../domain/message-status';
import { contactStateQuery } from '../../workflows/contact-lifecycle';
import { contactWorkflowId } from '../../workflows/workflow-ids';
import { startSendGridFake, type SendGridFake, type SendGridRequest } from '../fakes/sendgrid-fake';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/**
 * Exactly-once email through the real path: a form submission starts the contact workflow,
 * whose welcome email goes through @sendgrid/mail to the SendGrid fake, with the real
 * Temporal retry policy and PostgreSQL. The fake posts signed events to the API's SendGrid
 * webhook, which is the evidence the reconcile rule looks for.
 */

const apiKey = 'SG.providers-email-test';
/** Short enough for tests, long enough that the second attempt (5 s after the first) falls inside it. */
const reconcileWindowSeconds = 20;

let sendgrid: SendGridFake;
let stack: TestStack;
let onRequest: ((request: SendGridRequest) => Promise<void>) | null = null;
const requestTimes: number[] = [];

beforeAll(async () => {
  sendgrid = await startSendGridFake({
    apiKey,
    onRequest: async (request) => {
      requestTimes.push(Date.now());
      await onRequest?.(request);
    },
  });
  stack = await startTestStack({
    SENDGRID_API_KEY: apiKey,
    SENDGRID_API_BASE_URL: sendgrid.url,
    PROVIDER_TIMEOUT_MS: '1500',
    MESSAGE_RECONCILE_WINDOW_SECONDS: String(reconcileWindowSeconds),
  });
  await stack.startWorker();
}, 60_000);
afterAll(async () => {
  await stack.close();
  await sendgrid.close();
});
beforeEach(() => {
  onRequest = null;
  sendgrid.reportEventsTo({ url: `${stack.baseUrl}/v1/webhooks/sendgrid`, signingKey: stack.sendgridSigningKey });
});

async function submitLead(email: string): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/v1/forms/demo-contact/submissions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, firstName: 'Test' }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { contactId: string }).contactId;
}

const welcomeOf = (contactId: string) => stack.db.prisma.message.findFirst({ where: { contactId, templateKey: 'welcome' } });
const sentTo = (address: string) => sendgrid.received().filter((mail) => mail.to.includes(address));

async function settledWelcome(contactId: string, timeoutMs = 45_000) {
  // The database-restart test terminates this test's own pooled connections too: a read that
  // dies with them is simply not an answer yet.
  const read = () => welcomeOf(contactId).catch((error: unknown) => {
    if (String(error).includes('terminating connection')) return null;
    throw error;
  });
  const message = await eventually(read, (row) => row !== null && (isAcceptedOrLater(row.status as MessageStatus) || row.status === 'failed'), timeoutMs);
  return message!;
}

const historyOf = (row: { statusHistory: unknown }) => row.statusHistory as HistoryEntry[];
/** The outbox's own entries (webhooks add theirs to the same history). */
const outboxEvents = (row: { statusHistory: unknown }) => historyOf(row).flatMap((entry) => (entry.event ? [entry.event] : []));

/** Until the workflow's send activity has finished (its last retry included). */
async function sendActivityDone(contactId: string): Promise<void> {
  const handle = stack.client.workflow.getHandle(contactWorkflowId(contactId));
  // The welcome send is a local activity (lead-flow-v2): the workflow state says when it returned.
  await eventually(() => handle.query(contactStateQuery), (state) => state.welcome !== 'pending', 40_000);
}

describe('welcome email through SendGrid', () => {
  it('is sent once, with the provider id recorded and only ids in custom_args and categories', async () => {
    const contactId = await submitLead('sg-happy@example.com');
    const message = await settledWelcome(contactId);
    const [mail, ...more] = sentTo('sg-happy@example.com');
    expect(more).toHaveLength(0);
    expect(isAcceptedOrLater(message.status as MessageStatus)).toBe(true);
    expect(message.provider).toBe('sendgrid');
    expect(message.providerMessageId).toBe(mail!.providerMessageId);
    expect(mail!.customArgs).toEqual({ messageId: message.id, contactId });
    expect(mail!.categories).toEqual(['welcome']);
    expect(JSON.stringify([mail!.customArgs, mail!.categories])).not.toContain('@');
  });

  it('waits as long as a 429 Retry-After asks (not the policy backoff), then sends once', async () => {
    sendgrid.failNext(1, { status: 429, retryAfterSeconds: 1 });
    const before = requestTimes.length;
    const contactId = await submitLead('sg-429@example.com');
    const message = await settledWelcome(contactId);
    expect(isAcceptedOrLater(message.status as MessageStatus)).toBe(true);
    expect(sentTo('sg-429@example.com')).toHaveLength(1);
    const [rejectedAt, acceptedAt] = requestTimes.slice(before);
    // The workflow's retry policy would wait 5 s; Retry-After says 1 s.
    expect(acceptedAt! - rejectedAt!).toBeGreaterThanOrEqual(1_000);
    expect(acceptedAt! - rejectedAt!).toBeLessThan(4_500);
    expect(outboxEvents(message)).toEqual(['call', 'rejected', 'call', 'accepted']);
  });

  it("marks the message failed on a 400 with SendGrid's reason and logs it on the contact, without retrying", async () => {
    sendgrid.failNext(1, { status: 400, message: 'The email address is on a block list.', field: 'personalizations.0.to' });
    const before = sendgrid.requestCount();
    const contactId = await submitLead('sg-400@example.com');
    const message = await settledWelcome(contactId);
    expect(message.status).toBe('failed');
    expect(message.error).toBe('personalizations.0.to: The email address is on a block list.');
    const activities = await stack.db.prisma.activity.findMany({ where: { contactId, type: 'email' } });
    expect(activities.map((activity) => activity.subject)).toEqual(['Email not sent: personalizations.0.to: The email address is on a block list.']);
    expect(sendgrid.requestCount() - before).toBe(1);
    expect(sentTo('sg-400@example.com')).toHaveLength(0);
  });
});

describe('faults between Touchpoint and SendGrid', () => {
  it('a request lost in a timeout is reconciled, and without evidence within the window it is sent once more', async () => {
    sendgrid.failNext(1, { hang: true });
    const contactId = await submitLead('sg-timeout@example.com');
    const message = await settledWelcome(contactId, 60_000);
    expect(isAcceptedOrLater(message.status as MessageStatus)).toBe(true);
    expect(sentTo('sg-timeout@example.com')).toHaveLength(1);
    const history = historyOf(message);
    expect(history.filter((entry) => entry.event === 'ambiguous')).toHaveLength(1);
    const calls = history.filter((entry) => entry.event === 'call');
    expect(calls.map((call) => Boolean(call.resend))).toEqual([false, true]);
    // The resend came only after the window, measured from the first call.
    expect(Date.parse(calls[1]!.at) - Date.parse(calls[0]!.at)).toBeGreaterThanOrEqual(reconcileWindowSeconds * 1000);
  }, 90_000);

  it('a message SendGrid took before the answer timed out is resolved from its late event, within the window, never resent', async () => {
    sendgrid.reportEventsTo(null); // the event webhook is late
    sendgrid.failNext(1, { acceptThenHangMs: 5_000 });
    const before = sendgrid.requestCount();
    const contactId = await submitLead('sg-late-event@example.com');
    const handle = stack.client.workflow.getHandle(contactWorkflowId(contactId));
    // The answer timed out: the message is `unknown`. Past the first retry interval (5 s) a retry
    // has looked for evidence, found none and chosen to wait rather than send again.
    await eventually(() => welcomeOf(contactId), (row) => row?.status === 'unknown', 40_000);
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    expect((await welcomeOf(contactId))!.status).toBe('unknown');
    expect(sendgrid.requestCount() - before).toBe(1);
    expect((await handle.query(contactStateQuery)).welcome).toBe('pending');
    sendgrid.reportEventsTo({ url: `${stack.baseUrl}/v1/webhooks/sendgrid`, signingKey: stack.sendgridSigningKey });
    await settledWelcome(contactId, 40_000);
    await sendActivityDone(contactId);
    const message = (await welcomeOf(contactId))!;
    expect(isAcceptedOrLater(message.status as MessageStatus)).toBe(true);
    expect(sentTo('sg-late-event@example.com')).toHaveLength(1);
    expect(sendgrid.requestCount() - before).toBe(1);
    expect(message.providerMessageId).toBe(sentTo('sg-late-event@example.com')[0]!.providerMessageId);
    expect(await stack.db.prisma.messageEvent.count({ where: { messageId: message.id } })).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it("PostgreSQL cutting the worker's connections while SendGrid has the request still ends with one message, accepted", async () => {
    let terminated = 0;
    onRequest = async () => {
      onRequest = null;
      // The shared PostgreSQL cannot be restarted; terminating every backend of this database
      // is what the worker sees of a restart: its pooled connections die under it.
      const admin = new PgClient({ connectionString: stack.config.DATABASE_URL });
      await admin.connect();
      try {
        const result = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
        terminated = result.rowCount ?? 0;
      } finally {
        await admin.end();
      }
    };
    const before = sendgrid.requestCount();
    const contactId = await submitLead('sg-db-restart@example.com');
    const message = await settledWelcome(contactId);
    expect(terminated).toBeGreaterThan(0);
    expect(isAcceptedOrLater(message.status as MessageStatus)).toBe(true);
    expect(sentTo('sg-db-restart@example.com')).toHaveLength(1);
    expect(sendgrid.requestCount() - before).toBe(1);
    expect(message.providerMessageId).toBe(sentTo('sg-db-restart@example.com')[0]!.providerMessageId);
  });
});
