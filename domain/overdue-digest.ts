import { DateTime } from 'luxon';
import { isValidTimeZone } from './business-time';

/**
 * The daily overdue digest: one review task per manager listing their reports' overdue open
 * tasks. Its business key is the manager and the day, so a rerun on the same day (a retry, a
 * manual trigger, a catch-up after an outage) finds the task instead of adding one.
 */
export const digestSourceKey = (managerId: string, date: string): string => `digest:${managerId}:${date}`;
/** Every digest key of one manager starts with this; the digests themselves are never listed in one. */
export const digestKeyPrefix = (managerId?: string): string => (managerId ? `digest:${managerId}:` : 'digest:');

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(at: Date, timeZone: string): string {
  return DateTime.fromJSDate(at, { zone: zoneOrUtc(timeZone) }).toISODate()!;
}

export interface OverdueLine {
  id: string;
  title: string;
  assigneeName: string;
  priority: string;
  dueAt: Date;
}

export interface DigestContent {
  title: string;
  description: string;
  /** End of the manager's local day: the digest is today's reading. */
  dueAt: Date;
}

/** `lines` are the top ones already ordered (most urgent first); `total` counts them all. */
export function digestContent(input: { total: number; lines: readonly OverdueLine[]; asOf: Date; managerTimeZone: string }): DigestContent {
  const zone = zoneOrUtc(input.managerTimeZone);
  const asOf = DateTime.fromJSDate(input.asOf, { zone });
  const plural = input.total === 1 ? 'task is' : 'tasks are';
  const listed = input.lines.map((line) => {
    const due = DateTime.fromJSDate(line.dueAt, { zone });
    const days = Math.floor(asOf.diff(due, 'days').days);
    const late = days >= 1 ? `${days} day${days === 1 ? '' : 's'} overdue` : 'overdue today';
    return `- [${line.priority}] ${line.title} (${line.assigneeName}), due ${due.toFormat('yyyy-LL-dd HH:mm')}, ${late} (task ${line.id})`;
  });
  const rest = input.total - input.lines.length;
  const description = [
    `${input.total} open ${plural} overdue on your team as of ${asOf.toFormat('yyyy-LL-dd HH:mm ZZZZ')}.`,
    input.lines.length < input.total ? `The ${input.lines.length} most urgent:` : 'They are:',
    ...listed,
    ...(rest > 0 ? [`... and ${rest} more.`] : []),
  ].join('\n');
  return { title: `Review ${input.total} overdue ${input.total === 1 ? 'task' : 'tasks'} on your team`, description, dueAt: asOf.endOf('day').toJSDate() };
}

function zoneOrUtc(timeZone: string): string {
  return isValidTimeZone(timeZone) ? timeZone : 'UTC';
}
