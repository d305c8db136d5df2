import { ApplicationFailure } from '@temporalio/common';
import { contactTemplateVariables } from '../domain/template-variables';
import { listUnsubscribeHeaders, unsubscribeLinks } from '../domain/unsubscribe-token';
import type { ActivityDeps } from './deps';
import { decideSendPolicy } from './send-policy';
import { defaultReconcileWindowMs, type MessagingDeps } from './providers';
import { createOutbox, type Transport } from './providers/outbox';

export interface TemplatedEmailRequest {
  /** Business key of this send (e.g. `contact:{id}:welcome`), never the attempt or activity id. */
  idempotencyKey: string;
  contactId: string;
  templateKey: string;
  /**
   * Transactional mail answers something the contact asked for (the welcome after their own
   * form submission, a rep's reply); it does not need marketing consent.
   */
  transactional: boolean;
}

export type EmailSendOutcome =
  | { status: 'accepted' | 'already_sent'; messageId: string }
  /** The provider refused the message for good (a 4xx other than 429); `reason` is the provider's. */
  | { status: 'failed'; messageId: string; reason: string }
  | { status: 'skipped'; reason: 'no_email_address' | 'no_consent' | 'contact_deleted' | 'suppressed' | 'frequency_cap' }
  /** Not now: the caller waits (a durable timer) until `until` and asks again with the same key. */
  | { status: 'deferred'; until: string; reason: 'frequency_cap' };

/**
 * The outbox send: a Message row exists before the provider is called, keyed by the business
 * idempotency key, so a retried or replayed activity finds the row and never sends twice.
 * The provider call and its reconciliation are the outbox's (providers/outbox.ts).
 */
export function createEmailSendingActivities(deps: ActivityDeps & MessagingDeps) {
  const { prisma, logger, templates, emailProvider, emailFrom } = deps;
  const outbox = createOutbox({ prisma, logger, reconcileWindowMs: deps.reconcileWindowMs ?? defaultReconcileWindowMs });
  const transport: Transport = {
    provider: emailProvider.name,
    activityType: 'email',
    label: 'Email',
    send: (message) =>
      emailProvider.send({
        messageId: message.id,
        contactId: message.contactId,
        templateKey: message.templateKey,
        to: message.toAddress,
        from: { address: message.fromAddress, name: emailFrom.name },
        subject: message.subject ?? '',
        html: message.html ?? '',
        text: message.text ?? '',
        headers: message.headers as Record<string, string>,
      }),
    ...(emailProvider.findAccepted ? { findAccepted: emailProvider.findAccepted.bind(emailProvider) } : {}),
  };

  return {
    async sendTemplatedEmail(request: TemplatedEmailRequest): Promise<EmailSendOutcome> {
      let message = await prisma.message.findUnique({ where: { idempotencyKey: request.idempotencyKey } });

      if (!message) {
        const contact = await prisma.contact.findUnique({
          where: { id: request.contactId },
          include: { emails: { orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }] }, phones: true, owner: true, consents: true },
        });
        if (!contact || contact.deletedAt) return { status: 'skipped', reason: 'contact_deleted' };
        const to = contact.emails.find((email) => email.status === 'valid');
        if (!to) return { status: 'skipped', reason: 'no_email_address' };
        const emailConsent = contact.consents.find((consent) => consent.channel === 'email');
        if (!request.transactional && emailConsent?.status !== 'granted') return { status: 'skipped', reason: 'no_consent' };
        if (emailConsent?.status === 'revoked') return { status: 'skipped', reason: 'no_consent' };

        if (deps.sendPolicy) {
          const decision = await decideSendPolicy(prisma, deps.sendPolicy, { contactId: contact.id, channel: 'email', transactional: request.transactional, timeZone: contact.timeZone });
          if (!decision.send && 'skip' in decision) return { status: 'skipped', reason: decision.skip };
          if (!decision.send) return { status: 'deferred', until: decision.deferUntil.toISOString(), reason: 'frequency_cap' };
        }

        const variables = contactTemplateVariables(contact);
        const headers: Record<string, string> = { 'X-Touchpoint-Message-Key': request.idempotencyKey };
        let links: { unsubscribe: string } | null = null;
        if (!request.transactional) {
          // Marketing email without a working unsubscribe link is not allowed to leave at all.
          if (!deps.unsubscribe?.UNSUBSCRIBE_SECRET) {
            throw ApplicationFailure.nonRetryable('Marketing email needs UNSUBSCRIBE_SECRET for its unsubscribe link', 'UnsubscribeNotConfigured');
          }
          links = { unsubscribe: unsubscribeLinks(deps.unsubscribe, contact.id, 'email').url };
          Object.assign(headers, listUnsubscribeHeaders(deps.unsubscribe, contact.id));
        }
        const rendered = await templates.renderEmail(request.templateKey, {
          contact: { ...variables.contact, email: to.address },
          owner: variables.owner,
          sender: { company: emailFrom.name },
          ...(links ? { links } : {}),
        });
        // skipDuplicates: a concurrent attempt may have inserted the row; the key decides, not us.
        await prisma.message.createMany({
          data: [
            {
              idempotencyKey: request.idempotencyKey,
              contactId: contact.id,
              channel: 'email',
              templateKey: request.templateKey,
              transactional: request.transactional,
              toAddress: to.address,
              fromAddress: emailFrom.address,
              subject: rendered.subject,
              html: rendered.html,
              text: rendered.text,
              headers,
              provider: emailProvider.name,
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
