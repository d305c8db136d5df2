import type { ActivityDeps } from './deps';

export interface EmailBounceRequest {
  contactId: string;
  address: string;
  /** hard: the address does not exist or refuses us for good; soft: a temporary failure or block. */
  kind: 'hard' | 'soft';
  messageId: string | null;
  reason: string | null;
  /** The webhook's InboundEvent id: the same bounce is recorded once, however often it is retried. */
  eventId: string;
  occurredAt: string;
}

export type EmailBounceOutcome =
  | { outcome: 'soft_counted'; softBouncesIn30Days: number }
  | { outcome: 'hard_bounced'; promotedAddress: string | null; taskId: string | null }
  | { outcome: 'already_bounced' | 'unknown_address' };

/** Three soft bounces within this window count as a hard one. */
const softBounceWindowMs = 30 * 24 * 60 * 60 * 1000;
const softBouncesThatCountAsHard = 3;

/**
 * What a bounce means for the contact, in one transaction: the address is marked bounced (so
 * no marketing reaches it), a secondary valid address becomes primary, the owner gets a
 * "fix email address" task with the reason, and the timeline shows it. Idempotent by eventId.
 */
export function createEmailBounceActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    async applyEmailBounce(request: EmailBounceRequest): Promise<EmailBounceOutcome> {
      return prisma.$transaction(async (tx) => {
        const email = await tx.contactEmail.findUnique({ where: { address: request.address } });
        if (!email || email.contactId !== request.contactId) return { outcome: 'unknown_address' };
        await tx.$queryRaw`SELECT id FROM contact_emails WHERE id = ${email.id}::uuid FOR UPDATE`;

        const alreadyRecorded = await tx.emailBounce.findUnique({ where: { id: request.eventId } });
        const at = new Date(request.occurredAt);
        if (!alreadyRecorded) {
          await tx.emailBounce.create({
            data: { id: request.eventId, address: request.address, contactId: request.contactId, messageId: request.messageId, kind: request.kind, reason: request.reason, at },
          });
        }
        if (email.status === 'bounced') return { outcome: 'already_bounced' };

        if (request.kind === 'soft') {
          const softBouncesIn30Days = await tx.emailBounce.count({
            where: { address: request.address, kind: 'soft', at: { gte: new Date(at.getTime() - softBounceWindowMs) } },
          });
          if (softBouncesIn30Days < softBouncesThatCountAsHard) return { outcome: 'soft_counted', softBouncesIn30Days };
        }

        const reason = request.reason ?? (request.kind === 'soft' ? `${softBouncesThatCountAsHard} soft bounces within 30 days` : 'hard bounce');
        await tx.contactEmail.update({ where: { id: email.id }, data: { status: 'bounced', isPrimary: false, bounceReason: reason } });
        let promotedAddress: string | null = null;
        if (email.isPrimary) {
          const secondary = await tx.contactEmail.findFirst({
            where: { contactId: request.contactId, status: 'valid', id: { not: email.id } },
            orderBy: { createdAt: 'asc' },
          });
          if (secondary) {
            await tx.contactEmail.update({ where: { id: secondary.id }, data: { isPrimary: true } });
            promotedAddress = secondary.address;
          }
        }

        const contact = await tx.contact.findUniqueOrThrow({ where: { id: request.contactId }, select: { ownerId: true } });
        // Someone must fix it: the owner, or else whoever runs sales operations.
        const assignee = contact.ownerId
          ? { id: contact.ownerId }
          : await tx.user.findFirst({ where: { active: true, role: { in: ['sales_ops', 'admin'] } }, orderBy: { createdAt: 'asc' }, select: { id: true } });
        let taskId: string | null = null;
        if (assignee) {
          const task = await tx.task.create({
            data: {
              type: 'fix_data',
              title: `Fix email address ${request.address}`,
              description: `Email to ${request.address} bounced: ${reason}.${promotedAddress ? ` ${promotedAddress} is now the primary address.` : ' The contact has no other valid email address.'}`,
              dueAt: new Date(Date.now() + 24 * 60 * 60 * 1000),
              priority: promotedAddress ? 'normal' : 'high',
              assigneeId: assignee.id,
              contactId: request.contactId,
              sourceType: 'workflow',
              sourceRef: `contact:${request.contactId}`,
              sourceKey: `contact:${request.contactId}:fix-email:${request.eventId}`,
            },
          });
          taskId = task.id;
        }
        await tx.activity.create({
          data: {
            contactId: request.contactId,
            type: 'email',
            occurredAt: at,
            subject: `Email address ${request.address} bounced`,
            data: { bounce: request.kind, reason, messageId: request.messageId, promotedAddress },
          },
        });
        await tx.auditLog.create({
          data: {
            actorType: 'workflow',
            actorId: `contact:${request.contactId}`,
            action: 'contact.email_bounced',
            entityType: 'contact',
            entityId: request.contactId,
            before: { address: request.address, status: email.status, isPrimary: email.isPrimary },
            after: { address: request.address, status: 'bounced', promotedAddress },
          },
        });
        return { outcome: 'hard_bounced', promotedAddress, taskId };
      });
    },
  };
}
