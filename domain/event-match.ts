import type { EventMatch, PropertyMatcher } from './schemas/scoring';
import type { EventProperties, TrackedEventType } from './schemas/tracked-event';

/** What rules look at: the event's type and its small matchable properties. */
export interface EventFacts {
  type: TrackedEventType;
  properties: EventProperties;
}

/** A rule's condition as stored: the type is a string column, the match a JSON column. */
export interface EventCondition {
  eventType: string;
  match: EventMatch;
}

/** The event is of the rule's type and every matched property is present and matches. */
export function matchesEvent(condition: EventCondition, event: EventFacts): boolean {
  if (condition.eventType !== event.type) return false;
  const properties = event.properties as Record<string, string | number | undefined>;
  return Object.entries(condition.match).every(([name, matcher]) => matchesProperty(matcher, properties[name]));
}

/**
 * Strings compare without regard to case: marketers write `/Pricing` and sites link `/pricing`,
 * and URLs that differ only in case are the same page on nearly every site.
 */
function matchesProperty(matcher: PropertyMatcher, value: string | number | undefined): boolean {
  if (value === undefined) return false;
  if (typeof value === 'number') {
    return (matcher.equals === undefined || matcher.equals === value)
      && (matcher.gte === undefined || value >= matcher.gte)
      && (matcher.lte === undefined || value <= matcher.lte)
      && matcher.contains === undefined && matcher.prefix === undefined;
  }
  const text = value.toLowerCase();
  return (matcher.equals === undefined || (typeof matcher.equals === 'string' && matcher.equals.toLowerCase() === text))
    && (matcher.contains === undefined || text.includes(matcher.contains.toLowerCase()))
    && (matcher.prefix === undefined || text.startsWith(matcher.prefix.toLowerCase()))
    && matcher.gte === undefined && matcher.lte === undefined;
}
