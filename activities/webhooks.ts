import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Prisma } from '../prisma/generated/client';
import type { TriggerWebhookEvent } from '../domain/schemas/trigger';
import { webhookUrlProblem, type WebhookPolicy } from '../domain/trigger-validation';
import { deliveryHeader, eventHeader, signatureHeader, signWebhook } from '../domain/webhook-signature';
import type { PrismaClient } from '../runtime/prisma';
import type { ActivityDeps } from './deps';
import { createWebhookTransport, PrivateAddressError } from './webhook-transport';

/**
 * Outbound webhooks of stage-move triggers. A delivery is a WebhookDelivery row first, keyed
 * by the business key of the action that asked for it, so a retried activity finds it instead
 * of creating another; its payload is fixed when it is written, so every retry posts the same
 * JSON. Each attempt is signed afresh (domain/webhook-signature.ts) over the exact bytes sent.
 *
 * Outcomes of one attempt: 2xx delivered; 408, 429, 5xx, a timeout or a network error are
 * worth another try and fail the activity retryably (the workflow's retry policy spaces the
 * attempts out exponentially); any other answer (3xx, since redirects are not followed with a
 * signed body, and 4xx) fails the delivery for good, and so does a host that is or resolves to
 * a private address while WEBHOOK_ALLOW_PRIVATE_NETWORKS is off (activities/webhook-transport.ts).
 * The workflow marks a delivery failed when the retries run out. Both end states are visible at
 * GET /v1/webhook-deliveries. A redelivery (POST /v1/webhook-deliveries/{id}/redeliver) is a
 * new row with the same payload, event and Touchpoint-Delivery id, sent by the same `attempt`.
 */
export interface WebhookDeps {
  webhooks?: WebhookPolicy & {
    /** Longest wait for the receiver's answer. */
    timeoutMs: number;
  };
}

export const defaultWebhookTimeoutMs = 10_000;
export const webhookUserAgent = 'Touchpoint-Webhooks/1.0';

export type WebhookEventType = TriggerWebhookEvent['type'];

export interface NewDelivery {
  idempotencyKey: string;
  url: string;
  event: WebhookEventType;
  /** The JSON to post; given the new delivery's id, which the standard event carries. */
  buildPayload(deliveryId: string): Prisma.InputJsonValue;
  triggerId: string;
  dealId: string;
}

export type AttemptOutcome = { status: 'delivered'; statusCode: number } | { status: 'failed'; statusCode: number | null; reason: string };

/** Answers that a later attempt may turn into a success. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function createWebhookDelivery(prisma: PrismaClient, deps: WebhookDeps) {
  const policy: WebhookPolicy = { httpAllowedHosts: deps.webhooks?.httpAllowedHosts ?? [], allowPrivateNetworks: deps.webhooks?.allowPrivateNetworks ?? false };
  const timeoutMs = deps.webhooks?.timeoutMs ?? defaultWebhookTimeoutMs;
  const transport = createWebhookTransport({ timeoutMs, allowPrivateNetworks: policy.allowPrivateNetworks });

  /** Without a reason the last attempt's error stays as the delivery's reason. */
  async function markFailed(deliveryId: string, reason?: string, statusCode: number | null = null): Promise<void> {
    await prisma.webhookDelivery.updateMany({
      where: { id: deliveryId, status: 'pending' },
      data: { status: 'failed', ...(reason ? { lastError: reason.slice(0, 500) } : {}), ...(statusCode === null ? {} : { lastStatusCode: statusCode }) },
    });
  }

  const find = (idempotencyKey: string) => prisma.webhookDelivery.findUnique({ where: { idempotencyKey }, select: { id: true, status: true } });

  return {
    find,

    /** The delivery row for this key: written now, or the one an earlier attempt wrote. */
    async prepare(request: NewDelivery): Promise<{ id: string; status: string }> {
      const existing = await find(request.idempotencyKey);
      if (existing) return existing;
      const id = randomUUID();
      await prisma.webhookDelivery.createMany({
        data: [{ id, idempotencyKey: request.idempotencyKey, url: request.url, event: request.event, payload: request.buildPayload(id), triggerId: request.triggerId, dealId: request.dealId }],
        skipDuplicates: true,
      });
      return prisma.webhookDelivery.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey }, select: { id: true, status: true } });
    },

    /** One signed POST. Throws a retryable failure when another attempt may succeed. */
    async attempt(deliveryId: string): Promise<AttemptOutcome> {
      const delivery = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
      if (delivery.status === 'delivered') return { status: 'delivered', statusCode: delivery.lastStatusCode ?? 200 };
      if (delivery.status === 'failed') return { status: 'failed', statusCode: delivery.lastStatusCode, reason: delivery.lastError ?? 'failed' };
      // The allow-list may have changed since the trigger was saved: check it at every call.
      // Private addresses are the transport's to refuse, on the addresses it connects to.
      const urlProblem = webhookUrlProblem(delivery.url, { ...policy, allowPrivateNetworks: true });
      const trigger = delivery.triggerId ? await prisma.trigger.findUnique({ where: { id: delivery.triggerId }, select: { signingSecret: true } }) : null;
      const refuse = async (reason: string): Promise<AttemptOutcome> => {
        await markFailed(deliveryId, reason);
        return { status: 'failed', statusCode: null, reason };
      };
      if (urlProblem) return refuse(`the URL ${urlProblem}`);
      if (!trigger?.signingSecret) return refuse('the trigger has no signing secret');

      const body = JSON.stringify(delivery.payload);
      let statusCode: number | null = null;
      let problem: string;
      try {
        const response = await transport.post(
          delivery.url,
          {
            'content-type': 'application/json',
            'user-agent': webhookUserAgent,
            [signatureHeader]: signWebhook(trigger.signingSecret, body),
            // A redelivery keeps the first delivery's id, so the receiver can drop a repeat.
            [deliveryHeader]: delivery.redeliveryOf ?? delivery.id,
            [eventHeader]: delivery.event,
          },
          body,
        );
        statusCode = response.status;
        if (statusCode >= 200 && statusCode < 300) {
          await prisma.webhookDelivery.update({
            where: { id: deliveryId },
            data: { status: 'delivered', attempts: { increment: 1 }, lastStatusCode: statusCode, lastError: null, deliveredAt: new Date() },
          });
          return { status: 'delivered', statusCode };
        }
        problem = `HTTP ${statusCode}${response.answer ? `: ${response.answer}` : ''}`;
      } catch (error) {
        if (error instanceof PrivateAddressError) return refuse(error.message);
        const failure = error as Error;
        problem = failure.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : `request failed: ${failure.message}`;
      }

      await prisma.webhookDelivery.update({ where: { id: deliveryId }, data: { attempts: { increment: 1 }, lastStatusCode: statusCode, lastError: problem.slice(0, 500) } });
      if (statusCode === null || isRetryableStatus(statusCode)) {
        throw ApplicationFailure.create({ type: 'WebhookAttemptFailed', message: `Webhook ${deliveryId}: ${problem}`, nonRetryable: false });
      }
      const reason = statusCode < 400 ? `${problem} (redirects are not followed)` : problem;
      await markFailed(deliveryId, reason, statusCode);
      return { status: 'failed', statusCode, reason };
    },

    /** After the last attempt: the delivery stays visible as failed with its last error. */
    markFailed,
  };
}

/** The steps of a redelivery's workflow (workflows/webhook-redelivery.ts). */
export function createWebhookActivities(deps: ActivityDeps & WebhookDeps) {
  const webhooks = createWebhookDelivery(deps.prisma, deps);
  return {
    /** One attempt; throws a retryable failure when another attempt may succeed. */
    deliverWebhook: (deliveryId: string): Promise<AttemptOutcome> => webhooks.attempt(deliveryId),
    /** Out of retries: the delivery shows as failed with its last error. */
    failWebhookDelivery: (deliveryId: string): Promise<void> => webhooks.markFailed(deliveryId),
  };
}
