import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HistoryEntry } from '../../activities/providers/outbox';
import { isAcceptedOrLater, type MessageStatus } from '../../domain/message-status';
import { stopChild } from '../../runtime/temporal-dev-server';
import { contactStateQuery } from '../../workflows/contact-lifecycle';
import { contactWorkflowId } from '../../workflows/workflow-ids';
import { startSendGridFake, type SendGridFake } from '../fakes/sendgrid-fake';
import { eventually, startTestStack, type TestStack } from '../support/stack';
import { startWorkerProcess } from '../support/worker-process';

/**
 * The worst moment to die: SendGrid has taken the message, its answer has not reached the
 * worker, so the worker never records the send. The replacement worker must take SendGrid's
 * event webhook (a MessageEvent row, and the status it moved) as proof and not send again.
 */

const apiKey = 'SG.providers-crash-test';

let sendgrid: SendGridFake;
let stack: TestStack;
const children: ChildProcess[] = [];
const historyOf = (row: { statusHistory: unknown }) => row.statusHistory as HistoryEntry[];

beforeAll(async () => {
  sendgrid = await startSendGridFake({ apiKey });
  stack = await startTestStack({ SENDGRID_API_KEY: apiKey, SENDGRID_API_BASE_URL: sendgrid.url });
  sendgrid.reportEventsTo({ url: `${stack.baseUrl}/v1/webhooks/sendgrid`, signingKey: stack.sendgridSigningKey });
}, 60_000);
afterAll(async () => {
  for (const child of children) await stopChild(child, 2_000);
  await stack.close();
  await sendgrid.close();
});

function startWorker(): ChildProcess {
  const child = startWorkerProcess(stack, {
    SENDGRID_API_KEY: apiKey,
    SENDGRID_API_BASE_URL: sendgrid.url,
    // Longer than the fake holds the answer before the kill: the call is still open when the worker dies.
    PROVIDER_TIMEOUT_MS: '30000',
  });
  children.push(child);
  return child;
}

describe('a worker killed between the SendGrid call and the database update', () => {
  it("is replaced by one that takes SendGrid's event webhook as proof: one email at SendGrid, one call, message accepted", async () => {
    sendgrid.failNext(1, { acceptThenHangMs: 120_000 });
    const res = await fetch(`${stack.baseUrl}/v1/forms/demo-contact/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'sg-crash@example.com', firstName: 'Crash' }),
    });
    expect(res.status).toBe(202);
    const { contactId } = (await res.json()) as { contactId: string };

    const first = startWorker();
    // SendGrid has the message; the worker is waiting for the held answer.
    await eventually(async () => sendgrid.received().filter((mail) => mail.to.includes('sg-crash@example.com')).length, (n) => n === 1, 60_000);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const orphan = await stack.db.prisma.message.findFirstOrThrow({ where: { contactId, templateKey: 'welcome' } });
    // The worker never recorded an answer to its call (the event webhook may have reported the message since).
    expect(historyOf(orphan).filter((entry) => entry.event === 'call' || entry.event === 'accepted').map((entry) => entry.event)).toEqual(['call']);

    startWorker();
    // Temporal retries the lost attempt once its start-to-close timeout (1 minute) has passed;
    // the retry finds the row already proven accepted and completes without calling SendGrid.
    const handle = stack.client.workflow.getHandle(contactWorkflowId(contactId));
    await eventually(() => handle.query(contactStateQuery), (state) => state.welcome === 'sent', 150_000);
    const message = await stack.db.prisma.message.findFirstOrThrow({ where: { contactId, templateKey: 'welcome' } });
    expect(isAcceptedOrLater(message.status as MessageStatus)).toBe(true);
    const sent = sendgrid.received().filter((mail) => mail.to.includes('sg-crash@example.com'));
    expect(sent).toHaveLength(1);
    expect(message.providerMessageId).toBe(sent[0]!.providerMessageId);
    const history = historyOf(message);
    expect(history.filter((entry) => entry.event === 'call')).toHaveLength(1);
    expect(await stack.db.prisma.messageEvent.count({ where: { messageId: message.id } })).toBeGreaterThanOrEqual(1);
  }, 200_000);
});
