import { matchesEvent, type EventCondition, type EventFacts } from './event-match';
import { lifecycleStages, type LifecycleStage } from './lifecycle-stages';
import type { ScoreChange } from './scoring';

/**
 * How a contact moves between lifecycle stages: lead -> mql -> sql -> customer, then at_risk
 * and churned for customers who stop buying. Events move contacts through behaviour rules,
 * the MQL threshold and purchases; the contact workflow's quiet-customer timers move them to
 * at_risk and churned.
 */

/** Position in the usual order of a contact's life (lifecycleStages lists them in that order). */
export function stageRank(stage: LifecycleStage): number {
  return lifecycleStages.indexOf(stage);
}

export function isBefore(stage: LifecycleStage, other: LifecycleStage): boolean {
  return stageRank(stage) < stageRank(other);
}

/** Stages in which the quiet-customer (re-engagement) timer runs. */
export const reengagementStages: readonly LifecycleStage[] = ['customer', 'at_risk'];

/**
 * A lead becomes an MQL when an event lifts its score from below the threshold to at least it.
 * Only the crossing counts: a lead that sales moved back from MQL keeps its score and must
 * decay below the threshold and cross it again before it is handed over once more.
 */
export function crossesMqlThreshold(stage: LifecycleStage, change: Pick<ScoreChange, 'before' | 'after'>, mqlThreshold: number): boolean {
  return isBefore(stage, 'mql') && change.before < mqlThreshold && change.after >= mqlThreshold;
}

export interface BehaviourRuleFacts extends EventCondition {
  id: string;
  name: string;
  fromStages: readonly LifecycleStage[];
  toStage: LifecycleStage;
}

/** Why a contact changed stage; stored with the lifecycle_changed Activity. */
export type StageMove =
  | { to: 'customer'; reason: 'purchase' }
  | { to: LifecycleStage; reason: 'rule'; ruleId: string; ruleName: string }
  | { to: 'mql'; reason: 'mql_threshold'; score: number; threshold: number }
  | { to: 'at_risk'; reason: 'no_purchase'; days: number }
  | { to: 'churned'; reason: 'reengagement_unsuccessful'; days: number }
  | { to: LifecycleStage; reason: 'sequence_step'; enrollmentId: string; stepKey: string };

/**
 * The stage move an event causes, if any. A purchase always makes a customer. Otherwise the
 * first matching behaviour rule (in the order given: oldest first) that applies to the current
 * stage wins, because a rule is an explicit decision of sales ops; failing that, crossing the
 * MQL threshold moves a lead to mql.
 */
export function stageMoveFor(input: {
  stage: LifecycleStage;
  event: EventFacts;
  rules: readonly BehaviourRuleFacts[];
  score: Pick<ScoreChange, 'before' | 'after'> | null;
  mqlThreshold: number;
}): StageMove | null {
  const { stage, event } = input;
  if (event.type === 'purchase') return stage === 'customer' ? null : { to: 'customer', reason: 'purchase' };
  const rule = input.rules.find((candidate) => candidate.toStage !== stage && candidate.fromStages.includes(stage) && matchesEvent(candidate, event));
  if (rule) return { to: rule.toStage, reason: 'rule', ruleId: rule.id, ruleName: rule.name };
  if (input.score && crossesMqlThreshold(stage, input.score, input.mqlThreshold)) {
    return { to: 'mql', reason: 'mql_threshold', score: Math.round(input.score.after), threshold: input.mqlThreshold };
  }
  return null;
}

/** The timeline line of a stage change. */
export function describeStageMove(from: LifecycleStage, move: StageMove): string {
  const change = `Lifecycle stage ${from} → ${move.to}`;
  switch (move.reason) {
    case 'purchase':
      return `${change}: purchased`;
    case 'rule':
      return `${change}: rule "${move.ruleName}"`;
    case 'mql_threshold':
      return `${change}: score ${move.score} reached the MQL threshold ${move.threshold}`;
    case 'no_purchase':
      return `${change}: no purchase for ${move.days} days`;
    case 'reengagement_unsuccessful':
      return `${change}: no purchase within ${move.days} days of being at risk`;
    case 'sequence_step':
      return `${change}: sequence step "${move.stepKey}"`;
    default: {
      const unhandled: never = move;
      throw new Error(`Unhandled stage move ${JSON.stringify(unhandled)}`);
    }
  }
}

export function daysAfter(at: Date, days: number): Date {
  return new Date(at.getTime() + days * 86_400_000);
}
