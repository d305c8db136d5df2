import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../runtime/prisma';
import type { MessageStatus } from '../../domain/message-status';

/**
 * A contact with one email that SendGrid already took, as the webhook tests need it. The
 * address is unique per call; the provider id is X-Message-Id shaped unless given (null: none).
 */
export async function contactWithSentEmail(
  prisma: PrismaClient,
  options: { addressPrefix: string; firstName: string; subject: string; status: MessageStatus; providerMessageId?: string | null },
) {
  const address = `${options.addressPrefix}-${randomUUID().slice(0, 8)}@example.com`;
  const contact = await prisma.contact.create({ data: { firstName: options.firstName, emails: { create: { address, isPrimary: true } } } });
  const generatedId = `XMSG${randomUUID().replaceAll('-', '').slice(0, 18)}`;
  const providerMessageId = options.providerMessageId === undefined ? generatedId : options.providerMessageId;
  const message = await prisma.message.create({
    data: {
      idempotencyKey: `test:${randomUUID()}`,
      contactId: contact.id,
      channel: 'email',
      toAddress: address,
      fromAddress: 'hello@touchpoint.local',
      subject: options.subject,
      provider: 'sendgrid',
      providerMessageId,
      status: options.status,
      statusHistory: [{ status: options.status, at: new Date().toISOString() }],
    },
  });
  return { contact, message, address, providerMessageId, generatedId };
}
