import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { quickStepOptions, webhookOptions } from './activity-options';

export interface WebhookRedeliveryInput {
  /** The new WebhookDelivery row that POST /v1/webhook-deliveries/{id}/redeliver wrote. */
  deliveryId: string;
}

const deliverySteps = proxyActivities<Activities>(webhookOptions);
const quickSteps = proxyActivities<Activities>(quickStepOptions);

/**
 * One redelivery of a webhook (`webhook-delivery:{deliveryId}`), retried like a trigger's own
 * delivery (webhookOptions); out of retries, the delivery is marked failed with its last error.
 * The row already holds everything the POST needs, so the workflow carries only its id.
 */
export async function webhookRedelivery({ deliveryId }: WebhookRedeliveryInput): Promise<void> {
  try {
    await deliverySteps.deliverWebhook(deliveryId);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    await quickSteps.failWebhookDelivery(deliveryId);
  }
}
