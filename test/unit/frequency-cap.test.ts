import { describe, expect, it } from '@jest/globals';
import { frequencyCapDecision } from '../../domain/frequency-cap';

const now = new Date('2026-05-20T12:00:00Z');
const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000);

describe('marketing frequency cap', () => {
  it('allows sends while fewer than the cap went out in the last 7 days', () => {
    expect(frequencyCapDecision([daysAgo(1), daysAgo(2)], now, 3)).toEqual({ allowed: true });
  });

  it('ignores messages older than the rolling 7 days', () => {
    expect(frequencyCapDecision([daysAgo(7.5), daysAgo(8), daysAgo(10)], now, 2)).toEqual({ allowed: true });
  });

  it('defers to the moment the oldest message in the window ages out', () => {
    const decision = frequencyCapDecision([daysAgo(1), daysAgo(6), daysAgo(3)], now, 3);
    expect(decision).toEqual({ allowed: false, nextAllowedAt: new Date(daysAgo(6).getTime() + 7 * 86_400_000), sentInWindow: 3 });
  });

  it('waits for enough messages to age out when the window holds more than the cap', () => {
    // Cap lowered to 2 while 4 sit in the window: three must leave, the third-oldest last.
    const decision = frequencyCapDecision([daysAgo(1), daysAgo(2), daysAgo(4), daysAgo(5)], now, 2);
    expect(decision).toMatchObject({ allowed: false, nextAllowedAt: new Date(daysAgo(2).getTime() + 7 * 86_400_000) });
  });

  it('is off when the cap is 0', () => {
    expect(frequencyCapDecision(Array.from({ length: 50 }, (_, i) => daysAgo(i / 10)), now, 0)).toEqual({ allowed: true });
  });
});
