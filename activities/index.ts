import type { Metrics } from '../runtime/metrics';
import { createBulkEnrollmentActivities } from './bulk-enrollment';
import { createContactActivities } from './contacts';
import { createDealIdleActivities } from './deal-idle';
import type { ActivityDeps } from './deps';
import { createDuplicateAuditActivities } from './duplicate-audit';
import { createEmailBounceActivities } from './email-bounces';
import { createEmailSendingActivities } from './email-sending';
import { createEnrollmentNotifyActivities } from './enrollment-notify';
import { createEnrollmentActivities } from './enrollments';
import { createImportActivities, type ImportDeps } from './import';
import { createLeadRoutingActivities } from './lead-routing';
import { createLifecycleActivities } from './lifecycle';
import { createOverdueDigestActivities } from './overdue-digest';
import type { MessagingDeps } from './providers';
import { createRetentionActivities } from './retention';
import { createSequenceMigrationActivities } from './sequence-migration';
import { createSequenceRunActivities } from './sequence-run';
import { createSequenceTimingActivities } from './sequence-timing';
import { createSmsSendingActivities } from './sms-sending';
import { createTaskActivities } from './tasks';
import { createTriggerFiringActivities } from './trigger-firing';
import { createUserEmailActivities } from './user-email';
import { createWebhookActivities, type WebhookDeps } from './webhooks';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps & MessagingDeps & WebhookDeps & ImportDeps) {
  return {
    ...createContactActivities(deps),
    ...createLeadRoutingActivities(deps),
    ...createOverdueDigestActivities(deps),
    ...createTaskActivities(deps),
    ...createEmailSendingActivities(deps),
    ...createSmsSendingActivities(deps),
    ...createEmailBounceActivities(deps),
    ...createDuplicateAuditActivities(deps),
    ...createImportActivities(deps),
    ...createEnrollmentActivities(deps),
    ...createBulkEnrollmentActivities(deps),
    ...createSequenceRunActivities(deps),
    ...createSequenceMigrationActivities(deps),
    ...createRetentionActivities(deps),
    ...createSequenceTimingActivities(deps),
    ...createEnrollmentNotifyActivities(deps),
    ...createLifecycleActivities(deps),
    ...createDealIdleActivities(deps),
    ...createTriggerFiringActivities(deps),
    ...createUserEmailActivities(deps),
    ...createWebhookActivities(deps),
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
