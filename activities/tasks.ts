import { addBusinessDays } from '../domain/business-time';
import type { taskPriorities, taskTypes } from '../domain/schemas/task';
import type { ActivityDeps } from './deps';

type TaskType = (typeof taskTypes)[number];
type TaskPriority = (typeof taskPriorities)[number];

export interface FollowUpTaskRequest {
  contactId: string | null;
  /** The deal it is about (idle-deal escalations, stage-move triggers). */
  dealId?: string | null;
  assigneeId: string;
  /** Business key of the automation step; a retry finds the task it already created. */
  sourceKey: string;
  sourceRef: string;
  title: string;
  businessDaysDue: number;
  /** Defaults: a normal-priority follow_up created by a `workflow`. */
  type?: TaskType;
  priority?: TaskPriority;
  description?: string | null;
  /** What created it: workflow, trigger, sequence (the tasks API signals sequence tasks on completion). */
  sourceType?: string;
}

export function createTaskActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    async createFollowUpTask(request: FollowUpTaskRequest): Promise<{ taskId: string }> {
      const existing = await prisma.task.findUnique({ where: { sourceKey: request.sourceKey }, select: { id: true } });
      if (existing) return { taskId: existing.id };
      const assignee = await prisma.user.findUniqueOrThrow({ where: { id: request.assigneeId }, select: { timeZone: true } });
      // The insert is the idempotency guard: a concurrent duplicate loses on the unique key.
      const [created] = await prisma.$queryRaw<{ id: string }[]>`
        INSERT INTO tasks (id, type, title, description, due_at, priority, status, assignee_id, contact_id, deal_id, source_type, source_ref, source_key, updated_at)
        VALUES (gen_random_uuid(), ${request.type ?? 'follow_up'}::"TaskType", ${request.title}, ${request.description ?? null},
                ${addBusinessDays(new Date(), request.businessDaysDue, assignee.timeZone)}, ${request.priority ?? 'normal'}::"TaskPriority", 'open',
                ${request.assigneeId}::uuid, ${request.contactId}::uuid, ${request.dealId ?? null}::uuid, ${request.sourceType ?? 'workflow'}, ${request.sourceRef}, ${request.sourceKey}, now())
        ON CONFLICT (source_key) DO NOTHING
        RETURNING id`;
      if (created) return { taskId: created.id };
      const winner = await prisma.task.findUniqueOrThrow({ where: { sourceKey: request.sourceKey }, select: { id: true } });
      return { taskId: winner.id };
    },
  };
}
