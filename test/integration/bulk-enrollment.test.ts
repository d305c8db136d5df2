import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBulkEnrollmentActivities, type BulkPageRequest, type BulkPageResult } from '../../activities/bulk-enrollment';
import type { bulkEnrollment } from '../../workflows/bulk-enrollment';
import { bulkEnrollmentWorkflowType } from '../../workflows/enrollment-messages';
import { bulkEnrollmentWorkflowId } from '../../workflows/workflow-ids';
import { apiClient } from '../support/api-client';
import { recordHistory } from '../support/histories';
import { eventually, startTestStack, type TestStack } from '../support/stack';
import type { BulkEnrollmentView } from '../../domain/schemas/enrollment';

let stack: TestStack;
let marketer: string;
const call = apiClient({ get baseUrl() { return stack.baseUrl; } }, () => marketer);

beforeAll(async () => {
  stack = await startTestStack({ BULK_ENROLLMENT_PAGE_SIZE: '7' });
  marketer = await stack.keyFor('marketer');
  await stack.startWorker();
});
afterAll(() => stack.close());


/** A week's wait first: the enrollments' workflows idle on a timer. */
async function publishedSequence(settings: Record<string, unknown> = {}): Promise<string> {
  const reply = await call<{ id: string }>('POST', '/v1/sequences', {
    body: { name: `bulk ${randomUUID().slice(0, 6)}`, publish: true, definition: { steps: [{ key: 'pause', type: 'wait', duration: 'P7D' }, { key: 'hello', type: 'email', template: 'welcome' }], settings } },
  });
  expect(reply.status).toBe(201);
  return reply.body.id;
}

async function contacts(count: number, data: { tags?: string[]; deletedAt?: Date } = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    ids.push((await stack.db.prisma.contact.create({ data: { firstName: `C${i}`, emails: { create: { address: `c-${randomUUID().slice(0, 8)}@example.com`, isPrimary: true } }, ...data } })).id);
  }
  return ids;
}

const finished = (jobId: string) => eventually(() => call<BulkEnrollmentView>('GET', `/v1/bulk-enrollments/${jobId}`), (reply) => reply.body.status !== 'running', 60_000);

describe('bulk enrollment of a segment', () => {
  it('enrolls every contact of the segment once, page by page, and counts the refusals by reason', async () => {
    const tag = `webinar-${randomUUID().slice(0, 6)}`;
    const sequenceId = await publishedSequence({ suppression: { tags: ['vip-block'], lifecycleStages: [], activeInSequences: [] } });
    const plain = await contacts(40, { tags: [tag] });
    const blocked = await contacts(5, { tags: [tag, 'vip-block'] });
    await contacts(2, { tags: [tag], deletedAt: new Date() });
    await contacts(4, { tags: ['someone-else'] });
    for (const contactId of plain.slice(0, 3)) expect((await call('POST', `/v1/sequences/${sequenceId}/enrollments`, { body: { contactId } })).status).toBe(201);

    const started = await call<BulkEnrollmentView>('POST', `/v1/sequences/${sequenceId}/bulk-enrollments`, { body: { filter: { tags: { any: [tag] } } } });
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(`/v1/bulk-enrollments/${started.body.id}`);
    expect(started.body).toMatchObject({ status: 'running', matched: 45, processed: 0, workflowId: bulkEnrollmentWorkflowId(started.body.id) });

    const done = await finished(started.body.id);
    expect(done.body).toMatchObject({ status: 'completed', matched: 45, processed: 45, enrolled: 37, skipped: 8, failed: 0, skipReasons: { active: 3, suppressed: 5 } });
    const rows = await stack.db.prisma.enrollment.findMany({ where: { sequenceId } });
    expect(rows.filter((row) => row.source === 'bulk')).toHaveLength(37);
    expect(new Set(rows.map((row) => row.contactId)).size).toBe(rows.length);
    expect(rows.filter((row) => blocked.includes(row.contactId))).toEqual([]);
    expect(rows.find((row) => row.source === 'bulk')).toMatchObject({ sourceRef: started.body.id, sourceKey: expect.stringMatching(new RegExp(`^bulk:${started.body.id}:`)) });
    // The last page completes the job row; the workflow ends right after.
    await stack.client.workflow.getHandle(started.body.workflowId).result();

    const listed = await call('GET', `/v1/sequences/${sequenceId}/bulk-enrollments`);
    expect(listed.body.data!.map((job) => job.id)).toEqual([started.body.id]);
  });

  it('refuses a bad filter by field and a sequence that is not published', async () => {
    const sequenceId = await publishedSequence();
    const bad = await call('POST', `/v1/sequences/${sequenceId}/bulk-enrollments`, { body: { filter: { tags: {}, lifecycleStages: ['prospect'] } } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors!.map((error) => error.field)).toEqual(['filter/tags', 'filter/lifecycleStages/0']);
    const draft = await call<{ id: string }>('POST', '/v1/sequences', { body: { name: 'Draft', definition: { steps: [{ key: 'hello', type: 'email', template: 'welcome' }] } } });
    const refused = await call('POST', `/v1/sequences/${draft.body.id}/bulk-enrollments`, { body: { filter: {} } });
    expect([refused.status, refused.body.reason]).toEqual([422, 'unpublished']);
    expect(await stack.db.prisma.bulkEnrollment.count({ where: { sequenceId: { in: [sequenceId, draft.body.id] } } })).toBe(0);
  });

  it('cancels a running job after the page under way, with counters that match the enrollments made (a replay fixture)', async () => {
    const tag = `big-${randomUUID().slice(0, 6)}`;
    const sequenceId = await publishedSequence();
    await contacts(150, { tags: [tag] });
    const started = await call<BulkEnrollmentView>('POST', `/v1/sequences/${sequenceId}/bulk-enrollments`, { body: { filter: { tags: { all: [tag] } } } });
    // At once: the job's 22 pages would be done in a few seconds.
    const cancelling = await call<BulkEnrollmentView>('POST', `/v1/bulk-enrollments/${started.body.id}/cancel`);
    expect(cancelling.status).toBe(202);
    const done = await finished(started.body.id);
    expect(done.body.status).toBe('cancelled');
    expect(done.body.enrolled).toBeLessThan(150);
    expect(done.body.enrolled).toBe(await stack.db.prisma.enrollment.count({ where: { sequenceId } }));
    const handle = stack.client.workflow.getHandle(started.body.workflowId);
    await expect(handle.result()).rejects.toThrow('Workflow execution cancelled');
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect((await call('POST', `/v1/bulk-enrollments/${started.body.id}/cancel`)).status).toBe(409);
    await recordHistory(handle, 'bulk-enrollment-cancelled.json');
  });

  it('counts a page once when two attempts of it run at the same time', async () => {
    const tag = `twice-${randomUUID().slice(0, 6)}`;
    const sequenceId = await publishedSequence();
    await contacts(10, { tags: [tag] });
    const job = await stack.db.prisma.bulkEnrollment.create({ data: { sequenceId, filter: { tags: { any: [tag] } }, matched: 10 } });
    const activities = createBulkEnrollmentActivities({ prisma: stack.db.prisma });
    const attempt = () =>
      new MockActivityEnvironment({ taskQueue: stack.taskQueue }, { client: stack.client }).run<[BulkPageRequest], BulkPageResult, typeof activities.enrollBulkPage>(activities.enrollBulkPage, { jobId: job.id, pageSize: 10 });
    const results = await Promise.all([attempt(), attempt()]);
    expect(results.map((result) => result.processed).sort()).toEqual([0, 10]);
    expect(await stack.db.prisma.bulkEnrollment.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ enrolled: 10, skipped: 0, failed: 0 });
    expect(await stack.db.prisma.enrollment.count({ where: { sequenceId } })).toBe(10);
  });

  it('continues as new every few pages (its first run is a replay fixture)', async () => {
    const tag = `can-${randomUUID().slice(0, 6)}`;
    const sequenceId = await publishedSequence();
    await contacts(9, { tags: [tag] });
    const job = await stack.db.prisma.bulkEnrollment.create({ data: { sequenceId, filter: { tags: { any: [tag] } }, matched: 9 } });
    const handle = await stack.client.workflow.start<typeof bulkEnrollment>(bulkEnrollmentWorkflowType, {
      workflowId: bulkEnrollmentWorkflowId(job.id),
      taskQueue: stack.taskQueue,
      args: [{ jobId: job.id, pageSize: 2, pagesPerRun: 3 }],
    });
    await handle.result();
    expect(await stack.db.prisma.bulkEnrollment.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: 'completed', enrolled: 9 });
    const firstRun = stack.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
    expect((await firstRun.describe()).status.name).toBe('CONTINUED_AS_NEW');
    await recordHistory(firstRun, 'bulk-enrollment-continue-as-new.json');
  });
});
