import type { Metrics } from '../runtime/metrics';
import { createContactActivities } from './contacts';
import type { ActivityDeps } from './deps';
import { createEmailBounceActivities } from './email-bounces';
import { createEmailSendingActivities } from './email-sending';
import { createLeadRoutingActivities } from './lead-routing';
import type { MessagingDeps } from './providers';
import { createSmsSendingActivities } from './sms-sending';
import { createTaskActivities } from './tasks';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps & MessagingDeps) {
  return {
    ...createContactActivities(deps),
    ...createLeadRoutingActivities(deps),
    ...createTaskActivities(deps),
    ...createEmailSendingActivities(deps),
    ...createSmsSendingActivities(deps),
    ...createEmailBounceActivities(deps),
  };
}

/** The activity surface as workflows see it (they import this type only, never the code). */
export type Activities = ReturnType<typeof createActivities>;

/** Wraps every activity with outcome and duration metrics. */
export function instrumentActivities<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T, metrics: Metrics): T {
  const instrumented: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const [name, activity] of Object.entries(activities)) {
    instrumented[name] = async (...args: never[]) => {
      const stopTimer = metrics.activityDuration.startTimer({ activity: name });
      try {
        const result = await activity(...args);
        metrics.activityOutcomes.inc({ activity: name, outcome: 'completed' });
        return result;
      } catch (error) {
        metrics.activityOutcomes.inc({ activity: name, outcome: 'failed' });
        throw error;
      } finally {
        stopTimer();
      }
    };
  }
  return instrumented as T;
}
