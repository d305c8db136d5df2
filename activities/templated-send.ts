import type { Prisma } from '../runtime/prisma';
import type { DealTemplateVariables } from '../domain/schemas/template';
import { contactTemplateVariables } from '../domain/template-variables';
import type { ActivityDeps } from './deps';
import { defaultReconcileWindowMs, type MessagingDeps } from './providers';
import { createOutbox, type Transport } from './providers/outbox';
import { decideSendPolicy } from './send-policy';

export interface TemplatedSendRequest {
  /** Business key of this send (e.g. `contact:{id}:welcome`), never the attempt or activity id. */
  idempotencyKey: string;
  contactId: string;
  /** templates/email/<key>.* or templates/sms/<key>.hbs */
  templateKey: string;
  /** A stored template's version to render (a sequence version pins them); absent: the current one. */
  templateVersion?: number;
  /** The deal the message is about (stage-move triggers): its `deal` template variables. Email only. */
  deal?: DealTemplateVariables | null;
  /**
   * Transactional messages answer something the contact asked for (the welcome after their own
   * form submission, a rep's reply): they need no marketing consent and are never held back.
   * A revocation (unsubscribe, STOP) blocks them all the same.
   */
  transactional: boolean;
}

export type TemplatedSendOutcome<NoAddress extends string> =
  | { status: 'accepted' | 'already_sent'; messageId: string }
  /** The provider refused the message for good (a 4xx other than 429); `reason` is the provider's. */
  | { status: 'failed'; messageId: string; reason: string }
  | { status: 'skipped'; reason: NoAddress | 'no_consent' | 'contact_deleted' | 'suppressed' | 'frequency_cap' }
  /** Not now (quiet hours, frequency cap): the caller waits on a durable timer until `until` and asks again with the same key. */
  | { status: 'deferred'; until: string; reason: 'quiet_hours' | 'frequency_cap' };

const contactForSend = {
  emails: { orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }] },
  phones: { orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }] },
  owner: true,
  consents: true,
} satisfies Prisma.ContactInclude;

export type ContactForSend = Prisma.ContactGetPayload<{ include: typeof contactForSend }>;

/** What a channel writes into its Message row, besides what every row has. */
export interface ComposedMessage {
  fromAddress: string;
  subject?: string;
  html?: string;
  text: string;
  headers?: Record<string, string>;
}

/** The channel-specific half of a templated send; the rest is the same for every channel. */
export interface ChannelSpec<NoAddress extends string> {
  channel: 'email' | 'sms';
  transport: Transport;
  noAddress: NoAddress;
  /** The contact's first valid address on this channel. */
  addressOf(contact: ContactForSend): string | undefined;
  compose(input: { request: TemplatedSendRequest; contact: ContactForSend; to: string; variables: ReturnType<typeof contactTemplateVariables> }): Promise<ComposedMessage>;
}

/**
 * The outbox send for any channel: consent and send policy first, then a Message row keyed by
 * the business idempotency key, then the provider call through the outbox, which makes a
 * retried or replayed activity find the row and never send twice (providers/outbox.ts).
 */
export function createTemplatedSender<NoAddress extends string>(deps: ActivityDeps & MessagingDeps, spec: ChannelSpec<NoAddress>) {
  const { prisma, logger } = deps;
  const outbox = createOutbox({ prisma, logger, reconcileWindowMs: deps.reconcileWindowMs ?? defaultReconcileWindowMs });

  return async (request: TemplatedSendRequest): Promise<TemplatedSendOutcome<NoAddress>> => {
    let message = await prisma.message.findUnique({ where: { idempotencyKey: request.idempotencyKey } });

    if (!message) {
      const contact = await prisma.contact.findUnique({ where: { id: request.contactId }, include: contactForSend });
      if (!contact || contact.deletedAt) return { status: 'skipped', reason: 'contact_deleted' };
      const to = spec.addressOf(contact);
      if (!to) return { status: 'skipped', reason: spec.noAddress };
      const consent = contact.consents.find((entry) => entry.channel === spec.channel);
      if (!request.transactional && consent?.status !== 'granted') return { status: 'skipped', reason: 'no_consent' };
      if (consent?.status === 'revoked') return { status: 'skipped', reason: 'no_consent' };

      if (deps.sendPolicy) {
        const decision = await decideSendPolicy(prisma, deps.sendPolicy, { contactId: contact.id, channel: spec.channel, transactional: request.transactional, timeZone: contact.timeZone });
        if (!decision.send && 'skip' in decision) return { status: 'skipped', reason: decision.skip };
        if (!decision.send) return { status: 'deferred', until: decision.deferUntil.toISOString(), reason: decision.reason };
      }

      const composed = await spec.compose({ request, contact, to, variables: contactTemplateVariables(contact) });
      // skipDuplicates: a concurrent attempt may have inserted the row; the key decides, not us.
      await prisma.message.createMany({
        data: [
          {
            idempotencyKey: request.idempotencyKey,
            contactId: contact.id,
            channel: spec.channel,
            templateKey: request.templateKey,
            transactional: request.transactional,
            toAddress: to,
            provider: spec.transport.provider,
            statusHistory: [{ status: 'pending', at: new Date().toISOString() }],
            ...composed,
          },
        ],
        skipDuplicates: true,
      });
      message = await prisma.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } });
    }

    const outcome = await outbox.deliver(message.id, spec.transport);
    return outcome.status === 'skipped' ? { status: 'skipped', reason: outcome.reason } : outcome;
  };
}
