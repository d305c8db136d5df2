import type { LifecycleStage } from './schemas/common';
import type { ExitEvent, SequenceSettings, StopReason } from './schemas/sequence';

/** What happened to the contact, as the enrollment workflow's enrollmentEvent signal reports it. */
export interface ContactEventFacts {
  kind: Exclude<ExitEvent, 'lifecycle_reached'> | 'lifecycle_changed' | 'contact_deleted';
  stage?: LifecycleStage | undefined;
}

/** The funnel order; at_risk and churned are off it and only "reach" themselves. */
const funnel: readonly LifecycleStage[] = ['lead', 'mql', 'sql', 'customer'];

/** True when `stage` is `target` or further down the funnel lead < mql < sql < customer. */
export function hasReachedStage(stage: LifecycleStage, target: LifecycleStage): boolean {
  if (stage === target) return true;
  const at = funnel.indexOf(stage);
  const wanted = funnel.indexOf(target);
  return at >= 0 && wanted >= 0 && at > wanted;
}

/**
 * Why this event ends the enrollment, or null when it does not. A deleted contact, an
 * unsubscribe and a bounce always end it; the others only when the sequence's exitOn lists
 * them; a stage change only when it reaches exitLifecycleStage.
 */
export function exitReasonFor(event: ContactEventFacts, settings: Pick<SequenceSettings, 'exitOn' | 'exitLifecycleStage'>): StopReason | null {
  switch (event.kind) {
    case 'contact_deleted':
    case 'unsubscribed':
    case 'bounced':
      return event.kind;
    case 'lifecycle_changed':
      return settings.exitOn.includes('lifecycle_reached') && settings.exitLifecycleStage && event.stage && hasReachedStage(event.stage, settings.exitLifecycleStage)
        ? 'lifecycle_reached'
        : null;
    case 'replied':
    case 'company_replied':
    case 'meeting_booked':
    case 'purchased':
    case 'deal_created':
      return settings.exitOn.includes(event.kind) ? event.kind : null;
    default: {
      const unhandled: never = event.kind;
      throw new Error(`Unhandled contact event ${String(unhandled)}`);
    }
  }
}
