import { describe, expect, it } from '@jest/globals';
import { localZone, nextMomentInWindow, nextWindowOpening, spreadOffset, startOfDay, startOfNextDay, type WeeklyHours } from '../../domain/send-window';

const weekdays: WeeklyHours = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' };
const everyDay: WeeklyHours = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '09:00', end: '17:00' };
const iso = (date: Date) => date.toISOString();
const at = (value: string) => new Date(value);

describe('next moment inside a weekly window', () => {
  it('is the moment itself inside the window, with no spread', () => {
    const inside = at('2026-03-10T10:30:00Z'); // Tuesday 11:30 Berlin
    expect(nextMomentInWindow(inside, weekdays, { zone: 'Europe/Berlin', spreadMinutes: 30, seed: 'e1' })).toBe(inside);
  });

  it('treats the start minute as inside and the end minute as outside', () => {
    expect(iso(nextWindowOpening(at('2026-03-10T09:00:00Z'), weekdays, 'UTC'))).toBe('2026-03-10T09:00:00.000Z');
    expect(iso(nextWindowOpening(at('2026-03-10T17:00:00Z'), weekdays, 'UTC'))).toBe('2026-03-11T09:00:00.000Z');
  });

  it('moves an early-morning send to the window start the same day, in the contact\'s zone', () => {
    // 06:00 in New York (UTC-4 in May) -> 09:00 New York = 13:00 UTC
    expect(iso(nextWindowOpening(at('2026-05-12T10:00:00Z'), weekdays, 'America/New_York'))).toBe('2026-05-12T13:00:00.000Z');
  });

  it('moves a Friday-evening send over the weekend to Monday', () => {
    // Friday 13 March 2026, 18:00 Berlin -> Monday 16 March 09:00 Berlin (08:00 UTC)
    expect(iso(nextWindowOpening(at('2026-03-13T17:00:00Z'), weekdays, 'Europe/Berlin'))).toBe('2026-03-16T08:00:00.000Z');
  });

  it('finds "next Tuesday 09:00-11:00", a week ahead when this Tuesday\'s window has passed', () => {
    const tuesday: WeeklyHours = { days: ['tue'], start: '09:00', end: '11:00' };
    // Wednesday 11 March -> Tuesday 17 March
    expect(iso(nextWindowOpening(at('2026-03-11T12:00:00Z'), tuesday, 'UTC'))).toBe('2026-03-17T09:00:00.000Z');
    // Tuesday 10 March at 11:00 (window just closed) -> Tuesday 17 March
    expect(iso(nextWindowOpening(at('2026-03-10T11:00:00Z'), tuesday, 'UTC'))).toBe('2026-03-17T09:00:00.000Z');
  });

  it('opens at 09:00 local time on the day clocks spring forward', () => {
    // Berlin, Sunday 29 March 2026: 02:00 -> 03:00. Saturday 20:00 CET -> Sunday 09:00 CEST = 07:00 UTC.
    expect(iso(nextWindowOpening(at('2026-03-28T19:00:00Z'), everyDay, 'Europe/Berlin'))).toBe('2026-03-29T07:00:00.000Z');
    // And the Monday after: 09:00 CEST, one hour earlier in UTC than the week before.
    expect(iso(nextWindowOpening(at('2026-03-27T18:00:00Z'), weekdays, 'Europe/Berlin'))).toBe('2026-03-30T07:00:00.000Z');
  });

  it('opens at 09:00 local time on the day clocks fall back', () => {
    // New York, Sunday 1 November 2026: 02:00 -> 01:00. Saturday 18:00 EDT -> Sunday 09:00 EST = 14:00 UTC.
    expect(iso(nextWindowOpening(at('2026-10-31T22:00:00Z'), everyDay, 'America/New_York'))).toBe('2026-11-01T14:00:00.000Z');
  });

  it('opens a window that starts inside the spring-forward gap at the first valid local time', () => {
    const night: WeeklyHours = { days: ['sun'], start: '02:30', end: '05:00' };
    // 02:30 does not exist in Berlin on 29 March 2026; it opens at 03:30 CEST = 01:30 UTC.
    expect(iso(nextWindowOpening(at('2026-03-28T12:00:00Z'), night, 'Europe/Berlin'))).toBe('2026-03-29T01:30:00.000Z');
  });
});

describe('spreading held sends over the first minutes of the window', () => {
  const earlyTuesday = at('2026-03-10T05:00:00Z');
  const opens = Date.parse('2026-03-10T09:00:00Z');

  it('gives one enrollment the same slot every time and different enrollments different slots', () => {
    const slot = (seed: string) => nextMomentInWindow(earlyTuesday, weekdays, { zone: 'UTC', spreadMinutes: 30, seed }).getTime();
    expect(slot('enrollment-1')).toBe(slot('enrollment-1'));
    const slots = new Set(Array.from({ length: 200 }, (_, index) => slot(`enrollment-${index}`)));
    expect(slots.size).toBeGreaterThan(150);
    for (const value of slots) {
      expect(value).toBeGreaterThanOrEqual(opens);
      expect(value).toBeLessThan(opens + 30 * 60_000);
      expect(value % 1000).toBe(0);
    }
  });

  it('covers the whole spread, not just its start', () => {
    const offsets = Array.from({ length: 1000 }, (_, index) => spreadOffset(`seed-${index}`, 30 * 60_000));
    expect(Math.min(...offsets)).toBeLessThan(2 * 60_000);
    expect(Math.max(...offsets)).toBeGreaterThan(28 * 60_000);
  });

  it('never spreads past the end of a short window', () => {
    const short: WeeklyHours = { days: ['tue'], start: '09:00', end: '09:10' };
    for (let index = 0; index < 100; index += 1) {
      const slot = nextMomentInWindow(earlyTuesday, short, { zone: 'UTC', spreadMinutes: 60, seed: `e${index}` }).getTime();
      expect(slot).toBeLessThan(opens + 10 * 60_000);
    }
  });

  it('sends at the window start exactly with no spread', () => {
    expect(iso(nextMomentInWindow(earlyTuesday, weekdays, { zone: 'UTC', spreadMinutes: 0, seed: 'any' }))).toBe('2026-03-10T09:00:00.000Z');
  });
});

describe('time zones', () => {
  it('uses the contact\'s zone when valid and the fallback zone otherwise', () => {
    expect(localZone('America/Chicago', 'Europe/Berlin')).toBe('America/Chicago');
    expect(localZone(null, 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(localZone('Mars/Olympus_Mons', 'Asia/Tokyo')).toBe('Asia/Tokyo');
  });

  it('reads the same instant as a different local day in the fallback zone', () => {
    // 23:30 UTC on Monday is Tuesday 08:30 in Tokyo: a Tuesday window opens there in half an hour, in UTC 9.5 hours later.
    const tuesday: WeeklyHours = { days: ['tue'], start: '09:00', end: '11:00' };
    const moment = at('2026-03-09T23:30:00Z');
    expect(iso(nextWindowOpening(moment, tuesday, localZone(undefined, 'Asia/Tokyo')))).toBe('2026-03-10T00:00:00.000Z');
    expect(iso(nextWindowOpening(moment, tuesday, localZone(undefined, 'UTC')))).toBe('2026-03-10T09:00:00.000Z');
  });

  it('finds local day boundaries across a DST change', () => {
    // Berlin, 29 March 2026 is 23 hours long.
    expect(iso(startOfDay(at('2026-03-29T12:00:00Z'), 'Europe/Berlin'))).toBe('2026-03-28T23:00:00.000Z');
    expect(iso(startOfNextDay(at('2026-03-29T12:00:00Z'), 'Europe/Berlin'))).toBe('2026-03-29T22:00:00.000Z');
  });
});
