import { DateTime, IANAZone } from 'luxon';

/**
 * Adds business days (Monday to Friday) in the given IANA time zone, keeping the local time
 * of day: a lead that arrives Friday 16:00 in Berlin is due Monday 16:00 Berlin time.
 */
export function addBusinessDays(from: Date, days: number, timeZone: string): Date {
  let cursor = DateTime.fromJSDate(from, { zone: isValidTimeZone(timeZone) ? timeZone : 'UTC' });
  // A start on a weekend counts from the next Monday at the same local time.
  while (cursor.weekday > 5) cursor = cursor.plus({ days: 1 });
  let remaining = days;
  while (remaining > 0) {
    cursor = cursor.plus({ days: 1 });
    if (cursor.weekday <= 5) remaining -= 1;
  }
  return cursor.toJSDate();
}

export function isValidTimeZone(timeZone: string): boolean {
  return IANAZone.isValidZone(timeZone);
}
