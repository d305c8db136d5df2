import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { uploadAbandonedError } from '../../activities/import/batch';
import { loadConfig } from '../../runtime/config';
import { maintenanceSchedules } from '../../runtime/schedules';
import { importUploadCleanup } from '../../workflows/import-upload-cleanup';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { closedWithoutSkipping, startCaptureWorker, startTimeSkippingServer } from '../support/time-skipping';
import { recordHistory } from '../support/histories';

const taskQueue = 'import-upload-cleanup';
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
