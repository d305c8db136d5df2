import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { recordHistory } from '../support/histories';
import { seedDemoData } from '../../prisma/seed';
import { contactDeletedSignal, contactLifecycle, contactStateQuery, formSubmittedSignal } from '../../workflows/contact-lifecycle';
import { contactWorkflowId } from '../../workflows/workflow-ids';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/stack';
import { answered, closedWithoutSkipping, idleOnTimer, startCaptureWorker, startTimeSkippingServer } from '../support/time-skipping';

let env: TestWorkflowEnvironment;
let db: TestDatabase;

beforeAll(async () => {
  [env, db] = await Promise.all([
    startTimeSkippingServer(),
    createTestDatabase(),
  ]);
  await seedDemoData(db.prisma);
}, 120_000);
afterAll(async () => {
  await env?.teardown();
  await db?.drop();
});

/** A form lead whose workflow runs on its own task queue while no rep has capacity for it. */
async function leadWhileEveryRepIsFull(firstName: string, taskQueue: string) {
  await db.prisma.user.updateMany({ where: { role: 'rep' }, data: { leadCapacity: 0 } });
  const contact = await db.prisma.contact.create({ data: { firstName, emails: { create: { address: `${firstName.toLowerCase()}@example.com`, isPrimary: true } } } });
  const worker = await startCaptureWorker(env, db, taskQueue);
  const handle = await env.client.workflow.signalWithStart(contactLifecycle, {
    workflowId: contactWorkflowId(contact.id),
    taskQueue,
    args: [{ contactId: contact.id }],
    signal: formSubmittedSignal,
    signalArgs: [{ activityId: randomUUID(), formKey: 'demo-contact', welcomeTemplate: 'welcome' }],
  });
  return { contact, worker, handle };
}

describe('contact lifecycle on the time-skipping server', () => {
  it('waits while every rep is at capacity and routes the lead an hour later once one has room', async () => {
    const { contact, worker, handle } = await leadWhileEveryRepIsFull('Patience', 'time-skipping');
    try {
      await eventually(() => answered(env.client, () => handle.query(contactStateQuery)), (state) => state.formSubmissions === 1, 15_000);
      // The welcome does not wait for a rep: it goes out at once, without an owner's name.
      const waiting = await eventually(() => answered(env.client, () => handle.query(contactStateQuery)), (s) => s.welcome === 'sent');
      expect(waiting.ownerId).toBeNull();
      expect(waiting.followUpTaskId).toBeNull();
      await env.sleep('30 minutes');
      expect((await answered(env.client, () => handle.query(contactStateQuery))).ownerId).toBeNull();
      expect(await db.prisma.task.count({ where: { contactId: contact.id } })).toBe(0);

      await db.prisma.user.updateMany({ where: { email: 'rob.rep@example.com' }, data: { leadCapacity: 5 } });
      await env.sleep('31 minutes');
      const state = await eventually(() => answered(env.client, () => handle.query(contactStateQuery)), (s) => s.followUpTaskId !== null);
      const rob = await db.prisma.user.findUniqueOrThrow({ where: { email: 'rob.rep@example.com' } });
      expect(state.ownerId).toBe(rob.id);
      expect(await db.prisma.task.findFirstOrThrow({ where: { contactId: contact.id } })).toMatchObject({ assigneeId: rob.id });
      const messages = await db.prisma.message.findMany({ where: { contactId: contact.id } });
      expect(messages).toHaveLength(1);
      expect(messages[0]!.html).toContain('one of our team');

      await recordHistory(handle, 'contact-lifecycle-v2-capacity-wait.json');
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it('stops waiting for a rep when the contact is deleted or merged into another, and opens no follow-up task', async () => {
    const { contact, worker, handle } = await leadWhileEveryRepIsFull('Wanda', 'routing-wait');
    try {
      await idleOnTimer(env.client, handle.workflowId);
      await handle.signal(contactDeletedSignal);
      // Without skipping time: the wait ends on the signal, not on its hour.
      await closedWithoutSkipping(handle);
      expect(await db.prisma.task.count({ where: { contactId: contact.id } })).toBe(0);
      expect((await db.prisma.contact.findUniqueOrThrow({ where: { id: contact.id } })).ownerId).toBeNull();
      await recordHistory(handle, 'contact-lifecycle-v3-deleted-during-routing-wait.json');
    } finally {
      await worker.stop();
    }
  });
});
