import { randomUUID } from 'node:crypto';
import { canAdvance, isMessageStatus, type MessageStatus } from '../../domain/message-status';
import type { Prisma } from '../../runtime/prisma';

/**
 * Writes shared by the provider webhooks: the idempotency claim of an incoming event, the
 * MessageEvent row, and the forward-only status move of the Message. All take a transaction
 * client, so a webhook event is stored all-or-nothing.
 */

type Tx = Prisma.TransactionClient;

export interface InboundClaim {
  /** The InboundEvent row's id: the same for every redelivery, so signals carry it as their event id. */
  id: string;
  duplicate: boolean;
  contactId: string | null;
  activityId: string | null;
}

/**
 * Claims (source, externalId). A concurrent delivery of the same event waits on the unique
 * index until the first transaction ends, then sees the row and reports a duplicate, so
 * exactly one delivery does the work.
 */
export async function claimInboundEvent(tx: Tx, source: string, externalId: string, refs: { contactId?: string | null; activityId?: string | null } = {}): Promise<InboundClaim> {
  const id = randomUUID();
  const { count } = await tx.inboundEvent.createMany({
    data: [{ id, source, externalId, contactId: refs.contactId ?? null, activityId: refs.activityId ?? null }],
    skipDuplicates: true,
  });
  if (count === 1) return { id, duplicate: false, contactId: refs.contactId ?? null, activityId: refs.activityId ?? null };
  const existing = await tx.inboundEvent.findUniqueOrThrow({ where: { source_externalId: { source, externalId } } });
  return { id: existing.id, duplicate: true, contactId: existing.contactId, activityId: existing.activityId };
}

/** An existing claim, without creating one. */
export async function findInboundEvent(tx: Tx, source: string, externalId: string): Promise<InboundClaim | null> {
  const existing = await tx.inboundEvent.findUnique({ where: { source_externalId: { source, externalId } } });
  return existing ? { id: existing.id, duplicate: true, contactId: existing.contactId, activityId: existing.activityId } : null;
}

export interface MessageEventInput {
  messageId: string;
  provider: string;
  event: string;
  providerEventId: string | null;
  occurredAt: Date;
  data: Record<string, unknown>;
}

export interface StatusMove {
  from: MessageStatus;
  to: MessageStatus;
  advanced: boolean;
}

/**
 * Records what the provider reported and moves the message forward when the report is news.
 * The message row is locked first: two webhooks for one message (delivered and opened arrive
 * within milliseconds) must not both read the old status and overwrite each other.
 */
export async function applyMessageEvent(
  tx: Tx,
  input: MessageEventInput,
  move: { status: MessageStatus | null; providerMessageId?: string | null; error?: string | null },
): Promise<StatusMove | null> {
  const rows = await tx.$queryRaw<{ status: string; provider_message_id: string | null }[]>`
    SELECT status::text AS status, provider_message_id FROM messages WHERE id = ${input.messageId}::uuid FOR UPDATE`;
  const row = rows[0];
  if (!row) return null;
  await tx.messageEvent.create({
    data: {
      messageId: input.messageId,
      provider: input.provider,
      event: input.event,
      providerEventId: input.providerEventId,
      occurredAt: input.occurredAt,
      data: input.data as Prisma.InputJsonObject,
    },
  });

  const from = isMessageStatus(row.status) ? row.status : 'unknown';
  const advanced = move.status !== null && canAdvance(from, move.status);
  const setProviderId = !row.provider_message_id && move.providerMessageId ? move.providerMessageId : null;
  if (advanced || setProviderId) {
    const entry = JSON.stringify(advanced ? [{ status: move.status, at: input.occurredAt.toISOString() }] : []);
    await tx.$executeRaw`
      UPDATE messages
         SET status = ${advanced ? move.status : from}::"MessageStatus",
             provider_message_id = COALESCE(provider_message_id, ${setProviderId}),
             status_history = status_history || ${entry}::jsonb,
             error = COALESCE(${advanced ? (move.error ?? null) : null}, error),
             updated_at = now()
       WHERE id = ${input.messageId}::uuid`;
  }
  return { from, to: move.status ?? from, advanced };
}
