import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { contactStateQuery } from '../../workflows/contact-lifecycle';
import { contactWorkflowId } from '../../workflows/workflow-ids';
import { stopChild } from '../../runtime/temporal-dev-server';
import { eventually, startTestStack, type TestStack } from '../support/stack';
import { startWorkerProcess } from '../support/worker-process';

let stack: TestStack;
const children: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  for (const child of children) await stopChild(child, 2_000);
  await stack.close();
});

function startWorker(): ChildProcess {
  const child = startWorkerProcess(stack);
  children.push(child);
  return child;
}

describe('a worker killed mid-workflow', () => {
  it('is replaced by another that finishes every lead with exactly one welcome email, task and owner', async () => {
    const emails = Array.from({ length: 30 }, (_, i) => `crash-${i}@example.com`);
    const contactIds: string[] = [];
    for (const email of emails) {
      const res = await fetch(`${stack.baseUrl}/v1/forms/demo-contact/submissions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      });
      expect(res.status).toBe(202);
      contactIds.push(((await res.json()) as { contactId: string }).contactId);
    }

    const first = startWorker();
    // Kill it the moment work is visibly under way: some leads done, others mid-activity.
    await eventually(() => stack.db.prisma.message.count({ where: { contactId: { in: contactIds } } }), (n) => n >= 1, 60_000);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    // Welcome emails and follow-up tasks (the last step) finished before the crash.
    const doneBeforeCrash =
      (await stack.db.prisma.message.count({ where: { contactId: { in: contactIds } } })) +
      (await stack.db.prisma.task.count({ where: { contactId: { in: contactIds } } }));

    startWorker();
    for (const contactId of contactIds) {
      const handle = stack.client.workflow.getHandle(contactWorkflowId(contactId));
      await eventually(() => handle.query(contactStateQuery), (state) => state.welcome === 'sent' && state.followUpTaskId !== null, 90_000);
    }

    for (const contactId of contactIds) {
      const messages = await stack.db.prisma.message.findMany({ where: { contactId } });
      expect(messages.map((m) => m.status)).toEqual(['accepted']);
      expect(await stack.db.prisma.task.count({ where: { contactId } })).toBe(1);
      expect(await stack.db.prisma.auditLog.count({ where: { entityId: contactId, action: 'contact.owner_assigned' } })).toBe(1);
    }
    expect(doneBeforeCrash).toBeLessThan(2 * contactIds.length);
  }, 180_000);
});
