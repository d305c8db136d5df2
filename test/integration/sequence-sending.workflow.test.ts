import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { weekdays } from '../../domain/schemas/sequence';
import { nextMomentInWindow, spreadOffset, startOfNextDay } from '../../domain/send-window';
import { seedDemoData } from '../../prisma/seed';
import { progressQuery } from '../../workflows/enrollment-messages';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { consentingContact, createSequence, createTemplate, enroll, publishNextVersion } from '../support/sequences';
import { eventually } from '../support/stack';
import { answered, startCaptureWorker, startTimeSkippingServer } from '../support/time-skipping';

/**
 * When sequence sends go: the messaging policy's deferrals, the sequence's send window and daily
 * limits, and the template versions a running enrollment renders. The frequency-cap test comes
 * first: its deferral is computed from the real clock, which the test server's clock still
 * matches before any test has skipped time.
 */

const taskQueue = 'sequence-sending';
const day = 86_400_000;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: { stop(): Promise<void> };
let ritaId: string;
let robId: string;

beforeAll(async () => {
  [env, db] = await Promise.all([
    startTimeSkippingServer(),
    createTestDatabase(),
  ]);
  await seedDemoData(db.prisma);
  ritaId = (await db.prisma.user.findUniqueOrThrow({ where: { email: 'rita.rep@example.com' } })).id;
  robId = (await db.prisma.user.findUniqueOrThrow({ where: { email: 'rob.rep@example.com' } })).id;
  await createTemplate(db.prisma, 'hello', 'email', [{ subject: 'Hello {{contact.firstName}}', html: '<p>Hello.</p>' }]);
  worker = await startCaptureWorker(env, db, taskQueue, { sendPolicy: { smsQuietHours: null, frequencyCap: 2, frequencyCapPolicy: 'defer', fallbackTimeZone: 'UTC' } });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  await db?.drop();
});

const oneEmail = (settings: Record<string, unknown> = {}) => ({ steps: [{ key: 'hello', type: 'email', template: 'hello' }], settings });
const sentStep = (enrollmentId: string) => db.prisma.enrollmentStep.findUniqueOrThrow({ where: { enrollmentId_stepKey_visit: { enrollmentId, stepKey: 'hello', visit: 1 } } });
const waitingUntil = async (handle: Awaited<ReturnType<typeof enroll>>['handle']) => (await eventually(() => answered(env.client, () => handle.query(progressQuery)), (progress) => progress.waitingUntil !== null)).waitingUntil!;

describe('sends the messaging policy defers', () => {
  it('wait on a timer for the frequency cap and then send once, with the same key', async () => {
    const sequence = await createSequence(db.prisma, [{ definition: oneEmail() }]);
    const kim = await consentingContact(db.prisma, { firstName: 'Kim' });
    // Two marketing emails this week: the cap of two is reached.
    for (const key of ['one', 'two']) {
      await db.prisma.message.create({
        data: { idempotencyKey: `earlier:${kim.id}:${key}`, contactId: kim.id, channel: 'email', toAddress: 'kim@example.com', fromAddress: 'hello@example.com', provider: 'capture', status: 'accepted' },
      });
    }
    const { handle, enrollment } = await enroll(env, db.prisma, taskQueue, sequence, kim.id);
    const until = await waitingUntil(handle);
    expect(Date.parse(until)).toBeGreaterThan(Date.now() + 6 * day);
    expect(await db.prisma.message.count({ where: { idempotencyKey: `enrollment:${enrollment.id}:hello:1` } })).toBe(0);

    // A week later the earlier emails have left the 7-day window.
    await db.prisma.message.updateMany({ where: { contactId: kim.id }, data: { createdAt: new Date(Date.now() - 8 * day) } });
    await handle.result();
    const sent = await db.prisma.message.findMany({ where: { idempotencyKey: `enrollment:${enrollment.id}:hello:1` } });
    expect(sent).toHaveLength(1);
    expect(await sentStep(enrollment.id)).toMatchObject({ outcome: 'sent', messageId: sent[0]!.id });
    expect((await sentStep(enrollment.id)).at.getTime()).toBeGreaterThanOrEqual(Date.parse(until));
  }, 30_000);
});

describe('the send window', () => {
  it('holds sends outside it until the next window in the contact\'s zone (or the fallback zone), spread per enrollment', async () => {
    const now = await env.currentTimeMs();
    // A window on one weekday only, two days ahead: closed now wherever the contacts are.
    const openDay = weekdays[DateTime.fromMillis(now, { zone: 'Europe/Berlin' }).plus({ days: 2 }).weekday - 1]!;
    const sendWindow = { days: [openDay], start: '09:00', end: '17:00', fallbackTimeZone: 'Europe/Berlin', spreadMinutes: 30 };
    const sequence = await createSequence(db.prisma, [{ definition: oneEmail({ sendWindow }) }]);
    const contacts = await Promise.all([
      consentingContact(db.prisma, { firstName: 'Lea' }),
      consentingContact(db.prisma, { firstName: 'Max' }),
      consentingContact(db.prisma, { firstName: 'Nao', timeZone: 'Asia/Tokyo' }),
    ]);
    const runs = await Promise.all(contacts.map((contact) => enroll(env, db.prisma, taskQueue, sequence, contact.id)));
    const holds = await Promise.all(runs.map((run) => waitingUntil(run.handle)));

    runs.forEach((run, index) => {
      const zone = contacts[index]!.timeZone ?? 'Europe/Berlin';
      const opens = DateTime.fromISO(holds[index]!, { zone });
      expect(opens.weekday).toBe(weekdays.indexOf(openDay) + 1);
      // The window start in the contact's zone plus this enrollment's own offset into the first 30 minutes.
      const start = opens.set({ hour: 9, minute: 0, second: 0, millisecond: 0 });
      expect(opens.toMillis() - start.toMillis()).toBe(spreadOffset(run.enrollment.id, 30 * 60_000));
      expect(holds[index]).toBe(nextMomentInWindow(new Date(now), sendWindow, { zone, spreadMinutes: 30, seed: run.enrollment.id }).toISOString());
    });
    expect(new Set(holds).size).toBe(3);
    expect(await db.prisma.message.count({ where: { contactId: { in: contacts.map((contact) => contact.id) } } })).toBe(0);

    // One result at a time: each await lets the test server skip time, and overlapping ones confuse its lock count.
    for (const run of runs) await run.handle.result();
    for (const [index, run] of runs.entries()) {
      const sentAt = (await sentStep(run.enrollment.id)).at.getTime();
      expect(sentAt).toBeGreaterThanOrEqual(Date.parse(holds[index]!));
      expect(sentAt).toBeLessThan(Date.parse(holds[index]!) + 60_000);
    }
  }, 30_000);
});

describe('daily limits', () => {
  it('move sends over the sequence\'s limit or the owner\'s to the next day, spread', async () => {
    // Far from midnight UTC, so that every send of this test falls on one day.
    const hour = new Date(await env.currentTimeMs()).getUTCHours();
    if (hour >= 22) await env.sleep(3 * 3_600_000);
    const sequence = await createSequence(db.prisma, [{ definition: oneEmail({ limits: { perDay: 2, perSenderPerDay: 1 } }) }]);
    const sendOne = async (firstName: string, ownerId: string | null) => {
      const contact = await consentingContact(db.prisma, { firstName, ownerId });
      return enroll(env, db.prisma, taskQueue, sequence, contact.id);
    };

    // Sends of today are awaited by polling: awaiting a workflow's result lets the test server
    // run its clock far ahead once nothing is left to do, and "today" would be over.
    const sent = (enrollmentId: string) => eventually(() => db.prisma.enrollmentStep.findFirst({ where: { enrollmentId, outcome: 'sent' } }), (step) => step !== null);
    const ritasFirst = await sendOne('Ola', ritaId);
    await sent(ritasFirst.enrollment.id);
    const ritasSecond = await sendOne('Pia', ritaId);
    const senderHold = await waitingUntil(ritasSecond.handle);
    const robs = await sendOne('Quin', robId);
    await sent(robs.enrollment.id);
    const ownerless = await sendOne('Ray', null);
    const sequenceHold = await waitingUntil(ownerless.handle);

    const sentToday = await sentStep(ritasFirst.enrollment.id);
    const tomorrow = startOfNextDay(sentToday.at, 'UTC').getTime();
    expect(Date.parse(senderHold)).toBe(tomorrow + spreadOffset(ritasSecond.enrollment.id, 30 * 60_000));
    expect(Date.parse(sequenceHold)).toBe(tomorrow + spreadOffset(ownerless.enrollment.id, 30 * 60_000));
    expect((await sentStep(robs.enrollment.id)).at.getTime() - sentToday.at.getTime()).toBeLessThan(day);

    for (const run of [ritasSecond, ownerless]) await run.handle.result();
    expect((await sentStep(ritasSecond.enrollment.id)).at.getTime()).toBeGreaterThanOrEqual(Date.parse(senderHold));
    expect((await sentStep(ownerless.enrollment.id)).at.getTime()).toBeGreaterThanOrEqual(Date.parse(sequenceHold));
  }, 30_000);
});

describe('a template that cannot be rendered', () => {
  it('fails its step at the first attempt and the sequence goes on', async () => {
    const sequence = await createSequence(db.prisma, [
      {
        definition: {
          steps: [
            { key: 'broken', type: 'email', template: 'no-such-template' },
            { key: 'hello', type: 'email', template: 'hello' },
          ],
        },
      },
    ]);
    const vic = await consentingContact(db.prisma, { firstName: 'Vic' });
    const { handle, enrollment } = await enroll(env, db.prisma, taskQueue, sequence, vic.id);
    await eventually(() => sentStep(enrollment.id).catch(() => null), (step) => step !== null);
    const steps = await db.prisma.enrollmentStep.findMany({ where: { enrollmentId: enrollment.id }, orderBy: { at: 'asc' } });
    expect(steps.map((step) => [step.stepKey, step.outcome, step.detail])).toEqual([
      ['broken', 'failed', { reason: 'Email template no-such-template does not exist.' }],
      ['hello', 'sent', {}],
    ]);
    expect(await db.prisma.message.count({ where: { contactId: vic.id } })).toBe(1);
    await handle.result();
  }, 30_000);
});

describe('version pinning', () => {
  it('keeps a running enrollment on its sequence version and its pinned template version', async () => {
    await createTemplate(db.prisma, 'pinned-offer', 'email', [{ subject: 'Offer', html: '<p>Version one of the offer.</p>' }]);
    const first = {
      steps: [
        { key: 'hello', type: 'email', template: 'hello' },
        { key: 'pause', type: 'wait', duration: 'P2D' },
        { key: 'offer', type: 'email', template: 'pinned-offer' },
      ],
    };
    const sequence = await createSequence(db.prisma, [{ definition: first, templatePins: { 'email:hello': 1, 'email:pinned-offer': 1 } }]);
    const uma = await consentingContact(db.prisma, { firstName: 'Uma' });
    const { handle, enrollment } = await enroll(env, db.prisma, taskQueue, sequence, uma.id);
    await waitingUntil(handle);

    // Mid-sequence, the marketer publishes version 2 and edits the template.
    await publishNextVersion(db.prisma, sequence.id, { steps: [first.steps[0], first.steps[1], { key: 'offer-v2', type: 'email', template: 'hello' }] });
    const template = await db.prisma.template.findUniqueOrThrow({ where: { key: 'pinned-offer' } });
    await db.prisma.templateVersion.create({ data: { templateId: template.id, version: 2, subject: 'Offer', html: '<p>Version two of the offer.</p>' } });
    await db.prisma.template.update({ where: { id: template.id }, data: { currentVersion: 2 } });

    await handle.result();
    const messages = await db.prisma.message.findMany({ where: { contactId: uma.id }, orderBy: { createdAt: 'asc' } });
    expect(messages.map((message) => message.templateKey)).toEqual(['hello', 'pinned-offer']);
    expect(messages[1]!.html).toContain('Version one of the offer.');
    const steps = await db.prisma.enrollmentStep.findMany({ where: { enrollmentId: enrollment.id }, orderBy: { at: 'asc' } });
    expect(steps.map((step) => [step.stepKey, step.version, step.detail])).toEqual([
      ['hello', 1, { templateVersion: 1 }],
      ['pause', 1, expect.anything()],
      ['offer', 1, { templateVersion: 1 }],
    ]);
  }, 30_000);
});
