import { describe, expect, it } from '@jest/globals';
import { nextSendTime } from '../../domain/quiet-hours';

const night = { start: '21:00', end: '08:00' };
const iso = (date: Date) => date.toISOString();

describe('SMS quiet hours', () => {
  it('sends at once during the day in the contact\'s time zone', () => {
    const at = new Date('2026-03-10T14:00:00Z'); // 15:00 in Berlin
    expect(nextSendTime(at, 'Europe/Berlin', night)).toBe(at);
  });

  it('moves a late-evening send to 08:00 the next morning, local time', () => {
    // 22:30 in New York (UTC-5 in January) -> 08:00 New York = 13:00 UTC
    expect(iso(nextSendTime(new Date('2026-01-15T03:30:00Z'), 'America/New_York', night))).toBe('2026-01-15T13:00:00.000Z');
  });

  it('moves an early-morning send to 08:00 the same day', () => {
    // 06:00 in Tokyo (UTC+9) -> 08:00 Tokyo = 23:00 UTC the day before
    expect(iso(nextSendTime(new Date('2026-06-09T21:00:00Z'), 'Asia/Tokyo', night))).toBe('2026-06-09T23:00:00.000Z');
  });

  it('opens at 08:00 local time on the night clocks spring forward', () => {
    // Berlin, 29 March 2026: 02:00 -> 03:00. 23:00 CET on the 28th -> 08:00 CEST = 06:00 UTC.
    expect(iso(nextSendTime(new Date('2026-03-28T22:00:00Z'), 'Europe/Berlin', night))).toBe('2026-03-29T06:00:00.000Z');
  });

  it('opens at 08:00 local time on the night clocks fall back', () => {
    // New York, 1 November 2026: 02:00 -> 01:00. 23:00 EDT on 31 Oct -> 08:00 EST = 13:00 UTC.
    expect(iso(nextSendTime(new Date('2026-11-01T03:00:00Z'), 'America/New_York', night))).toBe('2026-11-01T13:00:00.000Z');
  });

  it('treats the start minute as quiet and the end minute as open', () => {
    expect(iso(nextSendTime(new Date('2026-07-01T21:00:00Z'), 'UTC', night))).toBe('2026-07-02T08:00:00.000Z');
    const eight = new Date('2026-07-01T08:00:00Z');
    expect(nextSendTime(eight, 'UTC', night)).toBe(eight);
  });

  it('handles a quiet period within one day', () => {
    const lunch = { start: '12:00', end: '13:30' };
    expect(iso(nextSendTime(new Date('2026-07-01T12:15:00Z'), 'UTC', lunch))).toBe('2026-07-01T13:30:00.000Z');
    const morning = new Date('2026-07-01T11:59:00Z');
    expect(nextSendTime(morning, 'UTC', lunch)).toBe(morning);
  });

  it('uses the fallback zone when the contact has none or an invalid one', () => {
    const at = new Date('2026-07-01T23:00:00Z');
    expect(iso(nextSendTime(at, null, night, 'Europe/London'))).toBe('2026-07-02T07:00:00.000Z');
    expect(iso(nextSendTime(at, 'Not/AZone', night))).toBe('2026-07-02T08:00:00.000Z');
  });
});
