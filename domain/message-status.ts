/**
 * The lifecycle of an outbound message (the `Message` outbox row), ordered by progress.
 * A message only ever moves forward in this list: a late or replayed provider webhook
 * ("delivered" arriving after "opened") or a retried activity must never move it back.
 * The order is the same as enum MessageStatus in prisma/schema.prisma (a unit test keeps
 * them in step); it is repeated here because domain/ imports nothing generated.
 *
 * - pending: the row exists, the provider was not called yet.
 * - sending: the provider call is under way (found here by a later attempt = the worker died).
 * - unknown: the call was made but its outcome is not known (timeout, connection reset, 5xx
 *   after the request left); it is reconciled from provider evidence before any resend.
 * - accepted: the provider took it. Then the delivery states the webhooks report.
 * - failed, skipped: final; nothing follows them.
 */
export const messageStatusOrder = [
  'pending',
  'sending',
  'unknown',
  'accepted',
  'queued',
  'sent',
  'deferred',
  'delivered',
  'opened',
  'clicked',
  'undelivered',
  'bounced',
  'dropped',
  'spam_reported',
  'unsubscribed',
  'failed',
  'skipped',
] as const;

export type MessageStatus = (typeof messageStatusOrder)[number];

const rank = new Map<MessageStatus, number>(messageStatusOrder.map((status, index) => [status, index]));

/** Once failed or skipped, a message is done: no later report revives it. */
export const finalMessageStatuses: ReadonlySet<MessageStatus> = new Set(['failed', 'skipped']);

/** Statuses that prove the provider took the message: it must never be sent again. */
export function isAcceptedOrLater(status: MessageStatus): boolean {
  return !finalMessageStatuses.has(status) && rankOf(status) >= rankOf('accepted');
}

export function isMessageStatus(value: string): value is MessageStatus {
  return rank.has(value as MessageStatus);
}

/** True when a message in `from` may move to `to`: strictly later in the order, and `from` not final. */
export function canAdvance(from: MessageStatus, to: MessageStatus): boolean {
  if (finalMessageStatuses.has(from)) return false;
  return rankOf(to) > rankOf(from);
}

function rankOf(status: MessageStatus): number {
  const value = rank.get(status);
  if (value === undefined) throw new Error(`Unknown message status ${String(status)}`);
  return value;
}
