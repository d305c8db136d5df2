import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { addBusinessDays } from '../../domain/business-time';
import { verifyWebhookSignature } from '../../domain/webhook-signature';
import { seedDemoData } from '../../prisma/seed';
import { dealLifecycle } from '../../workflows/deal-lifecycle';
import { dealStageChangedSignal, dealStateQuery, dealTouchedSignal } from '../../workflows/deal-messages';
import { dealWorkflowId } from '../../workflows/workflow-ids';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createDeal, createPublishedTrigger, recordStageChange, stageId } from '../support/deals';
import { recordHistory } from '../support/histories';
import { eventually } from '../support/stack';
import { answered, startCaptureWorker, startTimeSkippingServer } from '../support/time-skipping';

/**
 * The deal workflow on the time-skipping server: business-day idle timers of days and weeks
 * run in seconds. Deals are written straight to the database and stage changes recorded and
 * signalled the way PATCH /v1/deals/{id} does (test/support/deals.ts); the HTTP path is covered
 * by test/e2e/deal-triggers.test.ts.
 */
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: { stop(): Promise<void> };
let receiver: WebhookReceiver;
const taskQueue = 'deal-time-skipping';

beforeAll(async () => {
  [env, db, receiver] = await Promise.all([
    startTimeSkippingServer(),
    createTestDatabase(),
    startWebhookReceiver(),
  ]);
  await seedDemoData(db.prisma);
  worker = await startCaptureWorker(env, db, taskQueue, { webhooks: { httpAllowedHosts: ['127.0.0.1'], allowPrivateNetworks: true, timeoutMs: 2_000 } });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await env?.teardown();
  await db?.drop();
});

const now = async () => new Date(await env.currentTimeMs());
const users = () =>
  Promise.all([db.prisma.user.findUniqueOrThrow({ where: { email: 'rita.rep@example.com' } }), db.prisma.user.findUniqueOrThrow({ where: { email: 'maria.manager@example.com' } })]);

async function startDealWorkflow(dealId: string): Promise<WorkflowHandle<typeof dealLifecycle>> {
  const handle = await env.client.workflow.start(dealLifecycle, { workflowId: dealWorkflowId(dealId), taskQueue, args: [{ dealId }] });
  await eventually(() => stateOf(handle), (state) => state.stageId !== '');
  return handle;
}

const stateOf = (handle: WorkflowHandle<typeof dealLifecycle>) => answered(env.client, () => handle.query(dealStateQuery));

/**
 * Terminates a workflow once nothing of it is in flight. The time-skipping server keeps time
 * locked for an activity or workflow task whose workflow was terminated under it, and the next
 * test's sleep would then wait forever.
 */
async function terminateWhenSettled(handle: WorkflowHandle<typeof dealLifecycle>): Promise<void> {
  const inFlight = async () => {
    const { raw } = await handle.describe();
    return (raw.pendingActivities?.length ?? 0) + (raw.pendingWorkflowTask ? 1 : 0);
  };
  await eventually(inFlight, (count) => count === 0);
  await handle.terminate('test done');
}

/** Skips server time to just past `iso` and waits for the workflow to have handled it. */
async function skipTo(iso: string, extraMs = 60_000): Promise<void> {
  const wait = Date.parse(iso) - (await env.currentTimeMs()) + extraMs;
  if (wait > 0) await env.sleep(wait);
}

describe('idle-deal escalation on the time-skipping server', () => {
  it('tells the owner after the stage limit in business days, escalates to the manager after a second period, and a touch starts over', async () => {
    const [rita, maria] = await users();
    const enteredAt = await now();
    const deal = await createDeal(db.prisma, { stage: 'Proposal', at: enteredAt });
    const handle = await startDealWorkflow(deal.id);

    // Proposal's limit is 7 business days, counted in the owner's zone (Rita: Europe/Berlin).
    const first = await eventually(() => stateOf(handle), (state) => state.idleDeadline !== null);
    expect(first.idleDeadline).toBe(addBusinessDays(enteredAt, 7, 'Europe/Berlin').toISOString());
    expect(Date.parse(first.idleDeadline!) - enteredAt.getTime()).toBeGreaterThanOrEqual(9 * 24 * 3_600_000);

    await skipTo(first.idleDeadline!, -3_600_000);
    expect(await db.prisma.task.count({ where: { dealId: deal.id } })).toBe(0);

    await skipTo(first.idleDeadline!);
    const told = await eventually(() => stateOf(handle), (state) => state.escalationLevel === 1);
    const ownerTasks = await db.prisma.task.findMany({ where: { dealId: deal.id } });
    expect(ownerTasks).toMatchObject([{ assigneeId: rita.id, title: 'Deal idle for 7 days in Proposal', contactId: deal.contactId, sourceType: 'workflow', priority: 'normal' }]);
    const notification = await eventually(() => db.prisma.message.findMany({ where: { toAddress: rita.email } }), (rows) => rows.length > 0);
    expect(notification).toMatchObject([{ templateKey: 'deal-idle', transactional: true, contactId: null, status: 'accepted', subject: 'Acme renewal has been idle for 7 business days in Proposal' }]);
    expect(told.idleDeadline).toBe(addBusinessDays(new Date(first.idleDeadline!), 7, 'Europe/Berlin').toISOString());

    await skipTo(told.idleDeadline!);
    const escalated = await eventually(() => stateOf(handle), (state) => state.escalationLevel === 2);
    expect(escalated).toMatchObject({ rotting: true, idleDeadline: null });
    expect(await db.prisma.deal.findUniqueOrThrow({ where: { id: deal.id } })).toMatchObject({ rotting: true });
    expect(await db.prisma.task.findMany({ where: { dealId: deal.id, assigneeId: maria.id } })).toMatchObject([
      { title: 'Deal idle for 14 days in Proposal (owner: Rita Rep)', priority: 'high', type: 'review' },
    ]);
    // The top of the ladder: nothing more happens without a touch.
    await env.sleep('30 days');
    expect(await db.prisma.task.count({ where: { dealId: deal.id } })).toBe(2);
    expect(await db.prisma.message.count({ where: { toAddress: rita.email } })).toBe(1);

    // A logged call: the flag clears and the ladder starts over from the touch.
    const touchAt = (await now()).toISOString();
    await handle.signal(dealTouchedSignal, { sourceId: 'activity-call-1', kind: 'activity', at: touchAt });
    const reset = await eventually(() => stateOf(handle), (state) => state.idleRound === 1 && state.idleDeadline !== null);
    expect(reset).toMatchObject({ escalationLevel: 0, rotting: false, lastTouchAt: touchAt, idleDeadline: addBusinessDays(new Date(touchAt), 7, 'Europe/Berlin').toISOString() });
    expect(await db.prisma.deal.findUniqueOrThrow({ where: { id: deal.id } })).toMatchObject({ rotting: false });
    // The same signal again (a retried API call) is not a second touch.
    await handle.signal(dealTouchedSignal, { sourceId: 'activity-call-1', kind: 'activity', at: touchAt });
    await skipTo(reset.idleDeadline!);
    const again = await eventually(() => stateOf(handle), (state) => state.escalationLevel === 1);
    expect(again.idleRound).toBe(1);
    const ritaTasks = await db.prisma.task.findMany({ where: { dealId: deal.id, assigneeId: rita.id }, orderBy: { createdAt: 'asc' } });
    expect(ritaTasks.map((task) => task.sourceKey)).toEqual([`deal:${deal.id}:idle:created:0:1`, `deal:${deal.id}:idle:created:1:1`]);
    expect(await db.prisma.message.count({ where: { toAddress: rita.email } })).toBe(2);

    await recordHistory(handle, 'deal-lifecycle-v1-idle-ladder.json');
    await terminateWhenSettled(handle);
  }, 120_000);

  it('does not count a task due later or an activity dated in the future as a touch', async () => {
    const [rita] = await users();
    const enteredAt = await now();
    const deal = await createDeal(db.prisma, { stage: 'New', at: enteredAt, name: 'Future plans' });
    const handle = await startDealWorkflow(deal.id);
    const { idleDeadline } = await eventually(() => stateOf(handle), (state) => state.idleDeadline !== null);

    await env.sleep('1 day');
    // The rep schedules a call for next month: creating a task is never signalled as a touch
    // (the signal contract has no such kind; only completing one is), so the timer runs on.
    await db.prisma.task.create({ data: { type: 'call', title: 'Call in a month', dueAt: new Date(Date.parse(idleDeadline!) + 30 * 86_400_000), assigneeId: rita.id, dealId: deal.id } });
    // A meeting logged ahead of time, dated next week: a plan, not a touch.
    await handle.signal(dealTouchedSignal, { sourceId: 'meeting-next-week', kind: 'activity', at: new Date((await env.currentTimeMs()) + 7 * 86_400_000).toISOString() });
    await eventually(() => stateOf(handle), (state) => state.handledTouchIds.includes('meeting-next-week'));
    expect(await stateOf(handle)).toMatchObject({ idleRound: 0, idleDeadline });

    await skipTo(idleDeadline!);
    await eventually(() => stateOf(handle), (state) => state.escalationLevel === 1);
    expect(await db.prisma.task.count({ where: { dealId: deal.id, title: 'Deal idle for 3 days in New' } })).toBe(1);
    await terminateWhenSettled(handle);
  }, 60_000);

  it('ends without any idle task when the deal is won mid-timer', async () => {
    const deal = await createDeal(db.prisma, { stage: 'Negotiation', at: await now(), name: 'Quick win' });
    const handle = await startDealWorkflow(deal.id);
    const { idleDeadline } = await eventually(() => stateOf(handle), (state) => state.idleDeadline !== null);
    await env.sleep('3 days');

    const won = await recordStageChange(db.prisma, deal.id, 'Won', await now());
    await handle.signal(dealStageChangedSignal, won);
    await handle.result();
    expect((await handle.describe()).status.name).toBe('COMPLETED');

    await skipTo(idleDeadline!, 30 * 86_400_000);
    expect(await db.prisma.task.count({ where: { dealId: deal.id } })).toBe(0);
    expect(await db.prisma.deal.findUniqueOrThrow({ where: { id: deal.id } })).toMatchObject({ status: 'won', rotting: false });
  }, 60_000);

  it('runs a stage entry on the idle limit of a matching enter trigger instead of the stage\'s, touches included', async () => {
    const [, maria] = await users();
    const bigDeals = await createPublishedTrigger(db.prisma, {
      event: 'enter',
      stageId: await stageId(db.prisma, 'Negotiation'),
      filters: { amount: { min: 50_000 } },
      idleLimitDays: 3,
    }, 'big deals in Negotiation go idle after 3 days');
    const big = await createDeal(db.prisma, { stage: 'Proposal', at: await now(), name: 'Big one', amount: 80_000 });
    const small = await createDeal(db.prisma, { stage: 'Proposal', at: await now(), name: 'Small one', amount: 8_000 });
    const [bigHandle, smallHandle] = await Promise.all([startDealWorkflow(big.id), startDealWorkflow(small.id)]);

    // Negotiation's own limit is 10 business days; the trigger's amount range leaves the small deal on it.
    const movedAt = await now();
    const toBig = await recordStageChange(db.prisma, big.id, 'Negotiation', movedAt);
    const toSmall = await recordStageChange(db.prisma, small.id, 'Negotiation', movedAt);
    await Promise.all([bigHandle.signal(dealStageChangedSignal, toBig), smallHandle.signal(dealStageChangedSignal, toSmall)]);
    const bigEntry = await eventually(() => stateOf(bigHandle), (state) => state.stageEntryId === toBig.stageChangeId);
    expect(bigEntry).toMatchObject({ idleLimitDays: 3, idleLimitTriggerId: bigDeals.id, idleDeadline: addBusinessDays(movedAt, 3, 'Europe/Berlin').toISOString() });
    const smallEntry = await eventually(() => stateOf(smallHandle), (state) => state.stageEntryId === toSmall.stageChangeId);
    expect(smallEntry).toMatchObject({ idleLimitDays: 10, idleLimitTriggerId: null, idleDeadline: addBusinessDays(movedAt, 10, 'Europe/Berlin').toISOString() });

    await skipTo(bigEntry.idleDeadline!);
    await eventually(() => stateOf(bigHandle), (state) => state.escalationLevel === 1);
    expect(await db.prisma.task.findMany({ where: { dealId: big.id } })).toMatchObject([{ title: 'Deal idle for 3 days in Negotiation' }]);
    expect(await db.prisma.task.count({ where: { dealId: small.id } })).toBe(0);

    // A touch restarts the ladder on the trigger's limit, not the stage's.
    const touchAt = (await now()).toISOString();
    await bigHandle.signal(dealTouchedSignal, { sourceId: 'big-one-call', kind: 'activity', at: touchAt });
    const reset = await eventually(() => stateOf(bigHandle), (state) => state.idleRound === 1);
    expect(reset).toMatchObject({ escalationLevel: 0, idleLimitDays: 3, idleDeadline: addBusinessDays(new Date(touchAt), 3, 'Europe/Berlin').toISOString() });
    await skipTo(reset.idleDeadline!);
    await eventually(() => stateOf(bigHandle), (state) => state.escalationLevel === 1);
    expect(await db.prisma.task.count({ where: { dealId: big.id, title: 'Deal idle for 3 days in Negotiation' } })).toBe(2);

    await skipTo(smallEntry.idleDeadline!);
    await eventually(() => stateOf(smallHandle), (state) => state.escalationLevel === 1);
    expect(await db.prisma.task.findMany({ where: { dealId: small.id } })).toMatchObject([{ title: 'Deal idle for 10 days in Negotiation' }]);
    // Meanwhile the big deal went a second 3-day period without a touch.
    await eventually(() => stateOf(bigHandle), (state) => state.escalationLevel === 2);
    expect(await db.prisma.task.findMany({ where: { dealId: big.id, assigneeId: maria.id } })).toMatchObject([{ title: 'Deal idle for 6 days in Negotiation (owner: Rita Rep)' }]);
    await Promise.all([terminateWhenSettled(bigHandle), terminateWhenSettled(smallHandle)]);
  }, 120_000);
});

describe('stage-move triggers on the time-skipping server', () => {
  it('fire their actions in order once, then a move to Won ends the workflow after its triggers', async () => {
    const [rita] = await users();
    const trigger = await createPublishedTrigger(db.prisma, {
      event: 'enter',
      stageId: await stageId(db.prisma, 'Proposal'),
      actions: [
        { type: 'create_task', title: 'Send the proposal for {{deal.name}} to {{contact.firstName}}', taskType: 'email', priority: 'high', dueInBusinessDays: 1 },
        { type: 'update_field', target: 'contact', field: 'customFields.proposalSent', value: true },
      ],
    });
    const wonTrigger = await createPublishedTrigger(db.prisma, {
      event: 'enter',
      stageId: await stageId(db.prisma, 'Won'),
      actions: [{ type: 'update_field', target: 'contact', field: 'lifecycleStage', value: 'customer' }],
    }, 'won -> customer');
    const deal = await createDeal(db.prisma, { stage: 'Qualified', at: await now(), name: 'Globex expansion' });
    const handle = await startDealWorkflow(deal.id);

    const toProposal = await recordStageChange(db.prisma, deal.id, 'Proposal', await now());
    await handle.signal(dealStageChangedSignal, toProposal);
    await handle.signal(dealStageChangedSignal, toProposal);
    await eventually(() => stateOf(handle), (state) => state.stageEntryId === toProposal.stageChangeId && state.triggerActionsRun === 2);
    expect(await db.prisma.task.findMany({ where: { dealId: deal.id } })).toMatchObject([
      { title: 'Send the proposal for Globex expansion to Ada', assigneeId: rita.id, type: 'email', priority: 'high', sourceType: 'trigger', sourceKey: `trigger:${trigger.id}:${toProposal.stageChangeId}:0` },
    ]);
    expect((await db.prisma.contact.findUniqueOrThrow({ where: { id: deal.contactId! } })).customFields).toEqual({ proposalSent: true });
    expect(await db.prisma.triggerRun.findMany({ where: { triggerId: trigger.id }, orderBy: { actionIndex: 'asc' } })).toMatchObject([
      { version: 1, dealId: deal.id, stageChangeId: toProposal.stageChangeId, actionIndex: 0, actionType: 'create_task', status: 'done' },
      { version: 1, actionIndex: 1, actionType: 'update_field', status: 'done' },
    ]);
    expect(await stateOf(handle)).toMatchObject({ stageId: toProposal.toStageId, stageEntryId: toProposal.stageChangeId, idleLimitDays: 7, triggerActionsRun: 2 });

    const toWon = await recordStageChange(db.prisma, deal.id, 'Won', await now());
    await handle.signal(dealStageChangedSignal, toWon);
    await handle.result();
    expect(await db.prisma.triggerRun.count({ where: { triggerId: wonTrigger.id, stageChangeId: toWon.stageChangeId, status: 'done' } })).toBe(1);
    expect(await db.prisma.contact.findUniqueOrThrow({ where: { id: deal.contactId! } })).toMatchObject({ lifecycleStage: 'customer' });
    expect(await db.prisma.auditLog.count({ where: { entityId: deal.contactId!, action: 'contact.field_updated' } })).toBe(2);
    await recordHistory(handle, 'deal-lifecycle-v1-triggers-to-won.json');
  }, 60_000);

  it('retry a failing webhook with backoff, mark it failed after the last attempt and go on with the next action', async () => {
    receiver.answerAlways(503);
    const trigger = await createPublishedTrigger(db.prisma, {
      event: 'leave',
      stageId: await stageId(db.prisma, 'New'),
      actions: [
        { type: 'webhook', url: receiver.url('/down') },
        { type: 'create_task', title: 'Check why {{deal.name}} left {{stageChange.from}}' },
      ],
    }, 'webhook down');
    const deal = await createDeal(db.prisma, { stage: 'New', at: await now(), name: 'Initech' });
    const handle = await startDealWorkflow(deal.id);
    const change = await recordStageChange(db.prisma, deal.id, 'Contacted', await now());
    await handle.signal(dealStageChangedSignal, change);

    // Ten attempts 2 s, 4 s ... 5 min apart: about 14 minutes of server time.
    for (let i = 0; i < 20 && (await stateOf(handle)).triggerActionsRun < 2; i += 1) await env.sleep('2 minutes');
    await eventually(() => stateOf(handle), (state) => state.triggerActionsRun === 2);
    receiver.answerAlways(200);

    const delivery = await db.prisma.webhookDelivery.findFirstOrThrow({ where: { dealId: deal.id } });
    expect(delivery).toMatchObject({ status: 'failed', attempts: 10, lastStatusCode: 503, triggerId: trigger.id });
    expect(receiver.received('/down')).toHaveLength(10);
    const signingSecret = (await db.prisma.trigger.findUniqueOrThrow({ where: { id: trigger.id } })).signingSecret!;
    for (const call of receiver.received('/down')) {
      expect(call.body).toBe(receiver.received('/down')[0]!.body);
      expect(verifyWebhookSignature(call.headers['touchpoint-signature'] as string, call.body, signingSecret, { toleranceSeconds: 1e9 }).ok).toBe(true);
    }
    expect(JSON.parse(receiver.received('/down')[0]!.body)).toMatchObject({ id: delivery.id, type: 'deal.stage_left', deal: { id: deal.id, name: 'Initech' }, stageChange: { id: change.stageChangeId } });
    expect(await db.prisma.triggerRun.findMany({ where: { triggerId: trigger.id }, orderBy: { actionIndex: 'asc' } })).toMatchObject([
      { actionType: 'webhook', status: 'failed', detail: { deliveryId: delivery.id, statusCode: 503, attempts: 10 } },
      { actionType: 'create_task', status: 'done' },
    ]);
    expect(await db.prisma.task.findMany({ where: { dealId: deal.id, sourceType: 'trigger' } })).toMatchObject([{ title: 'Check why Initech left New' }]);
    await terminateWhenSettled(handle);
  }, 120_000);
});
