import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stopChild } from '../../runtime/temporal-dev-server';
import { dealStateQuery } from '../../workflows/deal-messages';
import { dealWorkflowId } from '../../workflows/workflow-ids';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver';
import { apiClient } from '../support/api-client';
import { salesFixture } from '../support/sales';
import { eventually, startTestStack, type TestStack } from '../support/stack';
import { startWorkerProcess } from '../support/worker-process';

let stack: TestStack;
let receiver: WebhookReceiver;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [stack, receiver] = await Promise.all([startTestStack({ WEBHOOK_HTTP_ALLOWED_HOSTS: '127.0.0.1' }), startWebhookReceiver()]);
}, 60_000);
afterAll(async () => {
  for (const child of children) await stopChild(child, 2_000);
  await receiver?.close();
  await stack?.close();
});

function startWorker(): ChildProcess {
  const child = startWorkerProcess(stack, { WEBHOOK_HTTP_ALLOWED_HOSTS: '127.0.0.1' });
  children.push(child);
  return child;
}

describe('a worker killed in the middle of a trigger', () => {
  it('is replaced by another that finishes the trigger: each action once, the webhook under one delivery id', async () => {
    const fixture = await salesFixture(stack.db.prisma);
    const call = apiClient(stack, () => stack.keys.admin);
    const trigger = await call<{ id: string }>('POST', '/v1/triggers', {
      body: {
        name: 'contract out',
        publish: true,
        definition: {
          event: 'enter',
          stageId: fixture.stage('Negotiation').id,
          actions: [
            { type: 'create_task', title: 'Chase the signed contract for {{deal.name}}' },
            { type: 'webhook', url: receiver.url('/contracts') },
            { type: 'notify_owner', template: 'deal-stage-changed' },
          ],
        },
      },
    });
    expect(trigger.status).toBe(201);
    const deal = await call<{ id: string }>('POST', '/v1/deals', {
      body: { name: 'Umbrella', amount: '9000.00', currency: 'USD', pipelineId: fixture.pipeline.id, stageId: fixture.stage('Proposal').id, ownerId: fixture.rita.id },
    });
    expect(deal.status).toBe(201);
    // The first call never gets an answer: the worker is killed while it waits for it.
    receiver.holdNext('/contracts', 1);
    expect((await call('PATCH', `/v1/deals/${deal.body.id}`, { body: { stageId: fixture.stage('Negotiation').id } })).status).toBe(200);

    const first = startWorker();
    await eventually(async () => receiver.received('/contracts').length, (n) => n === 1, 60_000);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    // Killed between the first action (done) and the end of the second.
    expect(await stack.db.prisma.triggerRun.count({ where: { triggerId: trigger.body.id } })).toBe(1);

    startWorker();
    // The webhook activity is retried once its 30 s start-to-close timeout has passed. Until the
    // new worker polls, a query has nobody to answer it.
    const handle = stack.client.workflow.getHandle(dealWorkflowId(deal.body.id));
    await eventually(() => handle.query(dealStateQuery).catch(() => null), (state) => state?.triggerActionsRun === 3, 150_000);

    const runs = await stack.db.prisma.triggerRun.findMany({ where: { triggerId: trigger.body.id }, orderBy: { actionIndex: 'asc' } });
    expect(runs.map((run) => [run.actionType, run.status])).toEqual([['create_task', 'done'], ['webhook', 'done'], ['notify_owner', 'done']]);
    expect(await stack.db.prisma.task.count({ where: { dealId: deal.body.id, sourceType: 'trigger' } })).toBe(1);
    expect(await stack.db.prisma.message.findMany({ where: { toAddress: fixture.rita.email } })).toMatchObject([{ templateKey: 'deal-stage-changed', status: 'accepted', subject: 'Umbrella is now in Negotiation' }]);
    const deliveries = await stack.db.prisma.webhookDelivery.findMany({ where: { dealId: deal.body.id } });
    expect(deliveries).toMatchObject([{ status: 'delivered' }]);
    // Webhooks are at least once: the receiver may see the call the dead worker made, and every
    // call carries the same delivery id and body, so it can tell the repeat.
    const calls = receiver.received('/contracts');
    expect(calls.length).toBe(2);
    expect(new Set(calls.map((received) => received.headers['touchpoint-delivery']))).toEqual(new Set([deliveries[0]!.id]));
    expect(calls[1]!.body).toBe(calls[0]!.body);
  }, 240_000);
});
