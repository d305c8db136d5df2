import { DateTime, Duration } from 'luxon';
import type { SequenceSettings, WeeklyWindow } from '../domain/schemas/sequence';
import { localZone, nextMomentInWindow, spreadOffset, startOfDay, startOfNextDay } from '../domain/send-window';
import type { ActivityDeps } from './deps';

/**
 * When an enrollment's steps may happen: the end of a wait, and whether a send may go now or
 * must wait for the send window or the next day's limits. Times come from the `now` the
 * workflow passes (its deterministic clock), and all time-zone arithmetic stays here, out of
 * workflow code.
 */

type SendWindow = SequenceSettings['sendWindow'];

export interface SendSlotRequest {
  enrollmentId: string;
  sequenceId: string;
  contactId: string;
  now: string;
  sendWindow: SendWindow;
  limits: SequenceSettings['limits'];
}

/** Send now (`until` null) or not before `until`. */
export type SendSlot = { until: null } | { until: string; reason: 'send_window' | 'daily_limit' | 'sender_daily_limit' };

export interface WaitRequest {
  enrollmentId: string;
  contactId: string;
  now: string;
  duration?: string | undefined;
  until?: WeeklyWindow | undefined;
  sendWindow: SendWindow;
}

/** The send window's own default, for waits of a sequence that has no send window. */
const defaultSpreadMinutes = 30;

export function createSequenceTimingActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    /**
     * Whether a send may go now: inside the sequence's send window in the contact's zone, and
     * under its daily limits. Limits count the day's `sent` steps of the sequence, so sends
     * that run at the same moment may pass one limit together by the few in flight.
     */
    async sendSlot(request: SendSlotRequest): Promise<SendSlot> {
      const now = new Date(request.now);
      const contact = await prisma.contact.findUnique({ where: { id: request.contactId }, select: { timeZone: true, ownerId: true } });
      const window = request.sendWindow;
      const spread = { zone: localZone(contact?.timeZone, window?.fallbackTimeZone ?? 'UTC'), spreadMinutes: window?.spreadMinutes ?? 0, seed: request.enrollmentId };
      if (window) {
        const opens = nextMomentInWindow(now, window, spread);
        if (opens > now) return { until: opens.toISOString(), reason: 'send_window' };
      }
      const { perDay, perSenderPerDay } = request.limits;
      if (perDay === undefined && (perSenderPerDay === undefined || !contact?.ownerId)) return { until: null };
      // The sequence's day runs in its fallback zone: one day for every contact, wherever they are.
      const dayZone = window?.fallbackTimeZone ?? 'UTC';
      const since = startOfDay(now, dayZone);
      let reason: 'daily_limit' | 'sender_daily_limit' | null = null;
      if (perDay !== undefined) {
        const sent = await prisma.enrollmentStep.count({ where: { sequenceId: request.sequenceId, outcome: 'sent', at: { gte: since } } });
        if (sent >= perDay) reason = 'daily_limit';
      }
      if (!reason && perSenderPerDay !== undefined && contact?.ownerId) {
        const [row] = await prisma.$queryRaw<{ sent: bigint }[]>`
          SELECT count(*) AS sent
            FROM enrollment_steps s
            JOIN enrollments e ON e.id = s.enrollment_id
            JOIN contacts c ON c.id = e.contact_id
           WHERE s.sequence_id = ${request.sequenceId}::uuid AND s.outcome = 'sent' AND s.at >= ${since} AND c.owner_id = ${contact.ownerId}::uuid`;
        if (Number(row?.sent ?? 0) >= perSenderPerDay) reason = 'sender_daily_limit';
      }
      if (!reason) return { until: null };
      const tomorrow = startOfNextDay(now, dayZone);
      const until = window ? nextMomentInWindow(tomorrow, window, spread) : new Date(tomorrow.getTime() + spreadOffset(request.enrollmentId, defaultSpreadMinutes * 60_000));
      return { until: until.toISOString(), reason };
    },

    /**
     * The end of a wait step: `duration` on the contact's local calendar (P1D is the same local
     * time tomorrow, across a DST change), then the next moment inside `until`, spread like sends.
     */
    async waitUntil(request: WaitRequest): Promise<{ until: string }> {
      const contact = await prisma.contact.findUnique({ where: { id: request.contactId }, select: { timeZone: true } });
      const zone = localZone(contact?.timeZone, request.sendWindow?.fallbackTimeZone ?? 'UTC');
      let at = DateTime.fromISO(request.now, { zone });
      if (request.duration) at = at.plus(Duration.fromISO(request.duration));
      const due = at.toJSDate();
      const until = request.until
        ? nextMomentInWindow(due, request.until, { zone, spreadMinutes: request.sendWindow?.spreadMinutes ?? defaultSpreadMinutes, seed: request.enrollmentId })
        : due;
      return { until: until.toISOString() };
    },
  };
}
