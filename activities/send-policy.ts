import { frequencyCapDecision, frequencyCapWindowMs } from '../domain/frequency-cap';
import { nextSendTime, type QuietHours } from '../domain/quiet-hours';
import type { PrismaClient } from '../runtime/prisma';

/** Limits on marketing sends that move or drop a message rather than fail it. */
export interface SendPolicy {
  /** Marketing SMS only go out outside these local hours; null turns quiet hours off. */
  smsQuietHours: QuietHours | null;
  /** Most marketing messages per contact in a rolling 7 days (all channels); 0 is off. */
  frequencyCap: number;
  frequencyCapPolicy: 'defer' | 'skip';
  /** Zone used when the contact has none. */
  fallbackTimeZone: string;
}

export type PolicyDecision =
  | { send: true }
  | { send: false; deferUntil: Date; reason: 'quiet_hours' | 'frequency_cap' }
  | { send: false; skip: 'frequency_cap' };

/** Message states that count against the cap: sent or on the way, not refused or skipped. */
const countedStatuses = ['sending', 'unknown', 'accepted', 'queued', 'sent', 'deferred', 'delivered', 'opened', 'clicked'] as const;

/**
 * Decides, before a marketing message is written, whether it goes now, later (the workflow
 * waits on a durable timer until `deferUntil`), or not at all. Transactional messages (a
 * welcome the contact asked for, a rep's notice) are never held back.
 */
export async function decideSendPolicy(
  prisma: PrismaClient,
  policy: SendPolicy,
  request: { contactId: string; channel: 'email' | 'sms'; transactional: boolean; timeZone: string | null },
  now = new Date(),
): Promise<PolicyDecision> {
  if (request.transactional) return { send: true };
  if (request.channel === 'sms' && policy.smsQuietHours) {
    const opens = nextSendTime(now, request.timeZone, policy.smsQuietHours, policy.fallbackTimeZone);
    if (opens.getTime() > now.getTime()) return { send: false, deferUntil: opens, reason: 'quiet_hours' };
  }
  if (policy.frequencyCap > 0) {
    const recent = await prisma.message.findMany({
      where: {
        contactId: request.contactId,
        transactional: false,
        status: { in: [...countedStatuses] },
        createdAt: { gt: new Date(now.getTime() - frequencyCapWindowMs) },
      },
      select: { createdAt: true },
    });
    const decision = frequencyCapDecision(recent.map((message) => message.createdAt), now, policy.frequencyCap);
    if (!decision.allowed) {
      return policy.frequencyCapPolicy === 'skip'
        ? { send: false, skip: 'frequency_cap' }
        : { send: false, deferUntil: decision.nextAllowedAt, reason: 'frequency_cap' };
    }
  }
  return { send: true };
}
