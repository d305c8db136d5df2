import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { uploadAbandonedError } from '../../activities/import/batch';
import { loadConfig } from '../../runtime/config';
import { maintenanceSchedules } from '../../runtime/schedules';
import { dataRetention } from '../../workflows/data-retention';
import { importUploadCleanup } from '../../workflows/import-upload-cleanup';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { closedWithoutSkipping, startCaptureWorker, startTimeSkippingServer } from '../support/time-skipping';
import { recordHistory } from '../support/histories';

const taskQueue = 'maintenance-cleanups';
const minute = 60_000;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: { stop(): Promise<void> };

beforeAll(async () => {
  [env, db] = await Promise.all([startTimeSkippingServer(), createTestDatabase()]);
  worker = await startCaptureWorker(env, db, taskQueue);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  await db?.drop();
});

/** An import row as an upload leaves it, started `minutesAgo`, with one stored chunk. */
async function upload(status: 'uploading' | 'queued', minutesAgo: number) {
  const row = await db.prisma.import.create({ data: { status, options: {}, chunkSize: 1024 * 1024, createdAt: new Date(Date.now() - minutesAgo * minute) } });
  await db.prisma.importChunk.create({ data: { importId: row.id, seq: 0, data: Buffer.from('email\na@example.com\n') } });
  return row.id;
}

describe('abandoned uploads', () => {
  it('fails the uploads stuck past the age limit and deletes their chunks, and leaves the rest alone', async () => {
    const abandoned = await upload('uploading', 61);
    const arriving = await upload('uploading', 5);
    const queued = await upload('queued', 120);

    const run = () => env.client.workflow.start(importUploadCleanup, { taskQueue, workflowId: `import-upload-cleanup-${randomUUID()}`, args: [{ olderThanMinutes: 60 }] });
    const first = await run();
    await closedWithoutSkipping(first);
    expect(await first.result()).toEqual({ failed: 1 });

    expect(await db.prisma.import.findUniqueOrThrow({ where: { id: abandoned } })).toMatchObject({ status: 'failed', error: uploadAbandonedError, finishedAt: expect.any(Date) });
    expect(uploadAbandonedError).toMatch(/^upload_abandoned: /);
    expect(await db.prisma.importChunk.count({ where: { importId: abandoned } })).toBe(0);
    for (const [id, status] of [[arriving, 'uploading'], [queued, 'queued']] as const) {
      expect(await db.prisma.import.findUniqueOrThrow({ where: { id } })).toMatchObject({ status, error: null });
      expect(await db.prisma.importChunk.count({ where: { importId: id } })).toBe(1);
    }

    const again = await run();
    await closedWithoutSkipping(again);
    expect(await again.result()).toEqual({ failed: 0 });
    await recordHistory(first, 'import-upload-cleanup.json');
  });

  it('runs every quarter of an hour with the configured age', () => {
    const config = loadConfig({ DATABASE_URL: db.url, IMPORT_UPLOAD_ABANDON_MINUTES: '90' });
    expect(maintenanceSchedules(config).find((schedule) => schedule.name === 'import-upload-cleanup')).toEqual({
      name: 'import-upload-cleanup', spec: { intervals: [{ every: '15 minutes' }] }, workflowType: 'importUploadCleanup', args: [{ olderThanMinutes: 90 }],
    });
  });
});

describe('data retention', () => {
  const hour = 60 * minute;
  const storedResponse = (hoursAgo: number) =>
    db.prisma.idempotentRequest.create({
      data: { scope: 'key-1', key: randomUUID(), method: 'POST', path: '/v1/contacts', requestHash: 'h', responseStatus: 201, responseBody: {}, createdAt: new Date(Date.now() - hoursAgo * hour) },
    });
  const counter = (hoursAgo: number) => db.prisma.rateLimitCounter.create({ data: { key: `form:${randomUUID()}`, windowStart: new Date(Date.now() - hoursAgo * hour), hits: 3 } });

  it('deletes stored Idempotency-Key responses past the retention and rate-limit windows older than a day, and keeps the rest', async () => {
    const [oldResponse, freshResponse] = [await storedResponse(25), await storedResponse(23)];
    const [oldWindow, freshWindow] = [await counter(25), await counter(1)];

    const run = () => env.client.workflow.start(dataRetention, { taskQueue, workflowId: `data-retention-${randomUUID()}`, args: [{ idempotencyHours: 24 }] });
    const first = await run();
    await closedWithoutSkipping(first);
    expect(await first.result()).toEqual({ idempotentRequests: 1, rateLimitWindows: 1 });
    expect(await db.prisma.idempotentRequest.findMany({ where: { id: { in: [oldResponse.id, freshResponse.id] } }, select: { id: true } })).toEqual([{ id: freshResponse.id }]);
    const windows = await db.prisma.rateLimitCounter.findMany({ where: { key: { in: [oldWindow.key, freshWindow.key] } }, select: { key: true } });
    expect(windows).toEqual([{ key: freshWindow.key }]);

    const again = await run();
    await closedWithoutSkipping(again);
    expect(await again.result()).toEqual({ idempotentRequests: 0, rateLimitWindows: 0 });
    await recordHistory(first, 'data-retention.json');
  });

  it('runs every hour with the configured retention', () => {
    const config = loadConfig({ DATABASE_URL: db.url, IDEMPOTENCY_RETENTION_HOURS: '48' });
    expect(maintenanceSchedules(config).find((schedule) => schedule.name === 'data-retention')).toEqual({
      name: 'data-retention', spec: { intervals: [{ every: '1 hour' }] }, workflowType: 'dataRetention', args: [{ idempotencyHours: 48 }],
    });
  });
});
