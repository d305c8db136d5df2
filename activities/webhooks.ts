import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Prisma } from '../prisma/generated/client';
import { webhookUrlProblem, type WebhookPolicy } from '../domain/trigger-validation';
import { deliveryHeader, eventHeader, signatureHeader, signWebhook } from '../domain/webhook-signature';
import type { PrismaClient } from '../runtime/prisma';

/**
 * Outbound webhooks of stage-move triggers. A delivery is a WebhookDelivery row first, keyed
 * by the business key of the action that asked for it, so a retried activity finds it instead
 * of creating another; its payload is fixed when it is written, so every retry posts the same
 * JSON. Each attempt is signed afresh (domain/webhook-signature.ts) over the exact bytes sent.
 *
 * Outcomes of one attempt: 2xx delivered; 408, 429, 5xx, a timeout or a network error are
 * worth another try and fail the activity retryably (the workflow's retry policy spaces the
 * attempts out exponentially); any other answer (3xx, since redirects are not followed with a
 * signed body, and 4xx) fails the delivery for good. The workflow marks a delivery failed when
 * the retries run out. Both end states are visible at GET /v1/webhook-deliveries.
 */
export interface WebhookDeps {
  webhooks?: WebhookPolicy & {
    /** Longest wait for the receiver's answer. */
    timeoutMs: number;
  };
}

export const defaultWebhookTimeoutMs = 10_000;
export const webhookUserAgent = 'Touchpoint-Webhooks/1.0';

export interface NewDelivery {
  idempotencyKey: string;
  url: string;
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
  const policy: WebhookPolicy = { httpAllowedHosts: deps.webhooks?.httpAllowedHosts ?? [] };
  const timeoutMs = deps.webhooks?.timeoutMs ?? defaultWebhookTimeoutMs;

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
        data: [{ id, idempotencyKey: request.idempotencyKey, url: request.url, payload: request.buildPayload(id), triggerId: request.triggerId, dealId: request.dealId }],
        skipDuplicates: true,
      });
      return prisma.webhookDelivery.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey }, select: { id: true, status: true } });
    },

    /** One signed POST. Throws a retryable failure when another attempt may succeed. */
    async attempt(deliveryId: string, event: string): Promise<AttemptOutcome> {
      const delivery = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
      if (delivery.status === 'delivered') return { status: 'delivered', statusCode: delivery.lastStatusCode ?? 200 };
      if (delivery.status === 'failed') return { status: 'failed', statusCode: delivery.lastStatusCode, reason: delivery.lastError ?? 'failed' };
      // The allow-list may have changed since the trigger was saved: check it at every call.
      const urlProblem = webhookUrlProblem(delivery.url, policy);
      const trigger = delivery.triggerId ? await prisma.trigger.findUnique({ where: { id: delivery.triggerId }, select: { signingSecret: true } }) : null;
      const refusal = urlProblem ? `the URL ${urlProblem}` : !trigger?.signingSecret ? 'the trigger has no signing secret' : null;
      if (refusal) {
        await markFailed(deliveryId, refusal);
        return { status: 'failed', statusCode: null, reason: refusal };
      }

      const body = JSON.stringify(delivery.payload);
      let statusCode: number | null = null;
      let problem: string;
      try {
        const response = await fetch(delivery.url, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            'content-type': 'application/json',
            'user-agent': webhookUserAgent,
            [signatureHeader]: signWebhook(trigger!.signingSecret!, body),
            [deliveryHeader]: delivery.id,
            [eventHeader]: event,
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        statusCode = response.status;
        // Read a little of the answer for the delivery log; the rest is not needed.
        const answer = (await response.text().catch(() => '')).slice(0, 200);
        if (response.ok) {
          await prisma.webhookDelivery.update({
            where: { id: deliveryId },
            data: { status: 'delivered', attempts: { increment: 1 }, lastStatusCode: statusCode, lastError: null, deliveredAt: new Date() },
          });
          return { status: 'delivered', statusCode };
        }
        problem = `HTTP ${statusCode}${answer ? `: ${answer}` : ''}`;
      } catch (error) {
        const failure = error as Error;
        problem = failure.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `request failed: ${failure.message}${causeOf(failure)}`;
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

function causeOf(error: Error): string {
  const cause = (error as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? ` (${cause.message})` : '';
}
