import { describe, expect, it } from '@jest/globals';
import { matchesEvent } from '../../domain/event-match';
import { addPoints, decayFactor, pointsFor, scoreAt, snapshotOf, type ScoreSnapshot } from '../../domain/scoring';

const day = 86_400_000;
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * day);

describe('score decay', () => {
  it('halves the value every half-life: 80 points are 40 after 30 days and 20 after 60', () => {
    const snapshot: ScoreSnapshot = { score: 80, asOf: t0 };
    expect(scoreAt(snapshot, at(30), 30)).toBeCloseTo(40, 10);
    expect(scoreAt(snapshot, at(60), 30)).toBeCloseTo(20, 10);
    expect(scoreAt(snapshot, at(15), 30)).toBeCloseTo(80 / Math.SQRT2, 10);
    expect(decayFactor(7 * day, 7)).toBe(0.5);
  });

  it('leaves a contact that was never scored at its stored score', () => {
    expect(scoreAt({ score: 0, asOf: null }, at(100), 30)).toBe(0);
  });

  it('stores whole points that decay into exactly the real value, so rounding never accumulates', () => {
    const snapshot = snapshotOf(12.4, at(10), 30);
    expect(snapshot.score).toBe(12);
    expect(scoreAt(snapshot, at(10), 30)).toBeCloseTo(12.4, 6);
    expect(scoreAt(snapshot, at(40), 30)).toBeCloseTo(6.2, 6);
    expect(snapshotOf(0.4, at(3), 30)).toEqual({ score: 0, asOf: at(3) });
  });

  it('keeps decaying for a contact with frequent small events (naive rounding would freeze it at 10)', () => {
    let snapshot: ScoreSnapshot = { score: 10, asOf: t0 };
    // A zero-point event every hour for 30 days: the score must still halve.
    for (let hour = 1; hour <= 30 * 24; hour += 1) {
      const now = new Date(t0.getTime() + hour * 3_600_000);
      snapshot = addPoints(snapshot, 0, { occurredAt: now, now }, 30).snapshot;
    }
    expect(scoreAt(snapshot, at(30), 30)).toBeCloseTo(5, 3);
  });

  it('adds points on top of the decayed score and reports the value before and after', () => {
    const change = addPoints({ score: 40, asOf: t0 }, 15, { occurredAt: at(30), now: at(30) }, 30);
    expect(change.before).toBeCloseTo(20, 10);
    expect(change.after).toBeCloseTo(35, 10);
    expect(change.snapshot.score).toBe(35);
  });

  it('decays the points of an event from when it happened, and counts a slightly future event in full', () => {
    const backfilled = addPoints({ score: 0, asOf: null }, 20, { occurredAt: t0, now: at(30) }, 30);
    expect(backfilled.after).toBeCloseTo(10, 10);
    const ahead = addPoints({ score: 0, asOf: null }, 20, { occurredAt: new Date(at(1).getTime() + 60_000), now: at(1) }, 30);
    expect(ahead.after).toBe(20);
  });

  it('lets negative points lower the score', () => {
    expect(addPoints({ score: 30, asOf: t0 }, -10, { occurredAt: t0, now: t0 }, 30).after).toBe(20);
  });
});

describe('rule matching', () => {
  const pricing = { eventType: 'page_view', match: { url: { contains: '/pricing' } } };

  it('matches a page view whose url contains the text, whatever its case, and nothing of another type', () => {
    expect(matchesEvent(pricing, { type: 'page_view', properties: { url: 'https://example.com/Pricing?plan=pro' } })).toBe(true);
    expect(matchesEvent(pricing, { type: 'page_view', properties: { url: 'https://example.com/blog' } })).toBe(false);
    expect(matchesEvent(pricing, { type: 'custom', properties: { name: '/pricing' } })).toBe(false);
  });

  it('matches url prefixes and exact custom event names', () => {
    expect(matchesEvent({ eventType: 'page_view', match: { url: { prefix: 'https://example.com/docs/' } } }, { type: 'page_view', properties: { url: 'https://example.com/docs/api' } })).toBe(true);
    expect(matchesEvent({ eventType: 'page_view', match: { url: { prefix: 'https://example.com/docs/' } } }, { type: 'page_view', properties: { url: 'https://blog.example.com/docs/' } })).toBe(false);
    expect(matchesEvent({ eventType: 'custom', match: { name: { equals: 'trial_started' } } }, { type: 'custom', properties: { name: 'Trial_Started' } })).toBe(true);
    expect(matchesEvent({ eventType: 'custom', match: { name: { equals: 'trial_started' } } }, { type: 'custom', properties: { name: 'trial_started_2' } })).toBe(false);
  });

  it('matches amounts within gte and lte, and requires every listed property', () => {
    const bigEuroOrder = { eventType: 'purchase', match: { amount: { gte: 100, lte: 1000 }, currency: { equals: 'EUR' } } };
    expect(matchesEvent(bigEuroOrder, { type: 'purchase', properties: { amount: 100, currency: 'EUR' } })).toBe(true);
    expect(matchesEvent(bigEuroOrder, { type: 'purchase', properties: { amount: 1000.01, currency: 'EUR' } })).toBe(false);
    expect(matchesEvent(bigEuroOrder, { type: 'purchase', properties: { amount: 500, currency: 'USD' } })).toBe(false);
    expect(matchesEvent(bigEuroOrder, { type: 'purchase', properties: { amount: 500 } })).toBe(false);
  });

  it('matches every event of the type when the match is empty', () => {
    expect(matchesEvent({ eventType: 'meeting_booked', match: {} }, { type: 'meeting_booked', properties: {} })).toBe(true);
  });

  it('adds the points of every matching rule', () => {
    const rules = [
      { id: 'any-page', eventType: 'page_view', match: {}, points: 1 },
      { id: 'pricing', ...pricing, points: 10 },
      { id: 'reply', eventType: 'email_reply', match: {}, points: 20 },
    ];
    expect(pointsFor(rules, { type: 'page_view', properties: { url: 'https://example.com/pricing' } })).toEqual({ points: 11, ruleIds: ['any-page', 'pricing'] });
    expect(pointsFor(rules, { type: 'purchase', properties: { amount: 5, currency: 'EUR' } })).toEqual({ points: 0, ruleIds: [] });
  });
});
