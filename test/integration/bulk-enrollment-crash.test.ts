import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stopChild } from '../../runtime/temporal-dev-server';
import { apiClient } from '../support/api-client';
import { eventually, startTestStack, type TestStack } from '../support/stack';
import { startWorkerProcess } from '../support/worker-process';
import type { BulkEnrollmentView } from '../../domain/schemas/enrollment';

let stack: TestStack;
let marketer: string;
const call = apiClient({ get baseUrl() { return stack.baseUrl; } }, () => marketer);
const children: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startTestStack({ BULK_ENROLLMENT_PAGE_SIZE: '40' });
  marketer = await stack.keyFor('marketer');
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


describe('a worker killed in the middle of a bulk enrollment', () => {
  it('is replaced by another that finishes the job: every contact enrolled once, every enrollment started, counters exact', async () => {
    const total = 400;
    await stack.db.prisma.contact.createMany({
      data: Array.from({ length: total }, (_, i) => ({ firstName: `Crash${i}`, tags: ['crash-segment'] })),
    });
    const sequence = await call<{ id: string }>('POST', '/v1/sequences', {
      body: { name: 'Crash', publish: true, definition: { steps: [{ key: 'pause', type: 'wait', duration: 'P7D' }, { key: 'hello', type: 'email', template: 'welcome' }] } },
    });
    const first = startWorker();
    const started = await call<BulkEnrollmentView>('POST', `/v1/sequences/${sequence.body.id}/bulk-enrollments`, { body: { filter: { tags: { any: ['crash-segment'] } } } });
    expect(started.body.matched).toBe(total);

    // Kill it while a page is under way: more enrollments written than the pages counted so far.
    const enrollments = () => stack.db.prisma.enrollment.count({ where: { sequenceId: sequence.body.id } });
    const job = () => stack.db.prisma.bulkEnrollment.findUniqueOrThrow({ where: { id: started.body.id } });
    await eventually(async () => ({ rows: await enrollments(), counted: (await job()).enrolled }), ({ rows, counted }) => rows >= 60 && rows > counted && rows < total, 90_000);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const atCrash = { rows: await enrollments(), counted: (await job()).enrolled };
    expect(atCrash.rows).toBeGreaterThan(atCrash.counted);

    startWorker();
    const done = await eventually(() => call<BulkEnrollmentView>('GET', `/v1/bulk-enrollments/${started.body.id}`), (reply) => reply.body.status !== 'running', 150_000);
    expect(done.body).toMatchObject({ status: 'completed', matched: total, processed: total, enrolled: total, skipped: 0, failed: 0 });

    const rows = await stack.db.prisma.enrollment.findMany({ where: { sequenceId: sequence.body.id }, select: { id: true, contactId: true, workflowId: true } });
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((row) => row.contactId)).size).toBe(total);
    for (const row of rows) {
      const description = await stack.client.workflow.getHandle(row.workflowId).describe();
      expect(description.memo).toEqual({ enrollmentId: row.id });
    }
  }, 300_000);
});
