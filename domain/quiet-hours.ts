import { DateTime } from 'luxon';
import { isValidTimeZone } from './business-time';

export interface QuietHours {
  /** Local time the quiet period starts, HH:MM (e.g. 21:00). */
  start: string;
  /** Local time it ends, HH:MM (e.g. 08:00); may be earlier than start (overnight). */
  end: string;
}

/**
 * When an SMS may go out: `at` itself outside quiet hours, else the end of the quiet period in
 * the contact's time zone. Computed on wall-clock times, so a DST change inside the quiet
 * period still opens the window at 08:00 local time, not 07:00 or 09:00.
 */
export function nextSendTime(at: Date, timeZone: string | null | undefined, quietHours: QuietHours, fallbackZone = 'UTC'): Date {
  const zone = timeZone && isValidTimeZone(timeZone) ? timeZone : fallbackZone;
  const local = DateTime.fromJSDate(at, { zone });
  const minutes = local.hour * 60 + local.minute;
  const start = toMinutes(quietHours.start);
  const end = toMinutes(quietHours.end);
  if (start === end) return at;
  const overnight = start > end;
  const quiet = overnight ? minutes >= start || minutes < end : minutes >= start && minutes < end;
  if (!quiet) return at;
  const opensToday = local.set({ hour: Math.floor(end / 60), minute: end % 60, second: 0, millisecond: 0 });
  const opens = overnight && minutes >= start ? opensToday.plus({ days: 1 }) : opensToday;
  return opens.toJSDate();
}

function toMinutes(hhmm: string): number {
  const match = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!match) throw new Error(`Not an HH:MM time: ${hhmm}`);
  return Number(match[1]) * 60 + Number(match[2]);
}
