import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createApp } from '../../api/app';
import { seedDemoData } from '../../prisma/seed';
import { loadConfig } from '../../runtime/config';
import { createMetrics } from '../../runtime/metrics';
import { resolveTemporalTestServer } from '../../runtime/temporal-binaries';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { consentingContact, createSequence, createTemplate, enroll, startSequenceWorker } from '../support/sequences';
import { eventually } from '../support/stack';

/**
 * A merge of contacts running sequences, with the real enrollment workflows on the
 * time-skipping server: the sequence waits three days between its emails, and the merge
 * happens during the wait; the test then moves time past it (env.sleep) before it reads the
 * results.
 */
const taskQueue = 'merge-enrollments';
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: { stop(): Promise<void> };
let server: Server;
let baseUrl: string;
let adminKey: string;

beforeAll(async () => {
  [env, db] = await Promise.all([
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: resolveTemporalTestServer() } } }),
    createTestDatabase(),
  ]);
  adminKey = (await seedDemoData(db.prisma)).adminApiKey!;
  await createTemplate(db.prisma, 'merge-intro', 'email', [{ subject: 'Hi {{contact.firstName}}', html: '<p>Welcome.</p>' }]);
  await createTemplate(db.prisma, 'merge-followup', 'email', [{ subject: 'Following up, {{contact.firstName}}', html: '<p>Checking in.</p>' }]);
  worker = await startSequenceWorker(env, db, taskQueue);
  const config = loadConfig({ DATABASE_URL: db.url, TEMPORAL_TASK_QUEUE: taskQueue, LOG_LEVEL: 'silent', PORT: '0' });
  const app = createApp({ prisma: db.prisma, temporal: env.client, config, logger: pino({ level: 'silent' }), metrics: createMetrics('api') });
  server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await worker?.stop();
  await env?.teardown();
  await db?.drop();
});

const drip = { steps: [{ key: 'intro', type: 'email', template: 'merge-intro' }, { key: 'wait', type: 'wait', duration: 'P3D' }, { key: 'followup', type: 'email', template: 'merge-followup' }] };

async function merge(survivorId: string, mergeIds: string[]) {
  const res = await fetch(`${baseUrl}/v1/contacts/${survivorId}/merge`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ mergeIds }),
  });
  return { status: res.status, body: (await res.json()) as { moved: Record<string, number> } };
}

const introSent = (enrollmentId: string) =>
  eventually(() => db.prisma.message.findUnique({ where: { idempotencyKey: `enrollment:${enrollmentId}:intro:1` } }), (message) => message !== null);

describe('merging contacts that run sequences', () => {
  it('ends the merged contact\'s run of a sequence the survivor also runs, so its next email goes out once', async () => {
    const sequence = await createSequence(db.prisma, [{ definition: drip }]);
    const ada = await consentingContact(db.prisma, { firstName: 'Ada' });
    const adaAgain = await consentingContact(db.prisma, { firstName: 'Ada' });
    const kept = await enroll(env, db.prisma, taskQueue, sequence, ada.id);
    const duplicate = await enroll(env, db.prisma, taskQueue, sequence, adaAgain.id);
    await Promise.all([introSent(kept.enrollment.id), introSent(duplicate.enrollment.id)]);

    const reply = await merge(ada.id, [adaAgain.id]);
    expect(reply.status).toBe(200);
    expect(reply.body.moved).toMatchObject({ enrollmentsContinued: 0, enrollmentsEnded: 1, messages: 1 });
    await env.sleep('4 days');
    await Promise.all([kept.handle.result(), duplicate.handle.result()]);

    const messages = await db.prisma.message.findMany({ where: { contactId: ada.id }, orderBy: { createdAt: 'asc' } });
    expect(messages.map((message) => message.templateKey)).toEqual(['merge-intro', 'merge-intro', 'merge-followup']);
    expect(messages[2]!.idempotencyKey).toBe(`enrollment:${kept.enrollment.id}:followup:1`);
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: duplicate.enrollment.id } })).toMatchObject({
      contactId: ada.id, status: 'exited', stopReason: 'merged', activeKey: null,
    });
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: kept.enrollment.id } })).toMatchObject({ status: 'completed', stopReason: 'completed' });
    const duplicateSteps = await db.prisma.enrollmentStep.findMany({ where: { enrollmentId: duplicate.enrollment.id } });
    expect(duplicateSteps.map((step) => step.stepKey)).not.toContain('followup');
  }, 60_000);

  it('moves a run the survivor does not have to the survivor, where it goes on and writes to the survivor\'s primary address', async () => {
    const sequence = await createSequence(db.prisma, [{ definition: drip }]);
    const bo = await consentingContact(db.prisma, { firstName: 'Bo' });
    const boAgain = await consentingContact(db.prisma, { firstName: 'Bo' });
    const run = await enroll(env, db.prisma, taskQueue, sequence, boAgain.id);
    await introSent(run.enrollment.id);

    const reply = await merge(bo.id, [boAgain.id]);
    expect(reply.status).toBe(200);
    expect(reply.body.moved).toMatchObject({ enrollmentsContinued: 1, enrollmentsEnded: 0 });
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: run.enrollment.id } })).toMatchObject({ contactId: bo.id, activeKey: `${sequence.id}:${bo.id}` });
    await env.sleep('4 days');
    await run.handle.result();

    const primary = await db.prisma.contactEmail.findFirstOrThrow({ where: { contactId: bo.id, isPrimary: true } });
    const followup = await db.prisma.message.findUniqueOrThrow({ where: { idempotencyKey: `enrollment:${run.enrollment.id}:followup:1` } });
    expect(followup).toMatchObject({ contactId: bo.id, toAddress: primary.address });
    expect(await db.prisma.message.count({ where: { templateKey: 'merge-followup', contactId: { in: [bo.id, boAgain.id] } } })).toBe(1);
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: run.enrollment.id } })).toMatchObject({ status: 'completed', contactId: bo.id });
  }, 60_000);
});
