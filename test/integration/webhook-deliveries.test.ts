import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { createWebhookDelivery } from '../../activities/webhooks';
import { createApp } from '../../api/app';
import { generateSigningSecret, verifyWebhookSignature } from '../../domain/webhook-signature';
import { createMetrics } from '../../runtime/metrics';
import type { Prisma } from '../../runtime/prisma';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver';
import { webhookDeliveryWorkflowId } from '../../workflows/workflow-ids';
import { apiClient } from '../support/api-client';
import { recordHistory } from '../support/histories';
import { salesFixture } from '../support/sales';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/**
 * Outbound webhook deliveries beyond the trigger that asks for them: the SSRF guard
 * (WEBHOOK_ALLOW_PRIVATE_NETWORKS off refuses private addresses when a trigger is saved and at
 * every delivery, on the addresses connected to) and POST /v1/webhook-deliveries/{id}/redeliver.
 * The stack itself runs with the guard off, as every test stack does, since the receiver
 * listens on 127.0.0.1; the guarded paths are built next to it on the same database.
 */
let stack: TestStack;
let receiver: WebhookReceiver;
let call: ReturnType<typeof apiClient>;
let trigger: { id: string; signingSecret: string };

const webhookSettings = { httpAllowedHosts: ['127.0.0.1', 'localhost'], timeoutMs: 5_000 };

beforeAll(async () => {
  [stack, receiver] = await Promise.all([startTestStack({ WEBHOOK_HTTP_ALLOWED_HOSTS: '127.0.0.1' }), startWebhookReceiver()]);
  await stack.startWorker();
  call = apiClient(stack, () => stack.keys.admin);
  const signingSecret = generateSigningSecret();
  trigger = { id: (await stack.db.prisma.trigger.create({ data: { name: 'webhook deliveries test', signingSecret } })).id, signingSecret };
}, 60_000);
afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

/** A delivery row as a trigger's webhook action writes it, not attempted yet. */
async function newDelivery(url: string) {
  const webhooks = createWebhookDelivery(stack.db.prisma, { webhooks: { ...webhookSettings, allowPrivateNetworks: true } });
  return webhooks.prepare({
    idempotencyKey: `test:${randomUUID()}`,
    url,
    event: 'deal.stage_left',
    triggerId: trigger.id,
    dealId: randomUUID(),
    buildPayload: (id) => ({ id, type: 'deal.stage_left', note: 'the same bytes on every delivery' }),
  });
}

const rowOf = (id: string) => stack.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id } });

describe('the private-network guard', () => {
  const guarded = () => createWebhookDelivery(stack.db.prisma, { webhooks: { ...webhookSettings, allowPrivateNetworks: false } });

  it('fails a delivery to a private IP for good, with the address in lastError, and sends nothing', async () => {
    const delivery = await newDelivery(receiver.url('/guarded-ip'));
    expect(await guarded().attempt(delivery.id)).toEqual({ status: 'failed', statusCode: null, reason: 'the URL resolves to a private address 127.0.0.1 (loopback)' });
    expect(receiver.received('/guarded-ip')).toEqual([]);
    expect(await rowOf(delivery.id)).toMatchObject({ status: 'failed', attempts: 0, lastStatusCode: null });
    // Final: another attempt (a retried activity) sends nothing either.
    expect((await guarded().attempt(delivery.id)).status).toBe('failed');
    expect(receiver.received('/guarded-ip')).toEqual([]);

    const listed = await call<{ data: Array<Record<string, unknown>> }>('GET', `/v1/webhook-deliveries?status=failed&triggerId=${trigger.id}`);
    expect(listed.body.data.find((row) => row.id === delivery.id)).toMatchObject({ status: 'failed', lastError: 'the URL resolves to a private address 127.0.0.1 (loopback)', attempts: 0 });
  });

  it('resolves a name when it delivers and refuses it when an address is private', async () => {
    const delivery = await newDelivery(receiver.url('/guarded-name').replace('127.0.0.1', 'localhost'));
    const outcome = await guarded().attempt(delivery.id);
    expect(outcome).toMatchObject({ status: 'failed', statusCode: null });
    expect(outcome.status === 'failed' && outcome.reason).toMatch(/^the URL resolves to a private address (127\.0\.0\.1|::1) \(loopback\)$/);
    expect(receiver.received('/guarded-name')).toEqual([]);
  });

  it('delivers to the same address when WEBHOOK_ALLOW_PRIVATE_NETWORKS is on', async () => {
    const delivery = await newDelivery(receiver.url('/unguarded'));
    const open = createWebhookDelivery(stack.db.prisma, { webhooks: { ...webhookSettings, allowPrivateNetworks: true } });
    expect(await open.attempt(delivery.id)).toEqual({ status: 'delivered', statusCode: 200 });
    const [received] = receiver.received('/unguarded');
    expect(received?.headers['touchpoint-delivery']).toBe(delivery.id);
    expect(received?.headers['touchpoint-event']).toBe('deal.stage_left');
    expect(verifyWebhookSignature(received?.headers['touchpoint-signature'] as string, received!.body, trigger.signingSecret)).toMatchObject({ ok: true });
  });

  it('answers 422 naming the URL field when a trigger is saved with a private host while the guard is on', async () => {
    const guardedApp = createApp({
      prisma: stack.db.prisma,
      temporal: stack.client,
      config: { ...stack.config, WEBHOOK_HTTP_ALLOWED_HOSTS: [], WEBHOOK_ALLOW_PRIVATE_NETWORKS: false },
      logger: pino({ level: 'silent' }),
      metrics: createMetrics('api'),
    });
    const server: Server = await new Promise((resolve) => {
      const listening = guardedApp.listen(0, '127.0.0.1', () => resolve(listening));
    });
    try {
      const guardedCall = apiClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, () => stack.keys.admin);
      const { stage } = await salesFixture(stack.db.prisma);
      const save = (url: string) =>
        guardedCall('POST', '/v1/triggers', { body: { name: `guarded ${url}`, definition: { event: 'enter', stageId: stage('Proposal').id, actions: [{ type: 'webhook', url }] } } });
      for (const [url, host] of [['https://10.0.0.5/hook', '10.0.0.5 is private'], ['https://169.254.169.254/latest', '169.254.169.254 is linkLocal'], ['https://localhost:8443/hook', 'localhost is loopback']] as const) {
        const refused = await save(url);
        expect(refused.status).toBe(422);
        expect(refused.body.errors).toEqual([{ field: 'definition/actions/0/url', message: expect.stringContaining(`(${host};`) }]);
      }
      expect((await save('https://hooks.example.com/touchpoint')).status).toBe(201);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('POST /v1/webhook-deliveries/{id}/redeliver', () => {
  /** A delivery the receiver refused with a 410: failed for good after one attempt. */
  async function failedDelivery(path: string) {
    const delivery = await newDelivery(receiver.url(path));
    receiver.answerNext(path, 1, 410);
    const webhooks = createWebhookDelivery(stack.db.prisma, { webhooks: { ...webhookSettings, allowPrivateNetworks: true } });
    expect(await webhooks.attempt(delivery.id)).toMatchObject({ status: 'failed', statusCode: 410 });
    return rowOf(delivery.id);
  }

  const redeliver = (id: string, key?: string) => call<Record<string, unknown>>('POST', `/v1/webhook-deliveries/${id}/redeliver`, key ? { key } : {});

  it('sends the same payload again, linked to the first delivery, with its id and a fresh signature', async () => {
    const original = await failedDelivery('/redeliver');
    const answer = await redeliver(original.id);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: 'pending', redeliveryOf: original.id, url: original.url, event: 'deal.stage_left', triggerId: trigger.id, dealId: original.dealId, payload: original.payload });
    const redeliveryId = answer.body.id as string;
    expect(redeliveryId).not.toBe(original.id);

    expect(await eventually(() => rowOf(redeliveryId), (row) => row.status !== 'pending')).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200 });
    const workflow = stack.client.workflow.getHandle(webhookDeliveryWorkflowId(redeliveryId));
    await workflow.result();
    await recordHistory(workflow, 'webhook-redelivery.json');
    const [first, again] = receiver.received('/redeliver');
    expect(again?.body).toBe(first?.body);
    expect(again?.headers['touchpoint-delivery']).toBe(original.id);
    expect(again?.headers['touchpoint-event']).toBe('deal.stage_left');
    const signedAt = (received: typeof first) => verifyWebhookSignature(received?.headers['touchpoint-signature'] as string, received!.body, trigger.signingSecret);
    const [firstSignature, againSignature] = [signedAt(first), signedAt(again)];
    expect(againSignature.ok && firstSignature.ok && againSignature.timestamp >= firstSignature.timestamp).toBe(true);
    // The original keeps its outcome; a redelivery of the redelivery still points at the first one.
    expect(await rowOf(original.id)).toMatchObject({ status: 'failed', lastStatusCode: 410 });
    const second = await redeliver(redeliveryId);
    expect(second.status).toBe(202);
    expect(second.body.redeliveryOf).toBe(original.id);
    await eventually(() => rowOf(second.body.id as string), (row) => row.status === 'delivered');
    expect(receiver.received('/redeliver').map((received) => received.headers['touchpoint-delivery'])).toEqual([original.id, original.id, original.id]);

    const listed = await call<{ data: Array<Record<string, unknown>> }>('GET', `/v1/webhook-deliveries?dealId=${original.dealId}`);
    expect(listed.body.data.map((row) => [row.status, row.redeliveryOf])).toEqual([['delivered', original.id], ['delivered', original.id], ['failed', null]]);
  });

  it('refuses with 409 while the delivery or another redelivery of it is pending', async () => {
    const pending = await newDelivery(receiver.url('/pending'));
    const refused = await redeliver(pending.id);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/still pending/);

    const original = await failedDelivery('/busy');
    const inFlight = await stack.db.prisma.webhookDelivery.create({
      data: { idempotencyKey: `redelivery:${randomUUID()}`, url: original.url, event: original.event, payload: original.payload as Prisma.InputJsonValue, triggerId: trigger.id, redeliveryOf: original.id },
    });
    const busy = await redeliver(original.id);
    expect(busy.status).toBe(409);
    expect(busy.body.detail).toContain(inFlight.id);
    expect(await stack.db.prisma.webhookDelivery.count({ where: { redeliveryOf: original.id } })).toBe(1);
    expect(receiver.received('/pending')).toEqual([]);
  });

  it('answers 404 for an unknown delivery and 403 to roles that may not write triggers', async () => {
    expect((await redeliver(randomUUID())).status).toBe(404);
    const original = await failedDelivery('/roles');
    const { maria, rita } = await salesFixture(stack.db.prisma);
    expect((await redeliver(original.id, await stack.keyFor('manager', maria.id))).status).toBe(403);
    expect((await redeliver(original.id, await stack.keyFor('rep', rita.id))).status).toBe(403);
    expect((await redeliver(original.id, await stack.keyFor('sales_ops'))).status).toBe(202);
  });
});
