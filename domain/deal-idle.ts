import type { TriggerEvent } from './schemas/trigger';

/**
 * The idle-deal escalation ladder, as rules without I/O (the deal workflow and its activities
 * apply them). A deal is idle when nothing meaningful happened on it for its idle limit (the
 * stage's, or one that an enter trigger set for this stage entry: entryIdleLimit), counted in
 * business days in the owner's time zone:
 *
 *   level 0 --limit--> level 1: a task for the owner ("Deal idle for N days in Proposal") and an
 *                               email to the owner
 *           --limit--> level 2: a task for the owner's manager; the deal is flagged rotting
 *
 * A meaningful touch (a logged call, email, meeting or note, a reply, a completed task, a stage
 * change) starts the ladder again from level 0 and clears the rotting flag.
 */

export type EscalationLevel = 0 | 1 | 2;

/** A touch stamped this far ahead of the workflow's clock still counts (clock skew between API hosts). */
export const touchClockSkewMs = 5 * 60_000;

/**
 * Whether a touch restarts the idle clock. It must be newer than the start of the current idle
 * period (a late, out-of-order signal about something older changes nothing), and not in the
 * future: a meeting or call scheduled ahead is a plan, not a touch, like a task due later (which
 * is never signalled at all; only completing a task is).
 */
export function touchRestartsClock(touchAt: string, periodStart: string, nowMs: number): boolean {
  const at = Date.parse(touchAt);
  return Number.isFinite(at) && at > Date.parse(periodStart) && at <= nowMs + touchClockSkewMs;
}

/** The idle limit a stage entry runs on, and the trigger that set it (null: the stage's own). */
export interface EntryIdleLimit {
  idleLimitDays: number | null;
  triggerId: string | null;
}

/**
 * The idle limit of a stage entry: the shortest `idleLimitDays` of the enter triggers the entry
 * fired (the strictest rule wins; on a tie the first in firing order), else the stage's. A
 * trigger's limit replaces the stage's, so it may also be the longer one.
 */
export function entryIdleLimit(stageLimitDays: number | null, fired: ReadonlyArray<{ triggerId: string; event: TriggerEvent; idleLimitDays?: number | undefined }>): EntryIdleLimit {
  let chosen: { triggerId: string; idleLimitDays: number } | null = null;
  for (const { triggerId, event, idleLimitDays } of fired) {
    if (event === 'enter' && idleLimitDays !== undefined && (chosen === null || idleLimitDays < chosen.idleLimitDays)) chosen = { triggerId, idleLimitDays };
  }
  return chosen ?? { idleLimitDays: stageLimitDays, triggerId: null };
}

/** The later of two ISO instants. */
export function laterOf(a: string, b: string): string {
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/**
 * Business key of one rung of the ladder: the stage entry (the DealStageChange that entered
 * the stage, `created` for the stage a deal was created in), the round (how often a touch
 * restarted the ladder in this entry) and the level. A retried step finds its task and email by
 * it; a new idle period after a touch gets new ones.
 */
export function idleStepKey(dealId: string, stageEntryId: string | null, round: number, level: 1 | 2): string {
  return `deal:${dealId}:idle:${stageEntryId ?? 'created'}:${round}:${level}`;
}

export function idleTaskTitle(level: 1 | 2, idleDays: number, stageName: string, ownerName: string): string {
  return level === 1 ? `Deal idle for ${idleDays} days in ${stageName}` : `Deal idle for ${idleDays} days in ${stageName} (owner: ${ownerName})`;
}

export function idleTaskDescription(level: 1 | 2, dealName: string, idleDays: number): string {
  const what = `No call, email, meeting, note, completed task or stage change on "${dealName}" for ${idleDays} business days.`;
  return level === 1
    ? `${what} Follow up, or move it on; another period without a touch escalates it to your manager.`
    : `${what} The owner was told when it first went idle; the deal is now flagged as rotting.`;
}
