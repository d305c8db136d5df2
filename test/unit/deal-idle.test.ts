import { describe, expect, it } from '@jest/globals';
import { entryIdleLimit, idleStepKey, idleTaskTitle, laterOf, touchRestartsClock } from '../../domain/deal-idle';

const periodStart = '2026-03-02T09:00:00.000Z';
const now = Date.parse('2026-03-05T12:00:00.000Z');

describe('the idle-deal ladder rules', () => {
  it('a touch after the start of the idle period restarts the clock', () => {
    expect(touchRestartsClock('2026-03-04T10:00:00.000Z', periodStart, now)).toBe(true);
  });

  it('a late signal about something older than the period changes nothing', () => {
    expect(touchRestartsClock('2026-03-01T10:00:00.000Z', periodStart, now)).toBe(false);
    expect(touchRestartsClock(periodStart, periodStart, now)).toBe(false);
  });

  it('something dated in the future (a meeting planned for next week) is not a touch', () => {
    expect(touchRestartsClock('2026-03-12T10:00:00.000Z', periodStart, now)).toBe(false);
    // A few minutes of clock skew between the API and the worker are tolerated.
    expect(touchRestartsClock('2026-03-05T12:04:00.000Z', periodStart, now)).toBe(true);
    expect(touchRestartsClock('not a date', periodStart, now)).toBe(false);
  });

  it('keys each rung by stage entry, round and level, so a new idle period gets new tasks', () => {
    expect(idleStepKey('d1', 'c9', 0, 1)).toBe('deal:d1:idle:c9:0:1');
    expect(idleStepKey('d1', null, 2, 2)).toBe('deal:d1:idle:created:2:2');
    expect(new Set([idleStepKey('d1', 'c9', 0, 1), idleStepKey('d1', 'c9', 1, 1), idleStepKey('d1', 'c9', 0, 2), idleStepKey('d1', 'c8', 0, 1)]).size).toBe(4);
  });

  it('titles the owner task as the issue words it, and names the owner on the manager task', () => {
    expect(idleTaskTitle(1, 7, 'Proposal', 'Rita Rep')).toBe('Deal idle for 7 days in Proposal');
    expect(idleTaskTitle(2, 14, 'Proposal', 'Rita Rep')).toBe('Deal idle for 14 days in Proposal (owner: Rita Rep)');
  });

  it('runs a stage entry on the shortest idle limit of the enter triggers it fired, else on the stage\'s', () => {
    expect(entryIdleLimit(10, [])).toEqual({ idleLimitDays: 10, triggerId: null });
    expect(entryIdleLimit(10, [{ triggerId: 'tasks-only', event: 'enter' }])).toEqual({ idleLimitDays: 10, triggerId: null });
    const fired = [
      { triggerId: 'big-deals', event: 'enter', idleLimitDays: 5 },
      { triggerId: 'strict', event: 'enter', idleLimitDays: 3 },
      { triggerId: 'also-3', event: 'enter', idleLimitDays: 3 },
    ] as const;
    expect(entryIdleLimit(10, fired)).toEqual({ idleLimitDays: 3, triggerId: 'strict' });
    // A trigger's limit replaces the stage's: longer, or on a stage that never idles.
    expect(entryIdleLimit(7, [{ triggerId: 'small-deals', event: 'enter', idleLimitDays: 20 }])).toEqual({ idleLimitDays: 20, triggerId: 'small-deals' });
    expect(entryIdleLimit(null, [{ triggerId: 'big-deals', event: 'enter', idleLimitDays: 3 }])).toEqual({ idleLimitDays: 3, triggerId: 'big-deals' });
    // A leave trigger fired by the same change belongs to the stage the deal left.
    expect(entryIdleLimit(10, [{ triggerId: 'left', event: 'leave', idleLimitDays: 1 }])).toEqual({ idleLimitDays: 10, triggerId: null });
  });

  it('picks the later of two instants', () => {
    expect(laterOf('2026-03-02T09:00:00.000Z', '2026-03-01T09:00:00.000Z')).toBe('2026-03-02T09:00:00.000Z');
    expect(laterOf('2026-03-01T09:00:00.000Z', '2026-03-02T09:00:00.000Z')).toBe('2026-03-02T09:00:00.000Z');
  });
});
