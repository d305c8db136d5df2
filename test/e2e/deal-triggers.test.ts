import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { verifyWebhookSignature } from '../../domain/webhook-signature';
import { dealStageChangedSignal, dealStateQuery } from '../../workflows/deal-messages';
import { dealWorkflowId } from '../../workflows/workflow-ids';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver';
import { apiClient } from '../support/api-client';
import { salesFixture } from '../support/sales';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/**
 * Stage-move triggers end to end: sales ops define them over /v1/triggers, a rep moves a deal
 * with PATCH /v1/deals/{id}, the deal's workflow fires the actions on the worker, and webhooks
 * reach a local receiver signed and retried.
 */
let stack: TestStack;
let receiver: WebhookReceiver;
let fixture: Awaited<ReturnType<typeof salesFixture>>;
let call: ReturnType<typeof apiClient>;

beforeAll(async () => {
  [stack, receiver] = await Promise.all([startTestStack({ WEBHOOK_HTTP_ALLOWED_HOSTS: '127.0.0.1' }), startWebhookReceiver()]);
  await stack.startWorker();
  fixture = await salesFixture(stack.db.prisma);
  call = apiClient(stack, () => stack.keys.admin);
}, 60_000);
afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

async function createTrigger(definition: Record<string, unknown>, name: string): Promise<{ id: string; signingSecret: string }> {
  const created = await call<{ id: string; signingSecret: string }>('POST', '/v1/triggers', { body: { name, definition, publish: true } });
  expect(created.status).toBe(201);
  return created.body;
}

async function createDeal(name: string, stage = 'Qualified'): Promise<{ id: string; contactId: string }> {
  const contact = await stack.db.prisma.contact.create({ data: { firstName: 'Grace', lastName: 'Hopper', emails: { create: { address: `${name.toLowerCase().replace(/\W+/g, '-')}@example.com`, isPrimary: true } } } });
  const deal = await call<{ id: string }>('POST', '/v1/deals', {
    body: { name, amount: '48000.00', currency: 'EUR', pipelineId: fixture.pipeline.id, stageId: fixture.stage(stage).id, ownerId: fixture.rita.id, contactId: contact.id },
  });
  expect(deal.status).toBe(201);
  return { id: deal.body.id, contactId: contact.id };
}

const move = (dealId: string, stage: string, idempotencyKey?: string) =>
  call('PATCH', `/v1/deals/${dealId}`, { body: { stageId: fixture.stage(stage).id }, ...(idempotencyKey ? { headers: { 'Idempotency-Key': idempotencyKey } } : {}) });

const runsOf = (triggerId: string) => stack.db.prisma.triggerRun.findMany({ where: { triggerId }, orderBy: [{ stageChangeId: 'asc' }, { actionIndex: 'asc' }] });

describe('stage-move triggers', () => {
  it('fire a two-action trigger exactly once for a move, whatever is retried or redelivered', async () => {
    const trigger = await createTrigger({
      event: 'enter',
      stageId: fixture.stage('Proposal').id,
      filters: { amount: { min: 10_000 }, contactLifecycleStages: ['lead'] },
      actions: [
        { type: 'create_task', title: 'Walk {{contact.firstName}} through the {{deal.name}} proposal', taskType: 'call', priority: 'high' },
        { type: 'webhook', url: receiver.url('/proposals') },
      ],
    }, 'proposal follow-up');
    const deal = await createDeal('Hooli platform');

    expect((await move(deal.id, 'Proposal', 'move-hooli-1')).status).toBe(200);
    // The client did not see the answer and sends it again: the stored answer comes back.
    const replay = await move(deal.id, 'Proposal', 'move-hooli-1');
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    // Another retry without the key finds the deal already there: no new stage change.
    expect((await move(deal.id, 'Proposal')).status).toBe(200);
    const changes = await stack.db.prisma.dealStageChange.findMany({ where: { dealId: deal.id, fromStageId: { not: null } } });
    expect(changes).toHaveLength(1);
    // And the signal itself delivered twice more (a gateway retry after a timeout).
    const change = changes[0]!;
    const handle = stack.client.workflow.getHandle(dealWorkflowId(deal.id));
    const payload = { stageChangeId: change.id, fromStageId: change.fromStageId, toStageId: change.toStageId, at: change.changedAt.toISOString(), byUserId: change.changedById };
    await handle.signal(dealStageChangedSignal, payload);
    await handle.signal(dealStageChangedSignal, payload);

    await eventually(() => handle.query(dealStateQuery), (state) => state.triggerActionsRun === 2 && state.pendingStageChanges.length === 0);
    // The redelivered signals were dropped on arrival: two actions ran, not four.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await handle.query(dealStateQuery)).toMatchObject({ triggerActionsRun: 2, stageEntryId: change.id, pendingStageChanges: [] });
    expect(await runsOf(trigger.id)).toMatchObject([
      { version: 1, dealId: deal.id, stageChangeId: change.id, actionIndex: 0, actionType: 'create_task', status: 'done' },
      { version: 1, dealId: deal.id, stageChangeId: change.id, actionIndex: 1, actionType: 'webhook', status: 'done' },
    ]);
    const tasks = await stack.db.prisma.task.findMany({ where: { dealId: deal.id, sourceType: 'trigger' } });
    expect(tasks).toMatchObject([{ title: 'Walk Grace through the Hooli platform proposal', type: 'call', priority: 'high', assigneeId: fixture.rita.id, contactId: deal.contactId }]);

    const calls = receiver.received('/proposals');
    expect(calls).toHaveLength(1);
    const [webhook] = calls;
    const secret = await call<{ signingSecret: string }>('GET', `/v1/triggers/${trigger.id}/signing-secret`);
    expect(secret.body.signingSecret).toBe(trigger.signingSecret);
    expect(verifyWebhookSignature(webhook!.headers['touchpoint-signature'] as string, webhook!.body, trigger.signingSecret)).toMatchObject({ ok: true });
    expect(webhook!.headers['touchpoint-event']).toBe('deal.stage_entered');
    const event = JSON.parse(webhook!.body) as Record<string, unknown>;
    expect(event).toMatchObject({
      id: webhook!.headers['touchpoint-delivery'],
      type: 'deal.stage_entered',
      trigger: { id: trigger.id, name: 'proposal follow-up', version: 1 },
      stageChange: { id: change.id, fromStageId: fixture.stage('Qualified').id, toStageId: fixture.stage('Proposal').id, byUserId: change.changedById },
      deal: { id: deal.id, name: 'Hooli platform', amount: 48_000, currency: 'EUR', status: 'open', ownerId: fixture.rita.id },
      contact: { id: deal.contactId, firstName: 'Grace', email: 'hooli-platform@example.com' },
      owner: { id: fixture.rita.id, name: 'Rita Rep' },
    });

    const runs = await call<{ data: Array<Record<string, unknown>> }>('GET', `/v1/triggers/${trigger.id}/runs?dealId=${deal.id}`);
    expect(runs.status).toBe(200);
    expect(runs.body.data.map((run) => `${String(run.actionType)}:${String(run.status)}:v${String(run.version)}`).sort()).toEqual(['create_task:done:v1', 'webhook:done:v1']);
  }, 60_000);

  it('signs every attempt of a webhook that fails first and is retried with backoff until it is delivered', async () => {
    const trigger = await createTrigger({
      event: 'leave',
      stageId: fixture.stage('Qualified').id,
      actions: [{ type: 'webhook', url: receiver.url('/flaky'), body: { text: '{{deal.name}} left {{stageChange.from}} for {{stageChange.to}}', deal: '{{deal.name}}' } }],
    }, 'flaky receiver');
    receiver.answerNext('/flaky', 2, 503);
    const deal = await createDeal('Pied Piper');
    expect((await move(deal.id, 'Negotiation')).status).toBe(200);

    const delivered = await eventually(() => stack.db.prisma.webhookDelivery.findFirst({ where: { triggerId: trigger.id } }), (row) => row?.status === 'delivered', 30_000);
    expect(delivered).toMatchObject({ attempts: 3, lastStatusCode: 200, lastError: null });
    const calls = receiver.received('/flaky');
    expect(calls.map((attempt) => attempt.status)).toEqual([503, 503, 200]);
    for (const attempt of calls) {
      expect(attempt.headers['touchpoint-delivery']).toBe(delivered!.id);
      expect(JSON.parse(attempt.body)).toEqual({ text: 'Pied Piper left Qualified for Negotiation', deal: 'Pied Piper' });
      expect(verifyWebhookSignature(attempt.headers['touchpoint-signature'] as string, attempt.body, trigger.signingSecret).ok).toBe(true);
    }
    await eventually(() => runsOf(trigger.id), (runs) => runs.length === 1 && runs[0]!.status === 'done');
  }, 60_000);

  it('enrolls the deal\'s contact in a sequence once, through the sequence\'s own enrollment', async () => {
    const sequence = await call<{ id: string }>('POST', '/v1/sequences', {
      body: { name: 'Proposal nurture', publish: true, definition: { steps: [{ key: 'pause', type: 'wait', duration: 'P7D' }, { key: 'hello', type: 'email', template: 'welcome' }] } },
    });
    expect(sequence.status).toBe(201);
    const trigger = await createTrigger({
      event: 'enter',
      stageId: fixture.stage('Contacted').id,
      actions: [{ type: 'enroll_in_sequence', sequenceId: sequence.body.id }],
    }, 'nurture on contact');
    const deal = await createDeal('Soylent supply', 'New');
    expect((await move(deal.id, 'Contacted')).status).toBe(200);

    const [run] = await eventually(() => runsOf(trigger.id), (runs) => runs.length === 1);
    const enrollments = await stack.db.prisma.enrollment.findMany({ where: { sequenceId: sequence.body.id, contactId: deal.contactId } });
    expect(enrollments).toMatchObject([{ source: 'trigger', sourceRef: `trigger:${trigger.id}`, sourceKey: `trigger:${trigger.id}:${run!.stageChangeId}:0`, status: 'active' }]);
    expect(run).toMatchObject({ actionType: 'enroll_in_sequence', status: 'done', detail: { enrollmentId: enrollments[0]!.id, enrollment: 'enrolled' } });
  }, 60_000);

  it('gives up at once on a 4xx answer, shows the failed delivery, and still runs the next action', async () => {
    const trigger = await createTrigger({
      event: 'enter',
      stageId: fixture.stage('Lost').id,
      actions: [
        { type: 'webhook', url: receiver.url('/gone') },
        { type: 'update_field', target: 'contact', field: 'customFields.lostTo', value: 'competitor' },
      ],
    }, 'gone receiver');
    receiver.answerNext('/gone', 1, 410);
    const deal = await createDeal('Vandelay imports');
    expect((await call('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: fixture.stage('Lost').id, lostReason: 'went with a competitor' } })).status).toBe(200);

    await eventually(() => runsOf(trigger.id), (runs) => runs.length === 2);
    expect((await runsOf(trigger.id)).map((run) => [run.actionType, run.status])).toEqual([['webhook', 'failed'], ['update_field', 'done']]);
    expect((await stack.db.prisma.contact.findUniqueOrThrow({ where: { id: deal.contactId } })).customFields).toEqual({ lostTo: 'competitor' });
    expect(receiver.received('/gone')).toHaveLength(1);

    const managerKey = await stack.keyFor('manager', fixture.maria.id);
    const failed = await call<{ data: Array<Record<string, unknown>> }>('GET', `/v1/webhook-deliveries?status=failed&dealId=${deal.id}`, { key: managerKey });
    expect(failed.status).toBe(200);
    expect(failed.body.data).toMatchObject([{ status: 'failed', attempts: 1, lastStatusCode: 410, triggerId: trigger.id, dealId: deal.id, url: receiver.url('/gone') }]);
    expect(failed.body.data[0]!.lastError).toMatch(/^HTTP 410/);
    // Lost is a closing stage: the workflow ends once its triggers have run.
    await eventually(() => stack.client.workflow.getHandle(dealWorkflowId(deal.id)).describe(), (description) => description.status.name === 'COMPLETED');
    expect((await call('GET', '/v1/webhook-deliveries', { key: stack.keys.rep })).status).toBe(403);
  }, 60_000);
});
