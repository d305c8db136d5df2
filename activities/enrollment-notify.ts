import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { LifecycleStage } from '../domain/schemas/common';
import { SequenceSettingsSchema } from '../domain/schemas/sequence';
import { enrollmentEventSignal, type EnrollmentEvent } from '../workflows/enrollment-messages';
import type { ActivityDeps } from './deps';

export interface EnrollmentNotice {
  contactId: string;
  /** Id of the record behind the event; every enrollment dedupes its signals by it. */
  eventId: string;
  kind: EnrollmentEvent['kind'];
  stage?: LifecycleStage;
}

const liveStatuses = ['active', 'paused'] as const;
/** Signals in flight at once: a company with many enrolled contacts is told in slices. */
const signalBatch = 20;

/**
 * Forwards what happened to a contact to each of its running enrollments, which decide by
 * their own sequence's exitOn whether it ends them. A reply also reaches the enrollments of
 * the contact's colleagues (same company) whose sequence exits on `company_replied`.
 *
 * The signals go through the worker's own client (`Context.current().client`, @temporalio/activity
 * 1.24), so the activity needs no connection of its own. Signalling is idempotent: a retry
 * signals again and each workflow ignores an event id it has already seen.
 */
export function createEnrollmentNotifyActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  async function companyReplyTargets(contactId: string): Promise<string[]> {
    const contact = await prisma.contact.findUnique({ where: { id: contactId }, select: { companyId: true } });
    if (!contact?.companyId) return [];
    const colleagues = await prisma.enrollment.findMany({
      where: { status: { in: [...liveStatuses] }, contactId: { not: contactId }, contact: { companyId: contact.companyId } },
      select: { workflowId: true, sequenceId: true, version: true },
    });
    if (colleagues.length === 0) return [];
    const versions = await prisma.sequenceVersion.findMany({
      where: { OR: [...new Map(colleagues.map((row) => [`${row.sequenceId}:${row.version}`, { sequenceId: row.sequenceId, version: row.version }])).values()] },
      select: { sequenceId: true, version: true, definition: true },
    });
    const listening = new Set(
      versions
        .filter((row) => SequenceSettingsSchema.safeParse((row.definition as { settings?: unknown }).settings ?? {}).data?.exitOn.includes('company_replied'))
        .map((row) => `${row.sequenceId}:${row.version}`),
    );
    return colleagues.filter((row) => listening.has(`${row.sequenceId}:${row.version}`)).map((row) => row.workflowId);
  }

  return {
    async notifyEnrollments(notice: EnrollmentNotice): Promise<{ signalled: number }> {
      const { client } = Context.current();
      const own = await prisma.enrollment.findMany({ where: { contactId: notice.contactId, status: { in: [...liveStatuses] } }, select: { workflowId: true } });
      const event: EnrollmentEvent = { eventId: notice.eventId, kind: notice.kind, ...(notice.stage ? { stage: notice.stage } : {}) };
      const targets = own.map((row) => ({ workflowId: row.workflowId, event }));
      if (notice.kind === 'replied') {
        for (const workflowId of await companyReplyTargets(notice.contactId)) targets.push({ workflowId, event: { eventId: notice.eventId, kind: 'company_replied' } });
      }
      let signalled = 0;
      for (let start = 0; start < targets.length; start += signalBatch) {
        const results = await Promise.all(
          targets.slice(start, start + signalBatch).map(async ({ workflowId, event: payload }): Promise<number> => {
            try {
              await client.workflow.getHandle(workflowId).signal(enrollmentEventSignal, payload);
              return 1;
            } catch (error) {
              // The enrollment ended between the read and the signal: nothing left to tell.
              if (error instanceof WorkflowNotFoundError) return 0;
              throw error;
            }
          }),
        );
        signalled += results.reduce((sum, one) => sum + one, 0);
      }
      return { signalled };
    },
  };
}
