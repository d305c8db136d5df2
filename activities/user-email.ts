import type { ActivityDeps } from './deps';
import { dealEmailContext, loadDealContext } from './deal-context';
import { emailTransport } from './email-sending';
import { defaultReconcileWindowMs, type MessagingDeps } from './providers';
import { createOutbox, type DeliveryOutcome } from './providers/outbox';

export interface DealNotificationRequest {
  /** Business key of the step (`trigger:{triggerId}:{stageChangeId}:{i}`, `deal:{id}:idle:...:notify`). */
  idempotencyKey: string;
  /** The team member it goes to (the deal's owner, or a manager). */
  userId: string;
  dealId: string;
  templateKey: string;
  /** Shown as `deal.idleDays` in idle-deal notifications. */
  idleDays?: number;
}

export type DealNotificationOutcome = DeliveryOutcome | { status: 'skipped'; reason: 'user_inactive' | 'deal_deleted' };

/**
 * Emails to the team about a deal (owner notifications of triggers, the idle-deal ladder). They
 * go to a user's address, not a contact's, so contact consent does not apply; they are always
 * transactional and go through the same outbox as every other email, keyed by the business
 * key, so a retried or replayed step never sends twice. The row has no contact: it is not part
 * of any contact's timeline.
 */
export function createUserEmailActivities(deps: ActivityDeps & MessagingDeps) {
  const { prisma, logger, templates, emailFrom } = deps;
  const transport = emailTransport(deps);
  const outbox = createOutbox({ prisma, logger, reconcileWindowMs: deps.reconcileWindowMs ?? defaultReconcileWindowMs });

  return {
    async sendDealNotification(request: DealNotificationRequest): Promise<DealNotificationOutcome> {
      let message = await prisma.message.findUnique({ where: { idempotencyKey: request.idempotencyKey }, select: { id: true } });
      if (!message) {
        const [user, deal] = await Promise.all([
          prisma.user.findUnique({ where: { id: request.userId }, select: { email: true, active: true } }),
          loadDealContext(prisma, request.dealId),
        ]);
        if (!user?.active) return { status: 'skipped', reason: 'user_inactive' };
        if (!deal) return { status: 'skipped', reason: 'deal_deleted' };
        const rendered = await templates.renderEmail(request.templateKey, {
          ...dealEmailContext(deal, request.idleDays === undefined ? {} : { idleDays: request.idleDays }),
          sender: { company: emailFrom.name },
        });
        await prisma.message.createMany({
          data: [
            {
              idempotencyKey: request.idempotencyKey,
              contactId: null,
              channel: 'email',
              templateKey: request.templateKey,
              transactional: true,
              toAddress: user.email,
              fromAddress: emailFrom.address,
              subject: rendered.subject,
              html: rendered.html,
              text: rendered.text,
              headers: { 'X-Touchpoint-Message-Key': request.idempotencyKey },
              provider: transport.provider,
              statusHistory: [{ status: 'pending', at: new Date().toISOString() }],
            },
          ],
          // A concurrent attempt may have written it: the key decides, and the outbox sends once.
          skipDuplicates: true,
        });
        message = await prisma.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey }, select: { id: true } });
      }
      return outbox.deliver(message.id, transport);
    },
  };
}
