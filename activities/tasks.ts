import { addBusinessDays } from '../domain/business-time';
import type { ActivityDeps } from './deps';

export interface FollowUpTaskRequest {
  contactId: string;
  assigneeId: string;
  /** Business key of the automation step; a retry finds the task it already created. */
  sourceKey: string;
  sourceRef: string;
  title: string;
  businessDaysDue: number;
}

export function createTaskActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    async createFollowUpTask(request: FollowUpTaskRequest): Promise<{ taskId: string }> {
      const existing = await prisma.task.findUnique({ where: { sourceKey: request.sourceKey }, select: { id: true } });
      if (existing) return { taskId: existing.id };
      const assignee = await prisma.user.findUniqueOrThrow({ where: { id: request.assigneeId }, select: { timeZone: true } });
      // The insert is the idempotency guard: a concurrent duplicate loses on the unique key.
      const [created] = await prisma.$queryRaw<{ id: string }[]>`
        INSERT INTO tasks (id, type, title, due_at, priority, status, assignee_id, contact_id, source_type, source_ref, source_key, updated_at)
        VALUES (gen_random_uuid(), 'follow_up', ${request.title}, ${addBusinessDays(new Date(), request.businessDaysDue, assignee.timeZone)},
                'normal', 'open', ${request.assigneeId}::uuid, ${request.contactId}::uuid, 'workflow', ${request.sourceRef}, ${request.sourceKey}, now())
        ON CONFLICT (source_key) DO NOTHING
        RETURNING id`;
      if (created) return { taskId: created.id };
      const winner = await prisma.task.findUniqueOrThrow({ where: { sourceKey: request.sourceKey }, select: { id: true } });
      return { taskId: winner.id };
    },
  };
}
