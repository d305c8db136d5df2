import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { createDuplicateAuditActivities } from '../../activities/duplicate-audit';
import type { DuplicateAuditSummary } from '../../domain/duplicate-audit-plan';
import { loadConfig } from '../../runtime/config';
import { ensureSchedules, maintenanceSchedules, scheduleId } from '../../runtime/schedules';
import type { duplicateAudit } from '../../workflows/duplicate-audit';
import { recordHistory } from '../support/histories';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let salesOps: string;
let samId: string;

beforeAll(async () => {
  stack = await startTestStack();
  await stack.startWorker();
  samId = (await stack.db.prisma.user.findUniqueOrThrow({ where: { email: 'sam.salesops@example.com' } })).id;
  salesOps = await stack.keyFor('sales_ops', samId);
}, 60_000);
// close() stops the worker too.
afterAll(() => stack?.close());

interface Reply {
  status: number;
  body: Record<string, unknown> & { data?: Array<Record<string, unknown>>; nextCursor?: string | null; errors?: Array<{ field: string; message: string }> };
}

async function call(method: string, url: string, key = salesOps): Promise<Reply> {
  const res = await fetch(`${stack.baseUrl}${url}`, { method, headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Reply['body']) : {} };
}

let runs = 0;
/** One run of the real workflow on the dev server and this file's worker. */
async function audit(input: Parameters<typeof duplicateAudit>[0] = { reviewBatchSize: 2 }): Promise<{ summary: DuplicateAuditSummary; workflowId: string }> {
  runs += 1;
  const workflowId = `schedule:duplicate-audit-test-${runs}-${randomBytes(3).toString('hex')}`;
  const handle = await stack.client.workflow.start<typeof duplicateAudit>('duplicateAudit', { taskQueue: stack.taskQueue, workflowId, args: [input] });
  const summary = await handle.result();
  if (runs === 1) await recordHistory(handle, 'duplicate-audit.json');
  return { summary, workflowId };
}

function person(firstName: string, lastName: string, extra: { emails?: string[]; phones?: string[]; country?: string; customFields?: Record<string, string> } = {}) {
  return stack.db.prisma.contact.create({
    data: {
      firstName,
      lastName,
      country: extra.country ?? null,
      customFields: extra.customFields ?? {},
      emails: { create: (extra.emails ?? []).map((address, index) => ({ address, isPrimary: index === 0 })) },
      phones: { create: (extra.phones ?? []).map((e164, index) => ({ e164, isPrimary: index === 0 })) },
    },
  });
}

/** A pair's reasons name its two contacts in id order, which is random here: Bob/Robert or Robert/Bob. */
const either = (reason: string, a: string, b: string) => expect.stringMatching(new RegExp(`^${reason} (${a}/${b}|${b}/${a})$`));
const pairOf = (pair: Record<string, unknown>) => (pair.contacts as Array<{ id: string }>).map((contact) => contact.id).sort();
const sorted = (...ids: string[]) => [...ids].sort();

describe('duplicate audit and GET /v1/contacts/duplicates', () => {
  let bob: { id: string }, robert: { id: string }, jose: { id: string }, joseNoAccent: { id: string }, anna: { id: string }, annaAgain: { id: string };
  let first: { summary: DuplicateAuditSummary; workflowId: string };

  beforeAll(async () => {
    bob = await person('Bob', 'Smith', { emails: ['bob@acme-widgets.com'] });
    robert = await person('Robert', 'Smith', { emails: ['robert.smith@acme-widgets.com'] });
    jose = await person('José', 'García', { emails: ['jose.garcia@gmail.com'] });
    joseNoAccent = await person('Jose', 'Garcia', { phones: ['+34612345678'] });
    anna = await person('Anna', 'Schmidt', { phones: ['+4915112345678'] });
    annaAgain = await person('Anna', 'Schmidt', { country: 'DE', emails: ['anna@example.org'], customFields: { mobile: '0151 12345678' } });
    await person('Jane', 'Roe', { emails: ['jane.roe@example.net'] });
    await person('John', 'Doe', { emails: ['john.doe@example.net'] });
    first = await audit();
  }, 60_000);

  it('finds nickname, accent and national-phone duplicates and nobody else, most likely first, with reasons', async () => {
    expect(first.summary).toMatchObject({ contactsScanned: 8, pairsFound: 3, oversizedBlocks: 0 });
    const reply = await call('GET', '/v1/contacts/duplicates');
    expect(reply.status).toBe(200);
    const pairs = reply.body.data!;
    expect(pairs.map(pairOf)).toEqual([sorted(anna.id, annaAgain.id), sorted(bob.id, robert.id), sorted(jose.id, joseNoAccent.id)]);
    expect(pairs.map((pair) => pair.reasons)).toEqual([
      ['same phone +4915112345678', 'same name'],
      [either('nickname', 'Bob', 'Robert'), 'similar name at same company domain acme-widgets.com'],
      [either('accent variant', 'José García', 'Jose Garcia')],
    ]);
    const scores = pairs.map((pair) => pair.score as number);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(pairs[0]).toMatchObject({ status: 'open', contacts: [expect.objectContaining({ firstName: 'Anna' }), expect.objectContaining({ firstName: 'Anna' })] });
  });

  it('filters by minimum score and contact, and pages with a cursor through every pair once', async () => {
    const strong = await call('GET', '/v1/contacts/duplicates?minScore=0.9');
    expect(strong.body.data!.map(pairOf)).toEqual([sorted(anna.id, annaAgain.id)]);
    const forJose = await call('GET', `/v1/contacts/duplicates?contactId=${jose.id}`);
    expect(forJose.body.data!.map(pairOf)).toEqual([sorted(jose.id, joseNoAccent.id)]);

    const seen: string[][] = [];
    let cursor: string | null | undefined;
    do {
      const reply = await call('GET', `/v1/contacts/duplicates?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(reply.body.data).toHaveLength(1);
      seen.push(pairOf(reply.body.data![0]!));
      cursor = reply.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((ids) => ids.join()))).toHaveProperty('size', 3);
  });

  it('hands the pairs to sales ops in one review task per batch', async () => {
    expect(first.summary.reviewTaskIds).toHaveLength(2);
    expect(first.summary.pairsInReview).toBe(3);
    const tasks = await stack.db.prisma.task.findMany({ where: { id: { in: first.summary.reviewTaskIds } }, orderBy: { sourceKey: 'asc' } });
    expect(tasks.map(({ type, assigneeId, title, sourceKey, status }) => ({ type, assigneeId, title, sourceKey, status }))).toEqual([
      { type: 'review', assigneeId: samId, title: 'Review 2 possible duplicate pairs of contacts', sourceKey: `duplicate-review:${first.workflowId}:1`, status: 'open' },
      { type: 'review', assigneeId: samId, title: 'Review 1 possible duplicate pair of contacts', sourceKey: `duplicate-review:${first.workflowId}:2`, status: 'open' },
    ]);
    const batch = await call('GET', `/v1/contacts/duplicates?reviewTaskId=${tasks[0]!.id}`);
    expect(batch.body.data!.map(pairOf)).toEqual([sorted(anna.id, annaAgain.id), sorted(bob.id, robert.id)]);
  });

  it('creates no task on a rerun, and one for a pair that is new', async () => {
    const tasksBefore = await stack.db.prisma.task.count({ where: { type: 'review' } });
    const rerun = await audit();
    expect(rerun.summary).toMatchObject({ pairsFound: 3, reviewTaskIds: [], pairsInReview: 0 });
    expect(await stack.db.prisma.task.count({ where: { type: 'review' } })).toBe(tasksBefore);

    const liz = await person('Liz', 'Taylor', { emails: ['liz@taylor-films.com'] });
    const elizabeth = await person('Elizabeth', 'Taylor', { emails: ['elizabeth@taylor-films.com'] });
    const third = await audit();
    expect(third.summary).toMatchObject({ pairsFound: 4, pairsInReview: 1 });
    expect(third.summary.reviewTaskIds).toHaveLength(1);
    const newBatch = await call('GET', `/v1/contacts/duplicates?reviewTaskId=${third.summary.reviewTaskIds[0]}`);
    expect(newBatch.body.data!.map(pairOf)).toEqual([sorted(liz.id, elizabeth.id)]);
  });

  it('finds its own task when a review step is retried', async () => {
    const steps = createDuplicateAuditActivities({ prisma: stack.db.prisma });
    await person('Peggy', 'Olson', { emails: ['peggy@sterling-cooper.com'] });
    await person('Margaret', 'Olson', { emails: ['margaret@sterling-cooper.com'] });
    await steps.indexContactMatchKeys({ afterId: null, limit: 1000 });
    await steps.scoreDuplicateBlocks({ auditKey: 'retry-test', afterKey: null, limit: 1000 });
    const once = await steps.createDuplicateReviewTask({ auditKey: 'retry-test', batch: 1, batchSize: 50 });
    const again = await steps.createDuplicateReviewTask({ auditKey: 'retry-test', batch: 1, batchSize: 50 });
    expect(once).toEqual({ taskId: expect.any(String), pairs: 1 });
    expect(again).toEqual(once);
    expect(await stack.db.prisma.task.count({ where: { sourceKey: 'duplicate-review:retry-test:1' } })).toBe(1);
  });

  it('keeps a dismissed pair dismissed through later audits', async () => {
    const open = await call('GET', `/v1/contacts/duplicates?contactId=${jose.id}`);
    const pairId = open.body.data![0]!.id as string;
    const dismissed = await call('POST', `/v1/contacts/duplicates/${pairId}/dismiss`);
    expect(dismissed.status).toBe(200);
    expect(dismissed.body).toMatchObject({ id: pairId, status: 'dismissed' });
    await audit();
    expect((await call('GET', `/v1/contacts/duplicates?contactId=${jose.id}`)).body.data).toEqual([]);
    expect((await call('GET', `/v1/contacts/duplicates?contactId=${jose.id}&status=dismissed`)).body.data!.map((pair) => pair.id)).toEqual([pairId]);
    expect(await stack.db.prisma.auditLog.count({ where: { action: 'duplicate.dismissed', entityId: pairId } })).toBe(1);
  });

  it('forgets the pairs of a deleted contact', async () => {
    const admin = stack.keys.admin;
    expect((await call('DELETE', `/v1/contacts/${annaAgain.id}`, admin)).status).toBe(204);
    expect((await call('GET', `/v1/contacts/duplicates?contactId=${anna.id}`)).body.data).toEqual([]);
  });

  it('is for sales ops, admins and managers, and names a bad parameter', async () => {
    expect((await call('GET', '/v1/contacts/duplicates', stack.keys.rep)).status).toBe(403);
    expect((await call('GET', '/v1/contacts/duplicates', await stack.keyFor('manager'))).status).toBe(200);
    const bad = await call('GET', '/v1/contacts/duplicates?minScore=2');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'query.minScore' })]);
    expect((await call('GET', '/v1/contacts/duplicates?cursor=nonsense')).status).toBe(400);
  });
});

describe('the nightly schedule', () => {
  it('is declared from DUPLICATE_AUDIT_HOUR and DUPLICATE_AUDIT_TIME_ZONE and starts duplicateAudit', async () => {
    const config = loadConfig({ DATABASE_URL: stack.config.DATABASE_URL, DUPLICATE_AUDIT_HOUR: '3', DUPLICATE_AUDIT_TIME_ZONE: 'America/New_York' });
    const declared = maintenanceSchedules(config).find((schedule) => schedule.name === 'duplicate-audit')!;
    expect(declared).toMatchObject({ spec: { calendars: [{ hour: 3, minute: 0 }], timezone: 'America/New_York' }, workflowType: 'duplicateAudit' });

    // The dev server is shared by every test file: this file's schedule gets a name of its own.
    const schedule = { ...declared, name: `duplicate-audit-test-${randomBytes(4).toString('hex')}` };
    try {
      expect(await ensureSchedules(stack.client, [schedule], { taskQueue: stack.taskQueue, logger: pino({ level: 'silent' }) })).toEqual({ [schedule.name]: 'created' });
      const described = await stack.client.schedule.getHandle(scheduleId(schedule.name)).describe();
      expect(described.spec.timezone).toBe('America/New_York');
      expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'duplicateAudit', taskQueue: stack.taskQueue });
    } finally {
      await stack.client.schedule.getHandle(scheduleId(schedule.name)).delete().catch(() => undefined);
    }
  });
});
