import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MessageStatus } from '../../domain/message-status';
import { enrollmentWorkflowId } from '../../workflows/workflow-ids';
import { apiClient } from '../support/api-client';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let marketer: string;
const call = apiClient({ get baseUrl() { return stack.baseUrl; } }, () => marketer);

beforeAll(async () => {
  stack = await startTestStack();
  marketer = await stack.keyFor('marketer');
});
afterAll(() => stack.close());

const definition = {
  steps: [
    { key: 'ab', type: 'split', variants: [{ key: 'a', percent: 50, steps: [{ key: 'mail-a', type: 'email', template: 'welcome' }] }, { key: 'b', percent: 50, steps: [{ key: 'mail-b', type: 'email', template: 'welcome' }] }] },
    { key: 'w', type: 'wait', duration: 'P1D' },
    { key: 'text', type: 'sms', template: 'welcome' },
  ],
};

interface Recorded {
  variant: 'a' | 'b';
  status: 'active' | 'completed' | 'exited';
  stopReason?: string;
  converted?: boolean;
  currentStepKey?: string;
  /** The variant's email: its status now, the statuses it passed and the provider events recorded. */
  message: { status: MessageStatus; history: MessageStatus[]; events?: string[] };
  reply?: { autoReply: boolean };
}

/** What an enrollment's workflow leaves behind: its row, its step records, its message, replies to it. */
async function recorded(sequenceId: string, version: number, entry: Recorded) {
  const { prisma } = stack.db;
  const contact = await prisma.contact.create({ data: { firstName: 'Stat', emails: { create: { address: `stat-${randomUUID().slice(0, 8)}@example.com`, isPrimary: true } } } });
  const ended = entry.status !== 'active';
  const enrollment = await prisma.enrollment.create({
    data: {
      sequenceId, version, contactId: contact.id, status: entry.status, source: 'api', workflowId: enrollmentWorkflowId(sequenceId, contact.id),
      activeKey: ended ? null : `${sequenceId}:${contact.id}`, variants: { ab: entry.variant }, currentStepKey: entry.currentStepKey ?? null,
      stopReason: ended ? (entry.stopReason ?? 'completed') : null, converted: entry.converted ?? false, endedAt: ended ? new Date() : null,
    },
  });
  const at = new Date().toISOString();
  const message = await prisma.message.create({
    data: {
      idempotencyKey: `enrollment:${enrollment.id}:mail-${entry.variant}:1`, contactId: contact.id, channel: 'email', templateKey: 'welcome', toAddress: 'x@example.com', fromAddress: 'hello@example.com',
      provider: 'sendgrid', status: entry.message.status, statusHistory: entry.message.history.map((status) => ({ status, at })),
      events: { create: (entry.message.events ?? []).map((event) => ({ provider: 'sendgrid', event, occurredAt: new Date() })) },
    },
  });
  await prisma.enrollmentStep.createMany({
    data: [
      { enrollmentId: enrollment.id, sequenceId, version, stepKey: 'ab', stepType: 'split', outcome: 'variant', variant: entry.variant },
      { enrollmentId: enrollment.id, sequenceId, version, stepKey: `mail-${entry.variant}`, stepType: 'email', outcome: 'sent', messageId: message.id },
    ],
  });
  if (entry.reply) {
    await prisma.activity.create({ data: { contactId: contact.id, type: 'email', data: { direction: 'inbound', messageId: message.id, autoReply: entry.reply.autoReply } } });
  }
}

const noMessages = { sent: 0, delivered: 0, opened: 0, clicked: 0, replied: 0, bounced: 0, unsubscribed: 0 };

describe('sequence stats', () => {
  it('counts per version, step and split variant, with message facts as branch conditions read them', async () => {
    const created = await call<{ id: string }>('POST', '/v1/sequences', { body: { name: 'A/B', publish: true, definition } });
    const id = created.body.id;
    await recorded(id, 1, { variant: 'a', status: 'completed', message: { status: 'delivered', history: ['pending', 'accepted', 'delivered'], events: ['group_unsubscribe'] } });
    await recorded(id, 1, { variant: 'a', status: 'exited', stopReason: 'replied', converted: true, currentStepKey: 'w', message: { status: 'clicked', history: ['accepted', 'clicked'] }, reply: { autoReply: false } });
    await recorded(id, 1, { variant: 'b', status: 'active', currentStepKey: 'w', message: { status: 'accepted', history: ['accepted'], events: ['open'] }, reply: { autoReply: true } });
    await recorded(id, 1, { variant: 'b', status: 'exited', stopReason: 'bounced', currentStepKey: 'w', message: { status: 'bounced', history: ['accepted', 'bounced'] } });
    expect((await call('PUT', `/v1/sequences/${id}`, { body: { definition, publish: true } })).status).toBe(200);
    await recorded(id, 2, { variant: 'a', status: 'active', currentStepKey: 'w', message: { status: 'accepted', history: ['accepted'] } });

    const stats = await call<{ versions: Array<Record<string, unknown> & { steps: Array<Record<string, unknown>>; variants: unknown[] }> }>('GET', `/v1/sequences/${id}/stats`);
    expect(stats.status).toBe(200);
    expect(stats.body.versions.map((version) => [version.version, version.enrolled])).toEqual([[2, 1], [1, 4]]);
    const v1 = stats.body.versions[1]!;
    expect(v1).toMatchObject({
      enrolled: 4, active: 1, completed: 1, exited: 2, exitedByGoal: 1, stopReasons: { completed: 1, replied: 1, bounced: 1 }, converted: 1, conversionRate: 0.25,
      messages: { sent: 4, delivered: 3, opened: 2, clicked: 1, replied: 1, bounced: 1, unsubscribed: 1 },
    });
    expect(v1.steps.map((step) => [step.key, step.path])).toEqual([
      ['ab', 'steps[0](ab)'],
      ['mail-a', 'steps[0](ab).variants[0](a).steps[0](mail-a)'],
      ['mail-b', 'steps[0](ab).variants[1](b).steps[0](mail-b)'],
      ['w', 'steps[1](w)'],
      ['text', 'steps[2](text)'],
    ]);
    expect(v1.steps[0]).toMatchObject({ entered: 4, outcomes: { variant: 4 }, ...noMessages });
    expect(v1.steps[1]).toMatchObject({ entered: 2, outcomes: { sent: 2 }, sent: 2, delivered: 2, opened: 1, clicked: 1, replied: 1, bounced: 0, unsubscribed: 1 });
    expect(v1.steps[2]).toMatchObject({ entered: 2, sent: 2, delivered: 1, opened: 1, clicked: 0, replied: 0, bounced: 1, unsubscribed: 0 });
    expect(v1.steps[3]).toMatchObject({ entered: 0, outcomes: {}, current: 1, stopReasons: { replied: 1, bounced: 1 } });
    expect(v1.variants).toEqual([
      { split: 'ab', variant: 'a', percent: 50, entered: 2, active: 0, completed: 1, exited: 1, exitedByGoal: 1, stopReasons: { completed: 1, replied: 1 }, converted: 1, conversionRate: 0.5, messages: { sent: 2, delivered: 2, opened: 1, clicked: 1, replied: 1, bounced: 0, unsubscribed: 1 } },
      { split: 'ab', variant: 'b', percent: 50, entered: 2, active: 1, completed: 0, exited: 1, exitedByGoal: 0, stopReasons: { bounced: 1 }, converted: 0, conversionRate: 0, messages: { sent: 2, delivered: 1, opened: 1, clicked: 0, replied: 0, bounced: 1, unsubscribed: 0 } },
    ]);

    const only = await call<{ versions: Array<{ version: number; enrolled: number }> }>('GET', `/v1/sequences/${id}/stats?version=2`);
    expect(only.body.versions.map((version) => [version.version, version.enrolled])).toEqual([[2, 1]]);
    expect((await call('GET', `/v1/sequences/${id}/stats?version=7`)).status).toBe(404);
    expect((await call('GET', `/v1/sequences/${id}/stats?version=x`)).status).toBe(400);
  });

  it('shows a draft-only sequence with no versions and zero counts for a version nobody entered', async () => {
    const draft = await call<{ id: string }>('POST', '/v1/sequences', { body: { name: 'Draft', definition } });
    expect((await call('GET', `/v1/sequences/${draft.body.id}/stats`)).body.versions).toEqual([]);
    const v1 = (await call<{ versions: Array<Record<string, unknown>> }>('GET', `/v1/sequences/${draft.body.id}/stats?version=1`)).body.versions[0]!;
    expect(v1).toMatchObject({ enrolled: 0, conversionRate: 0, messages: noMessages });
  });
});
