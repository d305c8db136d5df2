import { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from './deps';

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
  | { status: 'skipped'; reason: 'no_email_address' | 'no_consent' | 'contact_deleted' };

const finalStatuses = new Set(['accepted', 'delivered', 'opened', 'clicked', 'bounced', 'failed', 'suppressed', 'unknown']);

/**
 * The outbox send: a Message row exists before the provider is called, keyed by the business
 * idempotency key, so a retried or replayed activity finds the row and never sends twice.
 */
export function createEmailSendingActivities(deps: ActivityDeps) {
  const { prisma, templates, emailProvider, emailFrom } = deps;

  async function appendStatus(messageId: string, status: 'sending' | 'accepted', providerMessageId?: string): Promise<void> {
    const entry = JSON.stringify([{ status, at: new Date().toISOString() }]);
    await prisma.$executeRaw`
      UPDATE messages
         SET status = ${status}::"MessageStatus",
             provider_message_id = COALESCE(${providerMessageId ?? null}, provider_message_id),
             status_history = status_history || ${entry}::jsonb,
             updated_at = now()
       WHERE id = ${messageId}::uuid`;
  }

  return {
    async sendTemplatedEmail(request: TemplatedEmailRequest): Promise<EmailSendOutcome> {
      let message = await prisma.message.findUnique({ where: { idempotencyKey: request.idempotencyKey } });
      if (message && finalStatuses.has(message.status)) return { status: 'already_sent', messageId: message.id };

      if (!message) {
        const contact = await prisma.contact.findUnique({
          where: { id: request.contactId },
          include: { emails: { orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }] }, owner: true, consents: true },
        });
        if (!contact || contact.deletedAt) return { status: 'skipped', reason: 'contact_deleted' };
        const to = contact.emails.find((email) => email.status === 'valid');
        if (!to) return { status: 'skipped', reason: 'no_email_address' };
        const emailConsent = contact.consents.find((consent) => consent.channel === 'email');
        if (!request.transactional && emailConsent?.status !== 'granted') return { status: 'skipped', reason: 'no_consent' };
        if (emailConsent?.status === 'revoked') return { status: 'skipped', reason: 'no_consent' };

        const rendered = await templates.renderEmail(request.templateKey, {
          contact: { firstName: contact.firstName, lastName: contact.lastName, email: to.address },
          owner: contact.owner ? { name: contact.owner.name, email: contact.owner.email } : null,
          sender: { company: emailFrom.name },
        });
        const headers = { 'X-Touchpoint-Message-Key': request.idempotencyKey };
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
        if (finalStatuses.has(message.status)) return { status: 'already_sent', messageId: message.id };
      }

      if (message.provider !== emailProvider.name) {
        // A row written under another provider configuration must be reconciled by that provider.
        throw ApplicationFailure.nonRetryable(
          `Message ${message.id} was created for provider ${message.provider} but this worker sends with ${emailProvider.name}`,
          'ProviderMismatch',
        );
      }
      await appendStatus(message.id, 'sending');
      const { providerMessageId } = await emailProvider.send({
        messageId: message.id,
        to: message.toAddress,
        from: { address: message.fromAddress, name: emailFrom.name },
        subject: message.subject ?? '',
        html: message.html ?? '',
        text: message.text ?? '',
        headers: message.headers as Record<string, string>,
      });
      await appendStatus(message.id, 'accepted', providerMessageId);
      return { status: 'accepted', messageId: message.id };
    },
  };
}
