import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { canAdvance, isAcceptedOrLater, isMessageStatus, messageStatusOrder, type MessageStatus } from '../../domain/message-status';
import type { Message } from '../../prisma/generated/client';
import type { PrismaClient } from '../../runtime/prisma';
import type { SentMessageQuery } from './email-provider';
import { fromTransportError, ProviderError } from './provider-error';

/**
 * Exactly-once delivery of one outbox row (a `Message`), shared by every channel.
 *
 * The row exists before any provider call, keyed by a business idempotency key, and its
 * status only moves forward (domain/message-status.ts). Every provider call is logged in the
 * row's status_history before it starts ({event: 'call', call: n}) and again when it ends
 * (accepted, rejected = certainly not taken, ambiguous = maybe taken). A call with no ending
 * (the worker died mid-call) or an ambiguous ending is "unresolved".
 *
 * Reconcile rule. A message with an unresolved call (status `unknown`, or found still in
 * `sending` by a later attempt) is never simply sent again. It is first resolved from
 * provider evidence:
 *   - a provider message id on the row, or any MessageEvent row for it (SendGrid's event
 *     webhook carries custom_args.messageId; Twilio's status callback carries ?messageId=),
 *   - or the provider's own lookup (Twilio: the Messages list, matched on to + from + body
 *     created since the first call, skipping message SIDs another row already owns).
 * Evidence found: the message was accepted; it is marked so and not sent again.
 * No evidence yet: the activity fails retryably (retrying when the window ends, or within a
 * minute to look again) until the reconcile window has passed since the unresolved call
 * started. The window is measured from that call, never from the current retry, so retries
 * do not stretch it.
 * No evidence within the window: the message was not accepted, and it is sent once more. If
 * that resend is unresolved as well and again no evidence comes within the window, the
 * message is marked failed rather than sent a third time.
 */

/** One entry of Message.status_history. Entries written before this module carry only status and at. */
export interface HistoryEntry {
  status: string;
  at: string;
  event?: 'call' | 'accepted' | 'rejected' | 'ambiguous' | 'reconciled' | 'reconciling' | 'failed';
  /** Which provider call the entry belongs to (1, 2, ...). */
  call?: number;
  resend?: boolean;
  reason?: string;
}

export interface ProviderCall {
  n: number;
  startedAt: number;
  outcome: 'open' | 'accepted' | 'rejected' | 'ambiguous';
}

/** The provider calls recorded in a status history, in order. */
export function readCalls(history: unknown): ProviderCall[] {
  const calls: ProviderCall[] = [];
  if (!Array.isArray(history)) return calls;
  for (const raw of history as HistoryEntry[]) {
    if (typeof raw !== 'object' || raw === null) continue;
    const at = Date.parse(raw.at);
    // Rows written before call logging had a bare 'sending' entry per call.
    if (raw.event === 'call' || (raw.event === undefined && raw.status === 'sending')) {
      calls.push({ n: raw.call ?? calls.length + 1, startedAt: Number.isNaN(at) ? 0 : at, outcome: 'open' });
      continue;
    }
    const call = raw.call === undefined ? calls.at(-1) : calls.find((candidate) => candidate.n === raw.call);
    if (!call) continue;
    if (raw.event === 'accepted' || raw.event === 'rejected' || raw.event === 'ambiguous') call.outcome = raw.event;
    else if (raw.event === undefined && raw.status === 'accepted') call.outcome = 'accepted';
  }
  return calls;
}

export type NextStep = { kind: 'call'; resend: boolean } | { kind: 'wait'; ms: number } | { kind: 'give_up' };

/**
 * What to do with a message when no provider evidence was found (the pure half of the rule
 * above): call when nothing is unresolved, wait out the window of the latest unresolved
 * call, then resend once; after a second unresolved call, give up.
 */
export function nextStep(calls: ProviderCall[], nowMs: number, windowMs: number): NextStep {
  const unresolved = calls.filter((call) => call.outcome === 'open' || call.outcome === 'ambiguous');
  const latest = unresolved.at(-1);
  if (!latest) return { kind: 'call', resend: false };
  const waited = nowMs - latest.startedAt;
  if (waited < windowMs) return { kind: 'wait', ms: windowMs - waited };
  return unresolved.length === 1 ? { kind: 'call', resend: true } : { kind: 'give_up' };
}

export type DeliveryOutcome =
  | { status: 'accepted' | 'already_sent'; messageId: string }
  | { status: 'failed'; messageId: string; reason: string }
  | { status: 'skipped'; messageId: string; reason: 'suppressed' };

/** The channel-specific half: how to hand a row to its provider. */
export interface Transport {
  provider: string;
  /** Activity type and subject prefix of the timeline entry written when a send fails for good. */
  activityType: 'email' | 'sms';
  label: string;
  send(message: Message): Promise<{ providerMessageId: string }>;
  findAccepted?(query: SentMessageQuery): Promise<string[]>;
}

export interface OutboxDeps {
  prisma: PrismaClient;
  logger: Logger;
  reconcileWindowMs: number;
}

/** A clock-skew allowance between this worker and the provider when matching by time. */
const clockSkewMs = 60_000;
/** Retry at least this often while waiting for evidence, so early evidence ends the wait early. */
const evidencePollMs = 60_000;
/** In-process retries of the write that records an acceptance: a blip must not turn into a reconcile. */
const acceptWriteDelaysMs = [100, 250, 500, 1_000, 2_000, 4_000];

export function createOutbox({ prisma, logger, reconcileWindowMs }: OutboxDeps) {
  /**
   * Appends a history entry and moves the status to `to` when that is forward (otherwise the
   * status stays: a webhook may already have moved it further). With `expect`, only when the
   * row is still exactly as read (status and history length): the claim of a provider call.
   */
  async function record(
    messageId: string,
    to: MessageStatus,
    entry: Omit<HistoryEntry, 'status' | 'at'>,
    extra: { providerMessageId?: string | null; error?: string; expect?: { status: MessageStatus; historyLength: number } } = {},
  ): Promise<boolean> {
    const from = messageStatusOrder.filter((status) => canAdvance(status, to));
    const entryJson = JSON.stringify(entry);
    const expectStatus = extra.expect?.status ?? null;
    const expectLength = extra.expect?.historyLength ?? null;
    const updated = await prisma.$executeRaw`
      UPDATE messages
         SET status = CASE WHEN status::text = ANY(${from}::text[]) THEN ${to}::"MessageStatus" ELSE status END,
             provider_message_id = COALESCE(provider_message_id, ${extra.providerMessageId ?? null}),
             error = COALESCE(${extra.error ?? null}, error),
             status_history = status_history || jsonb_build_array(
               ${entryJson}::jsonb || jsonb_build_object(
                 'status', (CASE WHEN status::text = ANY(${from}::text[]) THEN ${to} ELSE status::text END),
                 'at', now())),
             updated_at = now()
       WHERE id = ${messageId}::uuid
         AND (${expectStatus}::text IS NULL OR status::text = ${expectStatus}::text)
         AND (${expectLength}::int IS NULL OR jsonb_array_length(status_history) = ${expectLength}::int)`;
    return updated === 1;
  }

  /** Marks the message failed for good and puts the reason on the contact's timeline, once. */
  async function fail(message: Message, transport: Transport, reason: string, call?: number): Promise<DeliveryOutcome> {
    const from = messageStatusOrder.filter((status) => canAdvance(status, 'failed'));
    const shortReason = reason.length > 300 ? `${reason.slice(0, 297)}...` : reason;
    await prisma.$transaction(async (tx) => {
      const entry = JSON.stringify({ event: 'failed', reason: shortReason, ...(call ? { call } : {}) });
      const updated = await tx.$executeRaw`
        UPDATE messages
           SET status = 'failed', error = ${shortReason},
               status_history = status_history || jsonb_build_array(${entry}::jsonb || jsonb_build_object('status', 'failed', 'at', now())),
               updated_at = now()
         WHERE id = ${message.id}::uuid AND status::text = ANY(${from}::text[])`;
      // Only the attempt that made the change writes the timeline entry, so a retry adds none.
      if (updated === 1 && message.contactId) {
        await tx.activity.create({
          data: {
            contactId: message.contactId,
            type: transport.activityType,
            subject: `${transport.label} not sent: ${shortReason}`,
            data: { messageId: message.id, provider: transport.provider, reason: shortReason },
          },
        });
      }
    });
    logger.warn({ messageId: message.id, provider: transport.provider, reason: shortReason }, 'message failed');
    const current = await prisma.message.findUniqueOrThrow({ where: { id: message.id } });
    return current.status === 'failed' ? { status: 'failed', messageId: message.id, reason: current.error ?? shortReason } : outcomeOf(current);
  }

  async function findEvidence(message: Message, calls: ProviderCall[], transport: Transport): Promise<{ providerMessageId: string | null; source: string } | null> {
    if (message.providerMessageId) return { providerMessageId: message.providerMessageId, source: 'provider message id' };
    const event = await prisma.messageEvent.findFirst({ where: { messageId: message.id }, orderBy: { occurredAt: 'asc' } });
    if (event) return { providerMessageId: providerIdFromEvent(event.data), source: `provider event ${event.event}` };
    if (!transport.findAccepted) return null;
    const since = new Date(Math.min(...calls.map((call) => call.startedAt)) - clockSkewMs);
    let candidates: string[];
    try {
      candidates = await transport.findAccepted({ messageId: message.id, to: message.toAddress, from: message.fromAddress, body: message.text ?? '', since });
    } catch (error) {
      const failure = error instanceof ProviderError ? error : fromTransportError(transport.provider, error);
      // Without an answer there is no decision either way: look again on the next attempt.
      throw ApplicationFailure.create({ type: 'ReconcileLookupFailed', message: `Could not look up message ${message.id}: ${failure.reason}`, nonRetryable: false, ...(failure.retryAfterMs ? { nextRetryDelay: failure.retryAfterMs } : {}) });
    }
    for (const candidate of candidates) {
      const owner = await prisma.message.findFirst({ where: { providerMessageId: candidate, id: { not: message.id } }, select: { id: true } });
      if (!owner) return { providerMessageId: candidate, source: 'provider lookup' };
    }
    return null;
  }

  async function recordAccepted(messageId: string, call: number, providerMessageId: string): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await record(messageId, 'accepted', { event: 'accepted', call }, { providerMessageId });
        return;
      } catch (error) {
        const delay = acceptWriteDelaysMs[attempt];
        if (delay === undefined) throw error;
        logger.warn({ messageId, err: error }, 'recording an accepted message failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  return {
    /**
     * Sends the message unless it was sent already; never twice. Returns the outcome, or
     * throws a retryable ApplicationFailure when the outcome is not known yet.
     */
    async deliver(messageId: string, transport: Transport): Promise<DeliveryOutcome> {
      // A few rounds only for losing the claim to a concurrent attempt (a zombie of a timed-out one).
      for (let round = 0; round < 3; round += 1) {
        const message = await prisma.message.findUniqueOrThrow({ where: { id: messageId } });
        const status = message.status as MessageStatus;
        if (isAcceptedOrLater(status) || status === 'failed' || status === 'skipped') return outcomeOf(message);
        if (message.provider !== transport.provider) {
          // A row written under another provider configuration must be reconciled by that provider.
          throw ApplicationFailure.nonRetryable(
            `Message ${message.id} was created for provider ${message.provider} but this worker sends with ${transport.provider}`,
            'ProviderMismatch',
          );
        }
        const history = Array.isArray(message.statusHistory) ? message.statusHistory : [];
        const calls = readCalls(history);
        let resend = false;
        if (calls.some((call) => call.outcome === 'open' || call.outcome === 'ambiguous')) {
          const evidence = await findEvidence(message, calls, transport);
          if (evidence) {
            await record(message.id, 'accepted', { event: 'reconciled', reason: evidence.source }, { providerMessageId: evidence.providerMessageId });
            logger.info({ messageId, provider: transport.provider, source: evidence.source }, 'unresolved send reconciled as accepted');
            return { status: 'accepted', messageId };
          }
          const [{ now }] = await prisma.$queryRaw<[{ now: Date }]>`SELECT now() AS now`;
          const step = nextStep(calls, now.getTime(), reconcileWindowMs);
          if (step.kind === 'wait') {
            if (status === 'sending') {
              await record(message.id, 'unknown', { event: 'reconciling', reason: 'a previous attempt ended mid-call' });
            }
            throw ApplicationFailure.create({
              type: 'MessageOutcomeUnknown',
              message: `Message ${messageId}: no provider evidence yet; resend allowed in ${Math.ceil(step.ms / 1000)} s`,
              nonRetryable: false,
              nextRetryDelay: Math.max(1_000, Math.min(step.ms, evidencePollMs)),
            });
          }
          if (step.kind === 'give_up') {
            return fail(message, transport, 'the provider confirmed neither the send nor its one resend');
          }
          resend = true;
        }

        const n = (calls.at(-1)?.n ?? 0) + 1;
        const target: MessageStatus = status === 'pending' ? 'sending' : status;
        const claimed = await record(message.id, target, { event: 'call', call: n, ...(resend ? { resend: true } : {}) }, { expect: { status, historyLength: history.length } });
        if (!claimed) continue;

        let providerMessageId: string;
        try {
          ({ providerMessageId } = await transport.send(message));
        } catch (error) {
          const failure = error instanceof ProviderError ? error : fromTransportError(transport.provider, error);
          if (failure.ambiguous) {
            await record(message.id, 'unknown', { event: 'ambiguous', call: n, reason: failure.reason });
            logger.warn({ messageId, provider: transport.provider, call: n, reason: failure.reason }, 'send outcome unknown; will reconcile');
            throw ApplicationFailure.create({ type: 'ProviderOutcomeUnknown', message: failure.message, nonRetryable: false });
          }
          if (failure.retryable) {
            await record(message.id, target, { event: 'rejected', call: n, reason: failure.reason });
            throw ApplicationFailure.create({
              type: failure.status === 429 ? 'ProviderRateLimited' : 'ProviderUnavailable',
              message: failure.message,
              nonRetryable: false,
              ...(failure.retryAfterMs !== undefined ? { nextRetryDelay: Math.max(1, failure.retryAfterMs) } : {}),
            });
          }
          return fail(message, transport, failure.reason, n);
        }
        await recordAccepted(message.id, n, providerMessageId);
        return { status: 'accepted', messageId };
      }
      throw ApplicationFailure.create({ type: 'MessageBusy', message: `Message ${messageId} is being changed by another attempt`, nonRetryable: false });
    },
  };
}

function outcomeOf(message: Message): DeliveryOutcome {
  if (message.status === 'failed') return { status: 'failed', messageId: message.id, reason: message.error ?? 'failed' };
  if (message.status === 'skipped') return { status: 'skipped', messageId: message.id, reason: 'suppressed' };
  if (isMessageStatus(message.status) && isAcceptedOrLater(message.status)) return { status: 'already_sent', messageId: message.id };
  throw new Error(`Message ${message.id} is still ${message.status}`);
}

/** The provider's id as webhooks report it (SendGrid sg_message_id starts with X-Message-Id). */
function providerIdFromEvent(data: unknown): string | null {
  if (typeof data !== 'object' || data === null) return null;
  const fields = data as Record<string, unknown>;
  if (typeof fields.sg_message_id === 'string' && fields.sg_message_id) return fields.sg_message_id.split('.')[0] ?? null;
  for (const key of ['MessageSid', 'SmsSid', 'providerMessageId']) {
    if (typeof fields[key] === 'string' && fields[key]) return fields[key];
  }
  return null;
}
