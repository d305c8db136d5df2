import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { contactStateQuery, emailDeliveryEventSignal, type EmailDeliveryEvent } from '../../workflows/contact-lifecycle';
import { contactWorkflowId } from '../../workflows/workflow-ids';
import { eventually, startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  await stack.startWorker();
});
afterAll(() => stack.close());

/** A lead from the website form, welcomed, with a second address added later. */
async function leadWithTwoAddresses(primary: string, secondary: string): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/v1/forms/demo-contact/submissions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: primary, firstName: 'Bounce' }),
  });
  const { contactId } = (await res.json()) as { contactId: string };
  await stack.db.prisma.contactEmail.create({ data: { contactId, address: secondary } });
  const handle = stack.client.workflow.getHandle(contactWorkflowId(contactId));
  await eventually(() => handle.query(contactStateQuery), (state) => state.welcome === 'sent');
  return contactId;
}

function deliveryEvent(contactId: string, event: Omit<EmailDeliveryEvent, 'eventId' | 'messageId'> & { eventId?: string }) {
  const payload: EmailDeliveryEvent = { eventId: event.eventId ?? randomUUID(), messageId: null, ...event };
  return stack.client.workflow.getHandle(contactWorkflowId(contactId)).signal(emailDeliveryEventSignal, payload).then(() => payload.eventId);
}

const handled = (contactId: string, eventId: string) =>
  eventually(() => stack.client.workflow.getHandle(contactWorkflowId(contactId)).query(contactStateQuery), (state) => (state.handledEventIds ?? []).includes(eventId));

describe('bounced email addresses', () => {
  it('a hard bounce marks the address, promotes the secondary address and asks the owner to fix it, once', async () => {
    const contactId = await leadWithTwoAddresses('gone@example.com', 'still-here@example.com');
    const eventId = await deliveryEvent(contactId, { kind: 'hard_bounce', address: 'gone@example.com', reason: '550 5.1.1 user unknown' });
    await handled(contactId, eventId);
    // The webhook may deliver the same event again; the workflow must not act twice.
    await deliveryEvent(contactId, { eventId, kind: 'hard_bounce', address: 'gone@example.com', reason: '550 5.1.1 user unknown' });

    const emails = await stack.db.prisma.contactEmail.findMany({ where: { contactId }, orderBy: { address: 'asc' } });
    expect(emails.map(({ address, status, isPrimary, bounceReason }) => ({ address, status, isPrimary, bounceReason }))).toEqual([
      { address: 'gone@example.com', status: 'bounced', isPrimary: false, bounceReason: '550 5.1.1 user unknown' },
      { address: 'still-here@example.com', status: 'valid', isPrimary: true, bounceReason: null },
    ]);
    const contact = await stack.db.prisma.contact.findUniqueOrThrow({ where: { id: contactId } });
    const tasks = await stack.db.prisma.task.findMany({ where: { contactId, type: 'fix_data' } });
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ assigneeId: contact.ownerId, title: 'Fix email address gone@example.com' });
    expect(tasks[0]!.description).toContain('550 5.1.1 user unknown');
    expect(await stack.db.prisma.emailBounce.count({ where: { address: 'gone@example.com' } })).toBe(1);
    expect(await stack.db.prisma.activity.count({ where: { contactId, subject: 'Email address gone@example.com bounced' } })).toBe(1);
  });

  it('counts soft bounces and treats the third within 30 days as hard', async () => {
    const contactId = await leadWithTwoAddresses('flaky@example.com', 'backup@example.com');
    for (let i = 1; i <= 3; i += 1) {
      const eventId = await deliveryEvent(contactId, { kind: 'blocked', address: 'flaky@example.com', reason: `421 try later (${i})` });
      await handled(contactId, eventId);
      const email = await stack.db.prisma.contactEmail.findUniqueOrThrow({ where: { address: 'flaky@example.com' } });
      expect(email.status).toBe(i < 3 ? 'valid' : 'bounced');
    }
    expect(await stack.db.prisma.task.count({ where: { contactId, type: 'fix_data' } })).toBe(1);
  });

  it('never sends the welcome email to an address that has bounced', async () => {
    const contact = await stack.db.prisma.contact.create({
      data: { firstName: 'Nomail', emails: { create: { address: 'bounced-before@example.com', isPrimary: true, status: 'bounced' } } },
    });
    const res = await fetch(`${stack.baseUrl}/v1/forms/demo-contact/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bounced-before@example.com' }),
    });
    expect(((await res.json()) as { contactId: string }).contactId).toBe(contact.id);
    const handle = stack.client.workflow.getHandle(contactWorkflowId(contact.id));
    // The follow-up task comes after the welcome attempt, so once it exists the send has decided.
    await eventually(() => handle.query(contactStateQuery), (state) => state.followUpTaskId !== null);
    expect(await stack.db.prisma.message.count({ where: { contactId: contact.id } })).toBe(0);
    expect((await handle.query(contactStateQuery)).welcome).toBe('pending');
  });
});
