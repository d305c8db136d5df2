import { randomUUID, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient } from '../support/api-client';
import { eventually, startTestStack, type TestStack } from '../support/stack';

const replyDomain = 'reply.touchpoint.test';

let stack: TestStack;
let marketer: string;
const call = apiClient({ get baseUrl() { return stack.baseUrl; } }, () => marketer);

beforeAll(async () => {
  // SMS at any hour: the test must not depend on the time of day it runs at.
  stack = await startTestStack({ REPLY_DOMAIN: replyDomain, QUIET_HOURS_ENABLED: 'false' });
  marketer = await stack.keyFor('marketer');
  await stack.startWorker();
});
afterAll(() => stack.close());

interface Message {
  id: string;
  contactId: string;
  channel: string;
  templateKey: string;
  to: string;
  subject: string | null;
  text: string | null;
  status: string;
}

/** A contact of Rita's with marketing consent on the channels given. */
async function contact(firstName: string, tags: string[], consent: Array<'email' | 'sms'>, ownerId: string) {
  const at = new Date();
  return stack.db.prisma.contact.create({
    data: {
      firstName,
      ownerId,
      tags,
      emails: { create: { address: `${firstName.toLowerCase()}-${randomUUID().slice(0, 6)}@example.com`, isPrimary: true } },
      phones: { create: { e164: `+1415555${String(Math.floor(Math.random() * 9000) + 1000)}`, isPrimary: true } },
      consents: { create: consent.map((channel) => ({ channel, status: 'granted' as const, source: 'test', at })) },
    },
    include: { emails: true, phones: true },
  });
}

/** A reply to `messageId` through SendGrid Inbound Parse, as the contact's mail client sends it. */
async function reply(from: string, messageId: string): Promise<void> {
  const to = `reply+${messageId}@${replyDomain}`;
  const form = new FormData();
  form.set('headers', [`Message-ID: <${randomUUID()}@mail.example.com>`, `From: ${from}`, `To: ${to}`, 'Subject: Re: Spring webinar'].join('\n'));
  form.set('from', from);
  form.set('to', to);
  form.set('subject', 'Re: Spring webinar');
  form.set('text', 'Sounds good, call me next week.');
  form.set('envelope', JSON.stringify({ to: [to], from }));
  form.set('charsets', JSON.stringify({ to: 'UTF-8', from: 'UTF-8', subject: 'UTF-8', text: 'UTF-8' }));
  const res = await fetch(`${stack.baseUrl}/v1/webhooks/sendgrid/inbound/${stack.config.SENDGRID_INBOUND_SECRET}`, { method: 'POST', body: form });
  expect(res.status).toBe(200);
}

/** An open reported by SendGrid's signed event webhook. */
async function opened(messageId: string, email: string): Promise<void> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const body = JSON.stringify([{ event: 'open', email, timestamp: Number(timestamp), sg_event_id: randomUUID(), sg_message_id: `X${randomUUID().slice(0, 8)}.filter`, messageId }]);
  const res = await fetch(`${stack.baseUrl}/v1/webhooks/sendgrid`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'X-Twilio-Email-Event-Webhook-Signature': sign('sha256', Buffer.from(timestamp + body), stack.sendgridSigningKey).toString('base64'),
      'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
    },
    body,
  });
  expect(res.status).toBe(200);
}

describe('a marketer runs a drip sequence for a segment', () => {
  it('defines it over HTTP, enrolls the segment in bulk, and gets exactly the messages, tasks and stats expected', async () => {
    const rita = await stack.db.prisma.user.findUniqueOrThrow({ where: { email: 'rita.rep@example.com' } });
    const ada = await contact('Ada', ['spring-webinar'], ['email', 'sms'], rita.id);
    const grace = await contact('Grace', ['spring-webinar'], ['email', 'sms'], rita.id);
    const alan = await contact('Alan', ['spring-webinar'], ['email'], rita.id);
    const barbara = await contact('Barbara', ['spring-webinar', 'do-not-contact'], ['email', 'sms'], rita.id);
    const ken = await contact('Ken', ['newsletter'], ['email', 'sms'], rita.id);

    expect((await call('POST', '/v1/templates', { body: { key: 'spring-intro', channel: 'email', name: 'Spring intro', subject: 'Spring webinar, {{default contact.firstName "friend"}}', html: '<p>Hi {{default contact.firstName "there"}}, here are the slides.</p>' } })).status).toBe(201);
    expect((await call('POST', '/v1/templates', { body: { key: 'spring-nudge', channel: 'sms', name: 'Spring nudge', text: 'Hi {{default contact.firstName "there"}}, did the slides help?' } })).status).toBe(201);
    const sequence = await call<{ id: string; published: { templatePins: Record<string, unknown> } }>('POST', '/v1/sequences', {
      body: {
        name: 'Spring webinar follow-up',
        publish: true,
        definition: {
          steps: [
            { key: 'intro', type: 'email', template: 'spring-intro' },
            { key: 'pause', type: 'wait', duration: 'PT1M' },
            { key: 'nudge', type: 'sms', template: 'spring-nudge' },
            { key: 'call', type: 'task', title: 'Call about the spring webinar', taskType: 'call', priority: 'high', dueInBusinessDays: 1 },
          ],
          settings: { suppression: { tags: ['do-not-contact'] } },
        },
      },
    });
    expect(sequence.status).toBe(201);
    expect(sequence.body.published.templatePins).toEqual({ 'email:spring-intro': 1, 'sms:spring-nudge': 1 });

    const job = await call<{ id: string }>('POST', `/v1/sequences/${sequence.body.id}/bulk-enrollments`, { body: { filter: { tags: { any: ['spring-webinar'] } } } });
    expect(job.status).toBe(202);
    const done = await eventually(() => call<{ status: string }>('GET', `/v1/bulk-enrollments/${job.body.id}`), (r) => r.body.status !== 'running');
    expect(done.body).toMatchObject({ status: 'completed', matched: 4, processed: 4, enrolled: 3, skipped: 1, skipReasons: { suppressed: 1 }, failed: 0 });

    const intros = await eventually(() => call('GET', '/v1/messages?templateKey=spring-intro'), (r) => r.body.data!.length === 3 && r.body.data!.every((message) => message.status === 'accepted'));
    const introOf = (contactId: string) => (intros.body.data as unknown as Message[]).find((message) => message.contactId === contactId)!;
    expect((intros.body.data as unknown as Message[]).map((message) => [message.to, message.subject, message.status]).sort()).toEqual(
      [ada, alan, grace].map((person) => [person.emails[0]!.address, `Spring webinar, ${person.firstName}`, 'accepted']).sort(),
    );

    // During the minute's wait: Ada opens the email, Grace answers it, which ends her enrollment at once.
    await opened(introOf(ada.id).id, ada.emails[0]!.address);
    await reply(grace.emails[0]!.address, introOf(grace.id).id);
    const graceEnrollment = await eventually(() => stack.db.prisma.enrollment.findFirstOrThrow({ where: { contactId: grace.id } }), (row) => row.status !== 'active', 20_000);
    expect(graceEnrollment).toMatchObject({ status: 'exited', stopReason: 'replied', converted: true });

    const finished = await eventually(
      () => stack.db.prisma.enrollment.findMany({ where: { sequenceId: sequence.body.id }, orderBy: { contactId: 'asc' } }),
      (rows) => rows.every((row) => row.status !== 'active'),
      120_000,
    );
    expect(finished.map((row) => [row.contactId, row.status, row.stopReason]).sort()).toEqual(
      [[ada.id, 'completed', 'completed'], [alan.id, 'completed', 'completed'], [grace.id, 'exited', 'replied']].sort(),
    );

    const nudges = (await call('GET', '/v1/messages?templateKey=spring-nudge')).body.data as unknown as Message[];
    expect(nudges.map((message) => [message.contactId, message.channel, message.to, message.text])).toEqual([[ada.id, 'sms', ada.phones[0]!.e164, 'Hi Ada, did the slides help?']]);
    for (const person of [barbara, ken]) expect((await call('GET', `/v1/messages?contactId=${person.id}`)).body.data).toEqual([]);

    const tasks = (await call('GET', `/v1/tasks?assigneeId=${rita.id}`, { key: stack.keys.admin })).body.data!.filter((task) => task.title === 'Call about the spring webinar');
    expect(tasks.map((task) => [task.contactId, task.type, task.priority, task.status]).sort()).toEqual([[ada.id, 'call', 'high', 'open'], [alan.id, 'call', 'high', 'open']].sort());

    const stats = await call<{ versions: Array<Record<string, unknown> & { steps: Array<Record<string, unknown>> }> }>('GET', `/v1/sequences/${sequence.body.id}/stats`);
    expect(stats.status).toBe(200);
    const [v1] = stats.body.versions;
    expect(v1).toMatchObject({
      version: 1,
      enrolled: 3,
      active: 0,
      completed: 2,
      exited: 1,
      exitedByGoal: 1,
      stopReasons: { completed: 2, replied: 1 },
      converted: 1,
      conversionRate: 0.3333,
      messages: { sent: 4, delivered: 2, opened: 1, clicked: 0, replied: 1, bounced: 0, unsubscribed: 0 },
      variants: [],
    });
    const step = (key: string) => v1!.steps.find((entry) => entry.key === key);
    expect(step('intro')).toMatchObject({ entered: 3, outcomes: { sent: 3 }, sent: 3, delivered: 2, opened: 1, replied: 1, stopReasons: {} });
    // Grace replied while she waited at `pause`: that is where her enrollment ended.
    expect(step('pause')).toMatchObject({ entered: 2, outcomes: { waited: 2 }, current: 0, stopReasons: { replied: 1 }, sent: 0 });
    expect(step('nudge')).toMatchObject({ entered: 2, outcomes: { sent: 1, skipped: 1 }, sent: 1, delivered: 0 });
    expect(step('call')).toMatchObject({ entered: 2, outcomes: { task_created: 2 }, sent: 0 });
  }, 240_000);
});
