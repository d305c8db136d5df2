import { matchesEvent, type EventCondition, type EventFacts } from './event-match';

/**
 * Lead scoring maths. A score is stored as a value at a point in time and decays by a
 * half-life from then on: value(t) = score * 0.5^((t - asOf) / halfLife). Points an event
 * gives decay from when the event happened, so a backfilled event from last quarter counts
 * for what it is worth today.
 */

const dayMs = 86_400_000;

export interface ScoreSnapshot {
  /** Whole points, as the contacts table stores them. */
  score: number;
  /** When `score` was exact; null for a contact never scored. */
  asOf: Date | null;
}

export function decayFactor(elapsedMs: number, halfLifeDays: number): number {
  return 0.5 ** (elapsedMs / (halfLifeDays * dayMs));
}

/** The score's value at `at` (a real number). */
export function scoreAt(snapshot: ScoreSnapshot, at: Date, halfLifeDays: number): number {
  if (snapshot.asOf === null || snapshot.score === 0) return snapshot.score;
  return snapshot.score * decayFactor(at.getTime() - snapshot.asOf.getTime(), halfLifeDays);
}

/**
 * Whole points that stand for `value` at `at` exactly. Storing Math.round(value) with asOf = at
 * would add up to half a point of error per event, enough to stop decay altogether for a
 * contact with frequent small events; instead asOf moves by the fraction of a half-life at
 * which the rounded score decays (or grows) into the exact value. Below half a point the score
 * is simply zero.
 */
export function snapshotOf(value: number, at: Date, halfLifeDays: number): ScoreSnapshot {
  const score = Math.round(value);
  if (score === 0) return { score: 0, asOf: at };
  const shiftMs = halfLifeDays * dayMs * Math.log2(score / value);
  return { score, asOf: new Date(at.getTime() - Math.round(shiftMs)) };
}

export interface ScoreChange {
  /** The decayed value just before the event's points were added. */
  before: number;
  after: number;
  snapshot: ScoreSnapshot;
}

export function addPoints(snapshot: ScoreSnapshot, points: number, at: { occurredAt: Date; now: Date }, halfLifeDays: number): ScoreChange {
  const before = scoreAt(snapshot, at.now, halfLifeDays);
  // An event stamped a little ahead of our clock counts in full, not more.
  const age = Math.max(0, at.now.getTime() - at.occurredAt.getTime());
  const after = before + points * decayFactor(age, halfLifeDays);
  return { before, after, snapshot: snapshotOf(after, at.now, halfLifeDays) };
}

export interface ScoringRuleFacts extends EventCondition {
  id: string;
  points: number;
}

/** Every matching rule adds its points (a pricing page view can match "any page" and "pricing"). */
export function pointsFor(rules: readonly ScoringRuleFacts[], event: EventFacts): { points: number; ruleIds: string[] } {
  const matching = rules.filter((rule) => matchesEvent(rule, event));
  return { points: matching.reduce((sum, rule) => sum + rule.points, 0), ruleIds: matching.map((rule) => rule.id) };
}
