import type { LifecycleStage } from './schemas/common';
import type { Condition, messageFacts } from './schemas/sequence';

export type MessageFact = (typeof messageFacts)[number];

/** What happened to the message an earlier email or sms step sent. */
export type MessageFacts = Record<MessageFact, boolean>;

/** Everything a branch condition may ask about one contact. */
export interface ConditionFacts {
  /** By step key: the message its latest visit sent; absent when it sent none (skipped, not reached). */
  messages: Record<string, MessageFacts | undefined>;
  lifecycleStage: LifecycleStage;
  tags: readonly string[];
  score: number;
  customFields: Readonly<Record<string, unknown>>;
}

/** Pure: the same facts always give the same branch. */
export function evaluateCondition(condition: Condition, facts: ConditionFacts): boolean {
  switch (condition.type) {
    case 'message':
      return facts.messages[condition.step]?.[condition.event] ?? false;
    case 'lifecycle':
      return condition.in.includes(facts.lifecycleStage);
    case 'tag':
      return facts.tags.includes(condition.has);
    case 'score':
      return (condition.gte === undefined || facts.score >= condition.gte) && (condition.lt === undefined || facts.score < condition.lt);
    case 'field': {
      const value = facts.customFields[condition.field];
      const present = value !== undefined && value !== null;
      return condition.exists !== undefined ? present === condition.exists : present && value === condition.equals;
    }
    case 'all':
      return condition.conditions.every((part) => evaluateCondition(part, facts));
    case 'any':
      return condition.conditions.some((part) => evaluateCondition(part, facts));
    case 'not':
      return !evaluateCondition(condition.condition, facts);
    default: {
      const unhandled: never = condition;
      throw new Error(`Unhandled condition ${JSON.stringify(unhandled)}`);
    }
  }
}

/** The step keys whose message facts a condition reads, so only those messages are loaded. */
export function messageStepsOf(condition: Condition): string[] {
  switch (condition.type) {
    case 'message':
      return [condition.step];
    case 'all':
    case 'any':
      return [...new Set(condition.conditions.flatMap(messageStepsOf))];
    case 'not':
      return messageStepsOf(condition.condition);
    default:
      return [];
  }
}

/**
 * Facts of one message from what was recorded about it: every status it reached (its status
 * history), the provider's event names (SendGrid `open`, `click`, `bounce`...; Twilio
 * `delivered`...) and whether a real reply (not an out-of-office note) answered it. A click
 * proves an open, and an open or click proves delivery, whatever order the webhooks came in.
 */
export function messageFactsFrom(recorded: { statuses: readonly string[]; events: readonly string[]; replied: boolean }): MessageFacts {
  const seen = new Set([...recorded.statuses, ...recorded.events]);
  const clicked = seen.has('clicked') || seen.has('click');
  const opened = clicked || seen.has('opened') || seen.has('open');
  return {
    delivered: opened || recorded.replied || seen.has('delivered'),
    opened,
    clicked,
    replied: recorded.replied,
    bounced: seen.has('bounced') || seen.has('bounce'),
  };
}
