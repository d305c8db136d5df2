import { contactTemplateVariables } from '../domain/template-variables';
import type { ActivityDeps } from './deps';
import { decideSendPolicy } from './send-policy';
import { CaptureSmsProvider } from './providers/capture-sms';
import { defaultReconcileWindowMs, type MessagingDeps, type SmsProvider } from './providers';
import { createOutbox, type Transport } from './providers/outbox';

export interface TemplatedSmsRequest {
  /** Business key of this send (e.g. `enrollment:{seq}:{contact}:step:3`), never the attempt id. */
  idempotencyKey: string;
  contactId: string;
  /** templates/sms/<key>.hbs */
  templateKey: string;
  /** Transactional SMS (an answer to the contact's own request) needs no marketing consent. */
  transactional: boolean;
}

export type SmsSendOutcome =
  | { status: 'accepted' | 'already_sent'; messageId: string }
  /** The provider refused it for good (e.g. Twilio 21211 invalid number, 21610 unsubscribed). */
  | { status: 'failed'; messageId: string; reason: string }
  | { status: 'skipped'; reason: 'no_phone_number' | 'no_consent' | 'contact_deleted' | 'suppressed' | 'frequency_cap' }
  /** Not now (quiet hours, frequency cap): the caller waits on a durable timer until `until`. */
  | { status: 'deferred'; until: string; reason: 'quiet_hours' | 'frequency_cap' };

/**
 * SMS through the same outbox as email (see email-sending.ts): the Message row first, keyed by
 * the business key, then exactly one accepted provider call.
 */
export function createSmsSendingActivities(deps: ActivityDeps & MessagingDeps) {
  const { prisma, logger, templates } = deps;
  // Capture until Twilio is configured, as for email; callers that predate SMS pass none.
  const smsProvider: SmsProvider = deps.smsProvider ?? new CaptureSmsProvider('capture');
  const outbox = createOutbox({ prisma, logger, reconcileWindowMs: deps.reconcileWindowMs ?? defaultReconcileWindowMs });
  const transport: Transport = {
    provider: smsProvider.name,
    activityType: 'sms',
    label: 'SMS',
    send: (message) => smsProvider.send({ messageId: message.id, to: message.toAddress, body: message.text ?? '' }),
    ...(smsProvider.findAccepted ? { findAccepted: smsProvider.findAccepted.bind(smsProvider) } : {}),
  };

  return {
    async sendTemplatedSms(request: TemplatedSmsRequest): Promise<SmsSendOutcome> {
      let message = await prisma.message.findUnique({ where: { idempotencyKey: request.idempotencyKey } });

      if (!message) {
        const contact = await prisma.contact.findUnique({
          where: { id: request.contactId },
          include: { phones: { orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }] }, emails: true, owner: true, consents: true },
        });
        if (!contact || contact.deletedAt) return { status: 'skipped', reason: 'contact_deleted' };
        const to = contact.phones.find((phone) => phone.status === 'valid');
        if (!to) return { status: 'skipped', reason: 'no_phone_number' };
        const smsConsent = contact.consents.find((consent) => consent.channel === 'sms');
        // Marketing SMS needs an explicit grant; a revocation (STOP) blocks even transactional ones.
        if (!request.transactional && smsConsent?.status !== 'granted') return { status: 'skipped', reason: 'no_consent' };
        if (smsConsent?.status === 'revoked') return { status: 'skipped', reason: 'no_consent' };

        if (deps.sendPolicy) {
          const decision = await decideSendPolicy(prisma, deps.sendPolicy, { contactId: contact.id, channel: 'sms', transactional: request.transactional, timeZone: contact.timeZone });
          if (!decision.send && 'skip' in decision) return { status: 'skipped', reason: decision.skip };
          if (!decision.send) return { status: 'deferred', until: decision.deferUntil.toISOString(), reason: decision.reason };
        }

        const variables = contactTemplateVariables(contact);
        const rendered = await templates.renderSms(request.templateKey, { contact: { ...variables.contact, phone: to.e164 }, owner: variables.owner });
        await prisma.message.createMany({
          data: [
            {
              idempotencyKey: request.idempotencyKey,
              contactId: contact.id,
              channel: 'sms',
              templateKey: request.templateKey,
              transactional: request.transactional,
              toAddress: to.e164,
              fromAddress: smsProvider.from,
              text: rendered.text,
              provider: smsProvider.name,
              statusHistory: [{ status: 'pending', at: new Date().toISOString() }],
            },
          ],
          skipDuplicates: true,
        });
        message = await prisma.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } });
      }

      const outcome = await outbox.deliver(message.id, transport);
      return outcome.status === 'skipped' ? { status: 'skipped', reason: outcome.reason } : outcome;
    },
  };
}
