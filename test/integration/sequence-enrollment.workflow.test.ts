import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { temporal } from '@temporalio/proto';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import pino from 'pino';
import { createEnrollmentNotifyActivities, type EnrollmentNotice } from '../../activities/enrollment-notify';
import { createApp } from '../../api/app';
import { startSequenceMigration } from '../../api/services/sequence-migrations';
import { weekdays } from '../../domain/schemas/sequence';
import { chooseVariant } from '../../domain/split-cohort';
import { seedDemoData } from '../../prisma/seed';
import { loadConfig } from '../../runtime/config';
import { createMetrics } from '../../runtime/metrics';
import { contactMergedSignal, enrollmentEventSignal, pauseUpdate, progressQuery, resumeUpdate, unenrollSignal } from '../../workflows/enrollment-messages';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { recordHistory } from '../support/histories';
import { consentingContact, createSequence, createTemplate, enroll, publishNextVersion } from '../support/sequences';
import { eventually } from '../support/stack';
import { answered, closedWithoutSkipping, idleOnTimer, startCaptureWorker, startTimeSkippingServer } from '../support/time-skipping';

const taskQueue = 'sequence-enrollment';
const day = 86_400_000;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: { stop(): Promise<void> };
let ritaId: string;
let repApiKey: string;

beforeAll(async () => {
  [env, db] = await Promise.all([
    startTimeSkippingServer(),
    createTestDatabase(),
  ]);
  const seed = await seedDemoData(db.prisma);
  repApiKey = seed.repApiKey!;
  ritaId = (await db.prisma.user.findUniqueOrThrow({ where: { email: 'rita.rep@example.com' } })).id;
  await createTemplate(db.prisma, 'drip-intro', 'email', [{ subject: 'Hi {{contact.firstName}}', html: '<p>Welcome aboard, {{contact.firstName}}.</p>' }]);
  await createTemplate(db.prisma, 'drip-followup', 'email', [{ subject: 'Did you see this, {{contact.firstName}}?', html: '<p>Just checking in.</p>' }]);
  await createTemplate(db.prisma, 'drip-nudge', 'sms', [{ text: 'Hi {{contact.firstName}}, thanks for reading. Reply YES for a call.' }]);
  worker = await startCaptureWorker(env, db, taskQueue);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  await db?.drop();
});

const stepsOf = async (enrollmentId: string) =>
  (await db.prisma.enrollmentStep.findMany({ where: { enrollmentId }, orderBy: { at: 'asc' } })).map((step) => ({ ...step, pair: [step.stepKey, step.outcome] }));
const messagesOf = (contactId: string) => db.prisma.message.findMany({ where: { contactId }, orderBy: { createdAt: 'asc' } });
const ms = (date: Date | null | undefined) => date!.getTime();

const waitThenFollowUp = {
  steps: [
    { key: 'intro', type: 'email', template: 'drip-intro' },
    { key: 'three-days', type: 'wait', duration: 'P3D' },
    { key: 'followup', type: 'email', template: 'drip-followup' },
  ],
};

describe('a 30-day drip sequence on the time-skipping server', () => {
  it('runs email, wait, branch on opened, sms or email, weekday window, task, update and end in seconds, exactly once each', async () => {
    const sequence = await createSequence(db.prisma, [
      {
        definition: {
          steps: [
            { key: 'intro', type: 'email', template: 'drip-intro' },
            { key: 'three-days', type: 'wait', duration: 'P3D' },
            {
              key: 'opened-intro',
              type: 'branch',
              condition: { type: 'message', step: 'intro', event: 'opened' },
              then: [{ key: 'nudge-sms', type: 'sms', template: 'drip-nudge' }],
              else: [{ key: 'resend', type: 'email', template: 'drip-followup' }],
            },
            { key: 'tuesday-window', type: 'wait', until: { days: ['tue'], start: '09:00', end: '11:00' } },
            { key: 'call', type: 'task', title: 'Call about the drip', taskType: 'call', priority: 'high', dueInBusinessDays: 2 },
            { key: 'mark', type: 'update', lifecycleStage: 'mql', addTags: ['drip-done'], fields: { dripFinished: true } },
            { key: 'settle', type: 'wait', duration: 'P23D' },
            { key: 'done', type: 'end' },
          ],
        },
      },
    ]);
    const ada = await consentingContact(db.prisma, { firstName: 'Ada', ownerId: ritaId, timeZone: 'America/New_York' });
    const bob = await consentingContact(db.prisma, { firstName: 'Bob', ownerId: ritaId });
    const startedAt = Date.now();
    const a = await enroll(env, db.prisma, taskQueue, sequence, ada.id);
    const b = await enroll(env, db.prisma, taskQueue, sequence, bob.id);

    // Ada opens the intro during the 3-day wait, as the SendGrid event webhook would record it.
    const adaIntro = await eventually(() => db.prisma.message.findUnique({ where: { idempotencyKey: `enrollment:${a.enrollment.id}:intro:1` } }), (message) => message !== null);
    await db.prisma.messageEvent.create({ data: { messageId: adaIntro!.id, provider: 'capture', event: 'open', occurredAt: new Date() } });
    // One result at a time: each await lets the test server skip time, and overlapping ones confuse its lock count.
    for (const run of [a, b]) await run.handle.result();
    expect(Date.now() - startedAt).toBeLessThan(20_000);

    const adaMessages = await messagesOf(ada.id);
    expect(adaMessages.map(({ channel, templateKey, idempotencyKey, transactional, subject, text }) => ({ channel, templateKey, idempotencyKey, transactional, subject, text }))).toEqual([
      { channel: 'email', templateKey: 'drip-intro', idempotencyKey: `enrollment:${a.enrollment.id}:intro:1`, transactional: false, subject: 'Hi Ada', text: expect.stringContaining('Welcome aboard, Ada.') },
      { channel: 'sms', templateKey: 'drip-nudge', idempotencyKey: `enrollment:${a.enrollment.id}:nudge-sms:1`, transactional: false, subject: null, text: 'Hi Ada, thanks for reading. Reply YES for a call.' },
    ]);
    const bobMessages = await messagesOf(bob.id);
    expect(bobMessages.map(({ templateKey, idempotencyKey, subject }) => ({ templateKey, idempotencyKey, subject }))).toEqual([
      { templateKey: 'drip-intro', idempotencyKey: `enrollment:${b.enrollment.id}:intro:1`, subject: 'Hi Bob' },
      { templateKey: 'drip-followup', idempotencyKey: `enrollment:${b.enrollment.id}:resend:1`, subject: 'Did you see this, Bob?' },
    ]);

    const adaSteps = await stepsOf(a.enrollment.id);
    expect(adaSteps.map((step) => step.pair)).toEqual([
      ['intro', 'sent'],
      ['three-days', 'waited'],
      ['opened-intro', 'then'],
      ['nudge-sms', 'sent'],
      ['tuesday-window', 'waited'],
      ['call', 'task_created'],
      ['mark', 'updated'],
      ['settle', 'waited'],
      ['done', 'ended'],
    ]);
    expect((await stepsOf(b.enrollment.id)).map((step) => step.pair).slice(2, 4)).toEqual([
      ['opened-intro', 'else'],
      ['resend', 'sent'],
    ]);
    const byKey = Object.fromEntries(adaSteps.map((step) => [step.stepKey, step]));
    expect(byKey.intro!.messageId).toBe(adaIntro!.id);
    expect(byKey['opened-intro']!.detail).toEqual({ messages: { intro: { delivered: true, opened: true, clicked: false, replied: false, bounced: false } } });
    // The timeline in workflow time: three days, then the next Tuesday 09:00-11:00 in New York, then 23 days.
    expect(ms(byKey['three-days']!.at) - ms(byKey.intro!.at)).toBeGreaterThanOrEqual(3 * day);
    expect(ms(byKey['three-days']!.at) - ms(byKey.intro!.at)).toBeLessThan(3 * day + 60_000);
    const tuesday = DateTime.fromJSDate(byKey['tuesday-window']!.at, { zone: 'America/New_York' });
    expect(tuesday.weekday).toBe(2);
    expect(tuesday.hour === 9 || tuesday.hour === 10).toBe(true);
    expect(ms(byKey.settle!.at) - ms(byKey['tuesday-window']!.at)).toBeGreaterThanOrEqual(23 * day);

    const task = await db.prisma.task.findFirstOrThrow({ where: { contactId: ada.id } });
    expect(task).toMatchObject({
      type: 'call',
      priority: 'high',
      title: 'Call about the drip',
      status: 'open',
      assigneeId: ritaId,
      sourceType: 'sequence',
      sourceRef: a.workflowId,
      sourceKey: `enrollment:${a.enrollment.id}:call:1`,
    });
    expect(byKey.call!.taskId).toBe(task.id);
    expect(await db.prisma.task.count({ where: { contactId: { in: [ada.id, bob.id] } } })).toBe(2);

    const updated = await db.prisma.contact.findUniqueOrThrow({ where: { id: ada.id } });
    expect(updated).toMatchObject({ lifecycleStage: 'mql', tags: ['drip-done'], customFields: { dripFinished: true } });
    const stageChange = await db.prisma.activity.findFirstOrThrow({ where: { contactId: ada.id, type: 'lifecycle_changed' } });
    expect(stageChange.data).toMatchObject({ from: 'lead', to: 'mql', source: 'sequence', enrollmentId: a.enrollment.id, stepKey: 'mark' });

    const ended = await db.prisma.enrollment.findUniqueOrThrow({ where: { id: a.enrollment.id } });
    expect(ended).toMatchObject({ status: 'completed', stopReason: 'completed', converted: false, activeKey: null, currentStepKey: null });
    expect(ms(ended.endedAt) - ms(byKey.intro!.at)).toBeGreaterThan(26 * day);
    expect(ms(ended.endedAt) - ms(byKey.intro!.at)).toBeLessThan(34 * day);
    const progress = await answered(env.client, () => a.handle.query(progressQuery));
    expect(progress).toMatchObject({ enrollmentId: a.enrollment.id, status: 'completed', stopReason: 'completed', waitingUntil: null });
    expect(progress.history.at(-1)).toMatchObject({ stepKey: 'done', outcome: 'ended' });

    await recordHistory(a.handle, 'sequence-enrollment-v1-drip.json');
  }, 60_000);
});

describe('exits', () => {
  it('ends at once when a reply arrives mid-wait, sends nothing more, and ends colleagues\' enrollments that exit on company replies', async () => {
    const company = await db.prisma.company.create({ data: { name: 'Acme', domain: `acme-${randomUUID().slice(0, 8)}.example` } });
    const plain = await createSequence(db.prisma, [{ definition: waitThenFollowUp }]);
    const companyWide = await createSequence(db.prisma, [{ definition: { ...waitThenFollowUp, settings: { exitOn: ['replied', 'company_replied'] } } }]);
    const cleo = await consentingContact(db.prisma, { firstName: 'Cleo', companyId: company.id });
    const dora = await consentingContact(db.prisma, { firstName: 'Dora', companyId: company.id });
    const eve = await consentingContact(db.prisma, { firstName: 'Eve', companyId: company.id });
    const c = await enroll(env, db.prisma, taskQueue, plain, cleo.id);
    const d = await enroll(env, db.prisma, taskQueue, companyWide, dora.id);
    const e = await enroll(env, db.prisma, taskQueue, plain, eve.id);
    for (const { handle } of [c, d, e]) await eventually(() => answered(env.client, () => handle.query(progressQuery)), (progress) => progress.waitingUntil !== null);

    await env.sleep(day);
    const repliedAt = await env.currentTimeMs();
    const notify = createEnrollmentNotifyActivities({ prisma: db.prisma });
    const eventId = randomUUID();
    const notice: EnrollmentNotice = { contactId: cleo.id, eventId, kind: 'replied' };
    const { signalled } = await new MockActivityEnvironment({}, { client: env.client }).run<[EnrollmentNotice], { signalled: number }, typeof notify.notifyEnrollments>(notify.notifyEnrollments, notice);
    expect(signalled).toBe(2);
    // Polled rather than awaiting results: that would let the test server skip Eve's wait too.
    const ended = (id: string) => eventually(() => db.prisma.enrollment.findUniqueOrThrow({ where: { id } }), (row) => row.endedAt !== null);
    await Promise.all([ended(c.enrollment.id), ended(d.enrollment.id)]);

    const cleoEnrollment = await db.prisma.enrollment.findUniqueOrThrow({ where: { id: c.enrollment.id } });
    expect(cleoEnrollment).toMatchObject({ status: 'exited', stopReason: 'replied', converted: true, activeKey: null, currentStepKey: 'three-days' });
    expect(ms(cleoEnrollment.endedAt) - repliedAt).toBeGreaterThanOrEqual(0);
    expect(ms(cleoEnrollment.endedAt) - repliedAt).toBeLessThan(1000);
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: d.enrollment.id } })).toMatchObject({ status: 'exited', stopReason: 'company_replied' });
    expect((await answered(env.client, () => e.handle.query(progressQuery))).status).toBe('active');
    await e.handle.signal(unenrollSignal, { reason: 'test cleanup', byUserId: null });
    await closedWithoutSkipping(e.handle);

    // Long after the wait would have ended, still only the intro.
    await env.sleep(5 * day);
    expect((await messagesOf(cleo.id)).map((message) => message.templateKey)).toEqual(['drip-intro']);
    expect((await stepsOf(c.enrollment.id)).map((step) => step.pair)).toEqual([['intro', 'sent']]);
    await recordHistory(c.handle, 'sequence-enrollment-v1-reply-exit.json');
  }, 30_000);

  it('always ends on an unsubscribe, even mid send-window wait and with an empty exitOn, and ignores events it does not exit on', async () => {
    const now = DateTime.fromMillis(await env.currentTimeMs(), { zone: 'Europe/Berlin' });
    const closedToday = weekdays[now.plus({ days: 2 }).weekday - 1]!;
    const sequence = await createSequence(db.prisma, [
      { definition: { ...waitThenFollowUp, settings: { exitOn: [], sendWindow: { days: [closedToday], start: '09:00', end: '17:00', fallbackTimeZone: 'Europe/Berlin' } } } },
    ]);
    const fay = await consentingContact(db.prisma, { firstName: 'Fay' });
    const { handle, enrollment } = await enroll(env, db.prisma, taskQueue, sequence, fay.id);
    await eventually(() => answered(env.client, () => handle.query(progressQuery)), (progress) => progress.waitingUntil !== null);

    await handle.signal(enrollmentEventSignal, { eventId: randomUUID(), kind: 'replied' });
    await handle.signal(enrollmentEventSignal, { eventId: randomUUID(), kind: 'lifecycle_changed', stage: 'customer' });
    expect(await answered(env.client, () => handle.query(progressQuery))).toMatchObject({ status: 'active', stopReason: null, currentStepKey: 'intro' });
    await handle.signal(enrollmentEventSignal, { eventId: randomUUID(), kind: 'unsubscribed' });
    await closedWithoutSkipping(handle);

    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: enrollment.id } })).toMatchObject({ status: 'exited', stopReason: 'unsubscribed', converted: false, activeKey: null });
    expect(await messagesOf(fay.id)).toEqual([]);
  }, 30_000);

  it('ends on unenroll with the reason as its detail', async () => {
    const sequence = await createSequence(db.prisma, [{ definition: waitThenFollowUp }]);
    const gus = await consentingContact(db.prisma, { firstName: 'Gus' });
    const { handle, enrollment } = await enroll(env, db.prisma, taskQueue, sequence, gus.id);
    await eventually(() => answered(env.client, () => handle.query(progressQuery)), (progress) => progress.waitingUntil !== null);
    await handle.signal(unenrollSignal, { reason: 'asked to stop on the phone', byUserId: ritaId });
    await closedWithoutSkipping(handle);
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: enrollment.id } })).toMatchObject({
      status: 'exited',
      stopReason: 'unenrolled',
      stopDetail: 'asked to stop on the phone',
      converted: false,
    });
    expect((await messagesOf(gus.id)).length).toBe(1);
  }, 30_000);
});

describe('contact merge', () => {
  it('goes on with the survivor when it keeps the enrollment, and ends with merged when it does not', async () => {
    const sequence = await createSequence(db.prisma, [{ definition: waitThenFollowUp }]);
    const [kept, dropped, survivor] = await Promise.all(['Kay', 'Lou', 'Mo'].map((firstName) => consentingContact(db.prisma, { firstName })));
    const k = await enroll(env, db.prisma, taskQueue, sequence, kept!.id);
    const l = await enroll(env, db.prisma, taskQueue, sequence, dropped!.id);
    for (const { handle } of [k, l]) await eventually(() => answered(env.client, () => handle.query(progressQuery)), (progress) => progress.waitingUntil !== null);

    // The merge moves the enrollment row first, then tells the workflow.
    await db.prisma.enrollment.update({ where: { id: k.enrollment.id }, data: { contactId: survivor!.id } });
    await k.handle.signal(contactMergedSignal, { survivorContactId: survivor!.id, keep: true });
    await l.handle.signal(contactMergedSignal, { survivorContactId: survivor!.id, keep: false });
    for (const run of [l, k]) await run.handle.result();

    expect((await messagesOf(survivor!.id)).map((message) => message.idempotencyKey)).toEqual([`enrollment:${k.enrollment.id}:followup:1`]);
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: k.enrollment.id } })).toMatchObject({ status: 'completed', contactId: survivor!.id });
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: l.enrollment.id } })).toMatchObject({ status: 'exited', stopReason: 'merged', stopDetail: survivor!.id });
    expect((await messagesOf(dropped!.id)).map((message) => message.templateKey)).toEqual(['drip-intro']);
  }, 30_000);
});

describe('pause and resume', () => {
  it('runs no step while paused; a wait that ended meanwhile goes on at the resume', async () => {
    const sequence = await createSequence(db.prisma, [
      {
        definition: {
          steps: [
            { key: 'first', type: 'email', template: 'drip-intro' },
            { key: 'hour', type: 'wait', duration: 'PT1H' },
            { key: 'second', type: 'email', template: 'drip-followup' },
          ],
        },
      },
    ]);
    const hal = await consentingContact(db.prisma, { firstName: 'Hal' });
    const { handle, enrollment } = await enroll(env, db.prisma, taskQueue, sequence, hal.id);
    await eventually(() => answered(env.client, () => handle.query(progressQuery)), (progress) => progress.waitingUntil !== null);

    const paused = await handle.executeUpdate(pauseUpdate, { args: [{ byUserId: ritaId }] });
    expect(paused).toMatchObject({ status: 'paused', currentStepKey: 'hour' });
    expect((await db.prisma.enrollment.findUniqueOrThrow({ where: { id: enrollment.id } })).status).toBe('paused');

    await env.sleep(2 * 3_600_000);
    const held = await eventually(() => answered(env.client, () => handle.query(progressQuery)), (progress) => progress.waitingUntil === null);
    expect(held).toMatchObject({ status: 'paused', currentStepKey: 'hour' });
    expect((await messagesOf(hal.id)).length).toBe(1);
    const resumedAt = await env.currentTimeMs();

    expect(await handle.executeUpdate(resumeUpdate, { args: [{ byUserId: ritaId }] })).toMatchObject({ status: 'active' });
    await handle.result();
    expect((await messagesOf(hal.id)).map((message) => message.templateKey)).toEqual(['drip-intro', 'drip-followup']);
    const steps = await stepsOf(enrollment.id);
    expect(ms(steps.find((step) => step.stepKey === 'hour')!.at)).toBeGreaterThanOrEqual(resumedAt);
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: enrollment.id } })).toMatchObject({ status: 'completed', stopReason: 'completed' });
    await recordHistory(handle, 'sequence-enrollment-v1-pause-resume.json');
  }, 30_000);
});

describe('a call step', () => {
  it('waits until the rep completes the task through the tasks API, then goes on', async () => {
    const config = loadConfig({ DATABASE_URL: db.url, TEMPORAL_TASK_QUEUE: taskQueue, LOG_LEVEL: 'silent', PORT: '0' });
    const app = createApp({ prisma: db.prisma, temporal: env.client, config, logger: pino({ level: 'silent' }), metrics: createMetrics('api') });
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    try {
      const sequence = await createSequence(db.prisma, [
        {
          definition: {
            steps: [
              { key: 'call', type: 'task', title: 'Call Ivy', taskType: 'call', priority: 'urgent', dueInBusinessDays: 0, waitForCompletion: true },
              { key: 'after', type: 'email', template: 'drip-followup' },
            ],
          },
        },
      ]);
      const ivy = await consentingContact(db.prisma, { firstName: 'Ivy', ownerId: ritaId });
      const { handle, enrollment } = await enroll(env, db.prisma, taskQueue, sequence, ivy.id);
      const task = await eventually(() => db.prisma.task.findUnique({ where: { sourceKey: `enrollment:${enrollment.id}:call:1` } }), (found) => found !== null);
      expect(task).toMatchObject({ type: 'call', priority: 'urgent', assigneeId: ritaId, sourceType: 'sequence' });

      await env.sleep(3 * day);
      expect(await answered(env.client, () => handle.query(progressQuery))).toMatchObject({ status: 'active', currentStepKey: 'call' });
      expect(await messagesOf(ivy.id)).toEqual([]);

      const { port } = server.address() as AddressInfo;
      const reply = await fetch(`http://127.0.0.1:${port}/v1/tasks/${task!.id}/complete`, {
        method: 'POST',
        headers: { authorization: `Bearer ${repApiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ outcome: 'connected' }),
      });
      expect(reply.status).toBe(200);
      await closedWithoutSkipping(handle);
      expect((await messagesOf(ivy.id)).map((message) => message.templateKey)).toEqual(['drip-followup']);
      expect((await stepsOf(enrollment.id)).map((step) => [...step.pair, step.taskId])).toEqual([
        ['call', 'task_completed', task!.id],
        ['after', 'sent', null],
      ]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 30_000);
});

describe('A/B split', () => {
  it('puts each enrollment in its deterministic variant and records it on the enrollment and the step', async () => {
    const variants = [
      { key: 'a', percent: 50 },
      { key: 'b', percent: 50 },
    ];
    const sequence = await createSequence(db.prisma, [
      {
        definition: {
          steps: [
            {
              key: 'offer',
              type: 'split',
              variants: [
                { key: 'a', percent: 50, steps: [{ key: 'offer-a', type: 'email', template: 'drip-intro' }] },
                { key: 'b', percent: 50, steps: [{ key: 'offer-b', type: 'email', template: 'drip-followup' }] },
              ],
            },
            { key: 'done', type: 'end' },
          ],
        },
      },
    ]);
    // Two enrollment ids of each cohort, so both arms run whatever the hash does with random ids.
    const ids: string[] = [];
    for (const wanted of ['a', 'a', 'b', 'b']) {
      let id = randomUUID();
      while (chooseVariant(id, 'offer', variants) !== wanted) id = randomUUID();
      ids.push(id);
    }
    const runs = await Promise.all(
      ids.map(async (enrollmentId, index) => {
        const contact = await consentingContact(db.prisma, { firstName: `Split${index}` });
        return { contact, ...(await enroll(env, db.prisma, taskQueue, sequence, contact.id, { enrollmentId })) };
      }),
    );
    for (const run of runs) await run.handle.result();

    for (const run of runs) {
      const variant = chooseVariant(run.enrollment.id, 'offer', variants);
      expect((await db.prisma.enrollment.findUniqueOrThrow({ where: { id: run.enrollment.id } })).variants).toEqual({ offer: variant });
      const steps = await stepsOf(run.enrollment.id);
      expect(steps.map((step) => [...step.pair, step.variant])).toEqual([
        ['offer', 'variant', variant],
        [`offer-${variant}`, 'sent', null],
        ['done', 'ended', null],
      ]);
      expect((await messagesOf(run.contact.id)).map((message) => message.templateKey)).toEqual([variant === 'a' ? 'drip-intro' : 'drip-followup']);
    }
  }, 30_000);
});

describe('continue-as-new', () => {
  it('keeps the position, the visit counts and the loop across runs', async () => {
    const sequence = await createSequence(db.prisma, [
      {
        definition: {
          steps: [
            { key: 'ping', type: 'email', template: 'drip-intro' },
            { key: 'day', type: 'wait', duration: 'P1D' },
            { key: 'check-stop', type: 'branch', condition: { type: 'tag', has: 'stop-pings' }, then: [{ key: 'finish', type: 'end' }], else: [{ key: 'again', type: 'goto', target: 'ping' }] },
          ],
        },
      },
    ]);
    const jo = await consentingContact(db.prisma, { firstName: 'Jo' });
    const { handle, enrollment } = await enroll(env, db.prisma, taskQueue, sequence, jo.id, { input: { continueAsNewAfterSteps: 3 } });
    const pings = () => db.prisma.message.count({ where: { contactId: jo.id } });
    for (const expected of [1, 2, 3]) {
      await eventually(pings, (count) => count === expected);
      await idleOnTimer(env.client, handle.workflowId);
      if (expected === 3) await db.prisma.contact.update({ where: { id: jo.id }, data: { tags: ['stop-pings'] } });
      await env.sleep(day);
    }
    await closedWithoutSkipping(handle);

    expect((await messagesOf(jo.id)).map((message) => message.idempotencyKey)).toEqual([1, 2, 3].map((visit) => `enrollment:${enrollment.id}:ping:${visit}`));
    const steps = await stepsOf(enrollment.id);
    expect(steps.map((step) => `${step.stepKey}:${step.visit}:${step.outcome}`)).toEqual([
      'ping:1:sent', 'day:1:waited', 'check-stop:1:else', 'again:1:goto',
      'ping:2:sent', 'day:2:waited', 'check-stop:2:else', 'again:2:goto',
      'ping:3:sent', 'day:3:waited', 'check-stop:3:then', 'finish:1:ended',
    ]);
    // Follow the chain of runs from the first: 12 steps at 3 per run is at least 3 continue-as-new.
    let runs = 1;
    let runId: string | undefined = handle.firstExecutionRunId;
    for (;;) {
      const history: temporal.api.history.v1.IHistory = await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
      const next: string | null | undefined = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      if (!next) break;
      runs += 1;
      runId = next;
    }
    expect(runs).toBeGreaterThanOrEqual(4);
  }, 30_000);
});

describe('migrating to a newer version', () => {
  const principal = { apiKeyId: randomUUID(), role: 'admin' as const, userId: null };
  const migrate = async (sequenceId: string, fromVersion: number, toVersion: number, stepMap: Record<string, string>) => {
    const started = await startSequenceMigration({ prisma: db.prisma, temporal: env.client, taskQueue }, sequenceId, { fromVersion, toVersion, stepMap, dryRun: false }, principal);
    if (!('job' in started)) throw new Error('expected a job');
    return eventually(() => db.prisma.sequenceMigration.findUniqueOrThrow({ where: { id: started.job.id } }), (job) => job.status !== 'running');
  };
  const v1 = {
    steps: [
      { key: 'intro', type: 'email', template: 'drip-intro' },
      { key: 'day', type: 'wait', duration: 'P1D' },
      { key: 'old-final', type: 'email', template: 'drip-followup' },
    ],
  };

  it('finishes the wait under way on the old version, then goes on at the mapped step of the new one, sending nothing twice', async () => {
    const sequence = await createSequence(db.prisma, [{ definition: v1 }]);
    const kim = await consentingContact(db.prisma, { firstName: 'Kim' });
    const { handle, enrollment } = await enroll(env, db.prisma, taskQueue, sequence, kim.id);
    await eventually(() => messagesOf(kim.id), (messages) => messages.length === 1);
    await idleOnTimer(env.client, handle.workflowId);
    await publishNextVersion(db.prisma, sequence.id, {
      steps: [
        { key: 'intro', type: 'email', template: 'drip-followup' },
        { key: 'day', type: 'wait', duration: 'P5D' },
        { key: 'extra', type: 'email', template: 'drip-intro' },
        { key: 'final', type: 'email', template: 'drip-followup' },
      ],
    });

    expect(await migrate(sequence.id, 1, 2, { 'old-final': 'extra' })).toMatchObject({ status: 'completed', matched: 1, migrated: 1, skipped: 0, failed: 0 });
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: enrollment.id } })).toMatchObject({ version: 2, currentStepKey: 'day' });
    await env.sleep(day);
    await closedWithoutSkipping(handle);

    expect((await messagesOf(kim.id)).map((message) => message.idempotencyKey)).toEqual([`enrollment:${enrollment.id}:intro:1`, `enrollment:${enrollment.id}:extra:1`, `enrollment:${enrollment.id}:final:1`]);
    expect((await messagesOf(kim.id)).map((message) => message.templateKey)).toEqual(['drip-intro', 'drip-intro', 'drip-followup']);
    expect((await stepsOf(enrollment.id)).map((step) => `${step.stepKey}:v${step.version}`)).toEqual(['intro:v1', 'day:v1', 'extra:v2', 'final:v2']);
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: enrollment.id } })).toMatchObject({ status: 'completed', version: 2 });
    await recordHistory(handle, 'sequence-enrollment-v1-migration.json');
    await recordHistory(env.client.workflow.getHandle(`migrate-enrollments:${(await db.prisma.sequenceMigration.findFirstOrThrow({ where: { sequenceId: sequence.id } })).id}`), 'sequence-migration.json');
  });

  it('takes two migrations in a row while paused and goes on at the step both mappings lead to after the resume', async () => {
    const sequence = await createSequence(db.prisma, [{ definition: v1 }]);
    const lou = await consentingContact(db.prisma, { firstName: 'Lou' });
    const { handle, enrollment } = await enroll(env, db.prisma, taskQueue, sequence, lou.id);
    await eventually(() => messagesOf(lou.id), (messages) => messages.length === 1);
    await idleOnTimer(env.client, handle.workflowId);
    await handle.executeUpdate(pauseUpdate, { args: [{ byUserId: ritaId }] });
    await publishNextVersion(db.prisma, sequence.id, { steps: [{ key: 'intro', type: 'email', template: 'drip-intro' }, { key: 'day', type: 'wait', duration: 'P1D' }, { key: 'middle', type: 'email', template: 'drip-intro' }] });
    await publishNextVersion(db.prisma, sequence.id, { steps: [{ key: 'intro', type: 'email', template: 'drip-intro' }, { key: 'day', type: 'wait', duration: 'P1D' }, { key: 'last', type: 'email', template: 'drip-followup' }] });
    expect(await migrate(sequence.id, 1, 2, { 'old-final': 'middle' })).toMatchObject({ migrated: 1 });
    // Its row says v2 already, so the v2 -> v3 job finds it; the workflow composes both mappings.
    expect(await migrate(sequence.id, 2, 3, { middle: 'last' })).toMatchObject({ matched: 1, migrated: 1 });

    await env.sleep(2 * day);
    expect((await messagesOf(lou.id)).length).toBe(1);
    await handle.executeUpdate(resumeUpdate, { args: [{ byUserId: ritaId }] });
    await closedWithoutSkipping(handle);
    expect((await messagesOf(lou.id)).map((message) => message.templateKey)).toEqual(['drip-intro', 'drip-followup']);
    expect((await stepsOf(enrollment.id)).map((step) => `${step.stepKey}:v${step.version}`)).toEqual(['intro:v1', 'day:v1', 'last:v3']);
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: enrollment.id } })).toMatchObject({ status: 'completed', version: 3 });
  });
});

describe('a stage set by an update step', () => {
  it('reaches the contact workflow and ends the contact\'s other enrollments that exit at that stage', async () => {
    const waiting = await createSequence(db.prisma, [{ definition: { steps: [{ key: 'week', type: 'wait', duration: 'P7D' }, { key: 'late', type: 'email', template: 'drip-intro' }], settings: { exitOn: ['lifecycle_reached'], exitLifecycleStage: 'customer' } } }]);
    const promoting = await createSequence(db.prisma, [{ definition: { steps: [{ key: 'promote', type: 'update', lifecycleStage: 'customer' }] } }]);
    const max = await consentingContact(db.prisma, { firstName: 'Max' });
    const first = await enroll(env, db.prisma, taskQueue, waiting, max.id);
    await idleOnTimer(env.client, first.handle.workflowId);

    const second = await enroll(env, db.prisma, taskQueue, promoting, max.id);
    await closedWithoutSkipping(second.handle);
    await closedWithoutSkipping(first.handle);
    expect(await db.prisma.enrollment.findUniqueOrThrow({ where: { id: first.enrollment.id } })).toMatchObject({ status: 'exited', stopReason: 'lifecycle_reached' });
    expect(await messagesOf(max.id)).toEqual([]);
    const contactWorkflow = env.client.workflow.getHandle(`contact:${max.id}`);
    expect(await answered(env.client, () => contactWorkflow.query<{ lifecycleStage: string }>('state'))).toMatchObject({ lifecycleStage: 'customer' });
    await recordHistory(contactWorkflow, 'contact-lifecycle-v3-stage-set-elsewhere.json');
  });
});
