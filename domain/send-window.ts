import { DateTime } from 'luxon';
import { isValidTimeZone } from './business-time';
import type { Weekday } from './schemas/sequence';
import { stableFraction } from './stable-hash';

/** Local weekdays and hours, `start` before `end` (HH:MM): a sequence's send window or a `wait.until`. */
export interface WeeklyHours {
  days: readonly Weekday[];
  start: string;
  end: string;
}

/** Luxon numbers weekdays 1 (Monday) to 7 (Sunday). */
const luxonWeekdays: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** The contact's own zone when it is a valid IANA zone, else the fallback. */
export function localZone(timeZone: string | null | undefined, fallbackZone: string): string {
  return timeZone && isValidTimeZone(timeZone) ? timeZone : fallbackZone;
}

/**
 * `at` itself when it lies inside the window in `zone`, else the moment the window next opens.
 * Computed on local wall-clock times, so a window that opens at 09:00 opens at 09:00 local time
 * on the days clocks change too; a start inside a spring-forward gap (02:30) opens at the first
 * valid local time after it.
 */
export function nextWindowOpening(at: Date, hours: WeeklyHours, zone: string): Date {
  return findWindow(at, hours, zone).opensAt;
}

/**
 * When something due at `at` may happen: `at` itself inside the window; otherwise the next
 * opening plus this enrollment's offset into the first `spreadMinutes` (a stable hash of
 * `seed`), so a batch held overnight does not all go at 09:00:00. The offset never reaches past
 * the window's end.
 */
export function nextMomentInWindow(at: Date, hours: WeeklyHours, options: { zone: string; spreadMinutes: number; seed: string }): Date {
  const window = findWindow(at, hours, options.zone);
  if (window.inside) return at;
  const spreadMs = Math.min(options.spreadMinutes * 60_000, window.closesAt.getTime() - window.opensAt.getTime());
  return new Date(window.opensAt.getTime() + spreadOffset(options.seed, spreadMs));
}

/**
 * This seed's offset into a spread of `spreadMs`, in whole seconds (readable times, and still
 * 1,800 distinct slots in 30 minutes); always less than `spreadMs`.
 */
export function spreadOffset(seed: string, spreadMs: number): number {
  return Math.floor((stableFraction(seed) * spreadMs) / 1000) * 1000;
}

/** Local midnight after `at` in `zone`: where "today" ends for a daily limit. */
export function startOfNextDay(at: Date, zone: string): Date {
  return DateTime.fromJSDate(at, { zone }).startOf('day').plus({ days: 1 }).toJSDate();
}

/** Local midnight at or before `at` in `zone`. */
export function startOfDay(at: Date, zone: string): Date {
  return DateTime.fromJSDate(at, { zone }).startOf('day').toJSDate();
}

function findWindow(at: Date, hours: WeeklyHours, zone: string): { inside: boolean; opensAt: Date; closesAt: Date } {
  const [startHour, startMinute] = parseLocalTime(hours.start);
  const [endHour, endMinute] = parseLocalTime(hours.end);
  const today = DateTime.fromJSDate(at, { zone }).startOf('day');
  // Today and the seven days after it always hold a window's next opening.
  for (let offset = 0; offset <= 7; offset += 1) {
    const day = today.plus({ days: offset });
    if (!hours.days.includes(luxonWeekdays[day.weekday - 1]!)) continue;
    const opensAt = day.set({ hour: startHour, minute: startMinute }).toJSDate();
    const closesAt = day.set({ hour: endHour, minute: endMinute }).toJSDate();
    if (at < opensAt) return { inside: false, opensAt, closesAt };
    if (at < closesAt) return { inside: true, opensAt: at, closesAt };
  }
  throw new Error(`Window ${JSON.stringify(hours)} never opens`);
}

function parseLocalTime(hhmm: string): [number, number] {
  const match = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!match) throw new Error(`Not an HH:MM time: ${hhmm}`);
  return [Number(match[1]), Number(match[2])];
}
