import { describe, expect, it } from '@jest/globals';
import { addBusinessDays, isValidTimeZone } from '../../domain/business-time';

const at = (iso: string): Date => new Date(iso);
const iso = (date: Date): string => date.toISOString();

describe('addBusinessDays', () => {
  describe('in UTC', () => {
    it('adds one day from Monday to Tuesday at the same time', () => {
      expect(iso(addBusinessDays(at('2024-03-04T10:00:00.000Z'), 1, 'UTC'))).toBe('2024-03-05T10:00:00.000Z');
    });

    it('goes from Friday to Monday, skipping the weekend', () => {
      expect(iso(addBusinessDays(at('2024-03-08T10:00:00.000Z'), 1, 'UTC'))).toBe('2024-03-11T10:00:00.000Z');
    });

    it('goes from Thursday plus three business days to Tuesday', () => {
      expect(iso(addBusinessDays(at('2024-03-07T10:00:00.000Z'), 3, 'UTC'))).toBe('2024-03-12T10:00:00.000Z');
    });

    it('adds five business days as one calendar week', () => {
      expect(iso(addBusinessDays(at('2024-03-06T10:00:00.000Z'), 5, 'UTC'))).toBe('2024-03-13T10:00:00.000Z');
    });

    it('adds ten business days across two weekends as two calendar weeks', () => {
      expect(iso(addBusinessDays(at('2024-03-04T10:00:00.000Z'), 10, 'UTC'))).toBe('2024-03-18T10:00:00.000Z');
    });

    it('leaves a weekday unchanged for zero days', () => {
      expect(iso(addBusinessDays(at('2024-03-06T10:00:00.000Z'), 0, 'UTC'))).toBe('2024-03-06T10:00:00.000Z');
    });

    it('moves a Saturday start with zero days to Monday at the same time', () => {
      expect(iso(addBusinessDays(at('2024-03-09T10:00:00.000Z'), 0, 'UTC'))).toBe('2024-03-11T10:00:00.000Z');
    });

    it('counts a Saturday start from Monday, so one business day lands on Tuesday', () => {
      expect(iso(addBusinessDays(at('2024-03-09T10:00:00.000Z'), 1, 'UTC'))).toBe('2024-03-12T10:00:00.000Z');
    });

    it('counts a Sunday start from Monday, so one business day lands on Tuesday', () => {
      expect(iso(addBusinessDays(at('2024-03-10T23:59:00.000Z'), 1, 'UTC'))).toBe('2024-03-12T23:59:00.000Z');
    });

    it('keeps the milliseconds of the start', () => {
      expect(iso(addBusinessDays(at('2024-03-04T10:00:00.123Z'), 1, 'UTC'))).toBe('2024-03-05T10:00:00.123Z');
    });

    it('does not modify the Date passed in', () => {
      const from = at('2024-03-08T10:00:00.000Z');
      addBusinessDays(from, 3, 'UTC');
      expect(iso(from)).toBe('2024-03-08T10:00:00.000Z');
    });
  });

  describe('in Europe/Berlin', () => {
    it('moves a lead arriving Friday 16:00 Berlin time to Monday 16:00 Berlin time', () => {
      // 15:00Z is 16:00 CET.
      expect(iso(addBusinessDays(at('2024-03-08T15:00:00.000Z'), 1, 'Europe/Berlin'))).toBe('2024-03-11T15:00:00.000Z');
    });

    it('keeps 16:00 local time across the spring-forward weekend (CET to CEST)', () => {
      // Fri 29 Mar 2024 16:00 CET (+01:00) -> Mon 1 Apr 2024 16:00 CEST (+02:00).
      expect(iso(addBusinessDays(at('2024-03-29T15:00:00.000Z'), 1, 'Europe/Berlin'))).toBe('2024-04-01T14:00:00.000Z');
    });

    it('keeps 09:00 local time across the fall-back weekend (CEST to CET)', () => {
      // Fri 25 Oct 2024 09:00 CEST (+02:00) -> Mon 28 Oct 2024 09:00 CET (+01:00).
      expect(iso(addBusinessDays(at('2024-10-25T07:00:00.000Z'), 1, 'Europe/Berlin'))).toBe('2024-10-28T08:00:00.000Z');
    });

    it('decides the weekday in Berlin: 23:30Z on Friday is already Saturday in Berlin', () => {
      // Fri 8 Mar 23:30Z = Sat 9 Mar 00:30 CET -> counts from Mon 11 Mar 00:30 -> Tue 12 Mar 00:30 CET.
      expect(iso(addBusinessDays(at('2024-03-08T23:30:00.000Z'), 1, 'Europe/Berlin'))).toBe('2024-03-11T23:30:00.000Z');
    });
  });

  describe('in America/Los_Angeles', () => {
    it('keeps 09:00 local time across the US spring-forward weekend (PST to PDT)', () => {
      // Fri 8 Mar 2024 09:00 PST (-08:00) -> Mon 11 Mar 2024 09:00 PDT (-07:00).
      expect(iso(addBusinessDays(at('2024-03-08T17:00:00.000Z'), 1, 'America/Los_Angeles'))).toBe('2024-03-11T16:00:00.000Z');
    });

    it('treats Saturday 02:00Z as Friday evening in Los Angeles and lands on Monday evening', () => {
      // Sat 9 Mar 02:00Z = Fri 8 Mar 18:00 PST -> Mon 11 Mar 18:00 PDT = Tue 12 Mar 01:00Z.
      expect(iso(addBusinessDays(at('2024-03-09T02:00:00.000Z'), 1, 'America/Los_Angeles'))).toBe('2024-03-12T01:00:00.000Z');
    });

    it('keeps 09:00 local time across the US fall-back weekend (PDT to PST)', () => {
      // Fri 1 Nov 2024 09:00 PDT -> Mon 4 Nov 2024 09:00 PST.
      expect(iso(addBusinessDays(at('2024-11-01T16:00:00.000Z'), 1, 'America/Los_Angeles'))).toBe('2024-11-04T17:00:00.000Z');
    });
  });

  describe('in Asia/Tokyo', () => {
    it('moves Friday 10:00 in Tokyo to Monday 10:00 in Tokyo', () => {
      expect(iso(addBusinessDays(at('2024-03-08T01:00:00.000Z'), 1, 'Asia/Tokyo'))).toBe('2024-03-11T01:00:00.000Z');
    });

    it('treats Friday 20:00Z as Saturday morning in Tokyo and, with zero days, moves it to Monday morning', () => {
      // Fri 8 Mar 20:00Z = Sat 9 Mar 05:00 JST -> Mon 11 Mar 05:00 JST = Sun 10 Mar 20:00Z.
      expect(iso(addBusinessDays(at('2024-03-08T20:00:00.000Z'), 0, 'Asia/Tokyo'))).toBe('2024-03-10T20:00:00.000Z');
    });
  });

  describe('with an invalid time zone', () => {
    it('falls back to UTC: Saturday 02:00Z plus one business day is Tuesday 02:00Z', () => {
      expect(iso(addBusinessDays(at('2024-03-09T02:00:00.000Z'), 1, 'Mars/Olympus_Mons'))).toBe('2024-03-12T02:00:00.000Z');
    });

    it('falls back to UTC for an empty time zone', () => {
      expect(iso(addBusinessDays(at('2024-03-08T20:00:00.000Z'), 0, ''))).toBe('2024-03-08T20:00:00.000Z');
    });
  });
});

describe('isValidTimeZone', () => {
  it.each(['Europe/Berlin', 'America/Los_Angeles', 'Asia/Tokyo', 'UTC', 'Etc/GMT+5', 'Australia/Lord_Howe'])('accepts the IANA zone %s', (zone) => {
    expect(isValidTimeZone(zone)).toBe(true);
  });

  it.each([
    ['an unknown region', 'Mars/Olympus_Mons'],
    ['a city without region', 'Berlin'],
    ['an empty string', ''],
    ['an abbreviation-like offset', 'UTC+5'],
    ['luxon\'s "local" keyword', 'local'],
    ['luxon\'s "system" keyword', 'system'],
    ['luxon\'s "default" keyword', 'default'],
  ])('rejects %s', (_kind, zone) => {
    expect(isValidTimeZone(zone)).toBe(false);
  });
});
