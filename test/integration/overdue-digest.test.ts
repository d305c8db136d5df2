import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { localDate } from '../../domain/overdue-digest';
import { loadConfig } from '../../runtime/config';
import { ensureSchedules, maintenanceSchedules, scheduleId, type MaintenanceSchedule } from '../../runtime/schedules';
import { overdueDigest, type OverdueDigestResult } from '../../workflows/overdue-digest';
import { recordHistory } from '../support/histories';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
const users = { maria: '', rita: '', rob: '', otto: '', olga: '', vera: '' };
const hour = 3_600_000;

beforeAll(async () => {
  stack = await startTestStack();
  await stack.startWorker();
  const { prisma } = stack.db;
  const byEmail = async (email: string) => (await prisma.user.findUniqueOrThrow({ where: { email } })).id;
  users.maria = await byEmail('maria.manager@example.com');
  users.rita = await byEmail('rita.rep@example.com');
  users.rob = await byEmail('rob.rep@example.com');
  // Vera manages Maria; Otto manages Olga, who is on time.
  users.vera = (await prisma.user.create({ data: { email: 'vera.vp@example.com', name: 'Vera VP', role: 'manager' } })).id;
  await prisma.user.update({ where: { id: users.maria }, data: { managerId: users.vera } });
  users.otto = (await prisma.user.create({ data: { email: 'otto.manager@example.com', name: 'Otto Manager', role: 'manager' } })).id;
  users.olga = (await prisma.user.create({ data: { email: 'olga.rep@example.com', name: 'Olga Rep', role: 'rep', managerId: users.otto } })).id;
}, 120_000);
afterAll(() => stack.close());

async function runDigest(topN: number): Promise<OverdueDigestResult> {
  const handle = await stack.client.workflow.start(overdueDigest, {
    taskQueue: stack.taskQueue,
    workflowId: `schedule:overdue-digest-test-${randomBytes(4).toString('hex')}`,
    args: [{ timeZone: 'UTC', topN }],
  });
  const result = await handle.result();
  if (result.created > 0) await recordHistory(handle, 'overdue-digest.json');
  return result;
}

describe('overdue digest workflow', () => {
  it('gives each manager with overdue reports one review task a day, and a rerun the same day creates nothing', async () => {
    const { prisma } = stack.db;
    const now = Date.now();
    const task = (assigneeId: string, title: string, dueInHours: number, fields: Record<string, unknown> = {}) =>
      prisma.task.create({ data: { type: 'call', title, assigneeId, dueAt: new Date(now + dueInHours * hour), ...fields } });
    await task(users.rita, 'Call Jane', -72, { priority: 'urgent' });
    await task(users.rob, 'Send the quote', -5);
    await task(users.rita, 'Fix the address', -1, { type: 'fix_data' });
    await task(users.rita, 'Not due yet', 5);
    await task(users.rob, 'Done already', -10, { status: 'completed' });
    await task(users.olga, 'On time', 24);
    // Yesterday's digest, still open: today's replaces it, and a digest never counts as overdue work.
    const yesterday = localDate(new Date(now - 24 * hour), 'UTC');
    const stale = await task(users.maria, 'Review 1 overdue task on your team', -2, { type: 'review', sourceType: 'workflow', sourceRef: 'schedule:overdue-digest', sourceKey: `digest:${users.maria}:${yesterday}` });

    const first = await runDigest(2);
    expect(first).toMatchObject({ managers: 1, created: 1, existing: 0 });
    const digests = await prisma.task.findMany({ where: { assigneeId: users.maria, type: 'review', status: 'open' } });
    expect(digests).toHaveLength(1);
    const digest = digests[0]!;
    expect(digest).toMatchObject({
      title: 'Review 3 overdue tasks on your team',
      sourceType: 'workflow',
      sourceKey: `digest:${users.maria}:${localDate(new Date(first.asOf), 'UTC')}`,
      priority: 'normal',
    });
    expect(digest.sourceRef).toMatch(/^schedule:overdue-digest-test-/);
    const lines = digest.description!.split('\n');
    expect(lines[1]).toBe('The 2 most urgent:');
    expect(lines[2]).toContain('[urgent] Call Jane (Rita Rep)');
    expect(lines[3]).toContain('Send the quote (Rob Rep)');
    expect(lines[4]).toBe('... and 1 more.');
    expect(digest.description).not.toContain('Not due yet');
    expect(digest.description).not.toContain('Done already');
    expect((await prisma.task.findUniqueOrThrow({ where: { id: stale.id } })).status).toBe('cancelled');
    // Otto's report is on time and Vera's only report with anything overdue has nothing but a digest.
    expect(await prisma.task.count({ where: { assigneeId: { in: [users.otto, users.vera] } } })).toBe(0);

    const again = await runDigest(2);
    expect(again).toMatchObject({ managers: 1, created: 0, existing: 1 });
    expect(await prisma.task.count({ where: { assigneeId: users.maria, type: 'review', status: 'open' } })).toBe(1);
  });
});

describe('overdue digest schedule', () => {
  const logger = pino({ level: 'silent' });
  // The dev server is shared by every test file: this file's schedule gets a name of its own.
  const name = `overdue-digest-test-${randomBytes(4).toString('hex')}`;
  const declared = (env: Record<string, string> = {}): MaintenanceSchedule => {
    const config = loadConfig({ DATABASE_URL: stack.config.DATABASE_URL, TEMPORAL_TASK_QUEUE: stack.taskQueue, ...env });
    const schedule = maintenanceSchedules(config).find((candidate) => candidate.name === 'overdue-digest')!;
    return { ...schedule, name };
  };
  const ensure = (schedule: MaintenanceSchedule) => ensureSchedules(stack.client, [schedule], { taskQueue: stack.taskQueue, logger });

  afterAll(async () => {
    await stack.client.schedule.getHandle(scheduleId(name)).delete().catch(() => undefined);
  });

  it('is created once, left alone when unchanged, and updated when its hour, zone or arguments change', async () => {
    const berlinSeven = declared({ OVERDUE_DIGEST_HOUR: '7', OVERDUE_DIGEST_TIME_ZONE: 'Europe/Berlin' });
    expect(await ensure(berlinSeven)).toEqual({ [name]: 'created' });
    expect(await ensure(berlinSeven)).toEqual({ [name]: 'unchanged' });

    const handle = stack.client.schedule.getHandle(scheduleId(name));
    let described = await handle.describe();
    expect(described.spec.timezone).toBe('Europe/Berlin');
    expect(described.spec.calendars?.[0]?.hour).toEqual([{ start: 7, end: 7, step: 1 }]);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'overdueDigest', taskQueue: stack.taskQueue, args: [{ timeZone: 'Europe/Berlin', topN: 10 }] });

    // An operator's pause survives the update.
    await handle.pause('maintenance window');
    expect(await ensure(declared({ OVERDUE_DIGEST_HOUR: '9', OVERDUE_DIGEST_TIME_ZONE: 'Europe/Berlin', OVERDUE_DIGEST_TOP_N: '5' }))).toEqual({ [name]: 'updated' });
    described = await handle.describe();
    expect(described.spec.calendars?.[0]?.hour).toEqual([{ start: 9, end: 9, step: 1 }]);
    expect(described.action).toMatchObject({ args: [{ timeZone: 'Europe/Berlin', topN: 5 }] });
    expect(described.state.paused).toBe(true);
    expect(await ensure(declared({ OVERDUE_DIGEST_HOUR: '9', OVERDUE_DIGEST_TIME_ZONE: 'Europe/Berlin', OVERDUE_DIGEST_TOP_N: '5' }))).toEqual({ [name]: 'unchanged' });
  });
});
