import { digestContent, digestKeyPrefix, digestSourceKey, localDate } from '../domain/overdue-digest';
import type { Prisma } from '../runtime/prisma';
import type { ActivityDeps } from './deps';

export interface OverdueDigestRequest {
  managerId: string;
  /** The run's instant (ISO): "overdue" means due before it, and its date in `timeZone` keys the digest. */
  asOf: string;
  timeZone: string;
  topN: number;
  /** The digest run's workflow id, the new task's source link. */
  sourceRef: string;
}

export type OverdueDigestOutcome = { status: 'created' | 'existing'; taskId: string } | { status: 'nothing_overdue' };

/** Open tasks of a manager's direct reports that were due before `asOf`; digests themselves never count. */
function overdueOnTeam(managerId: string, asOf: Date): Prisma.TaskWhereInput {
  return {
    status: 'open',
    dueAt: { lt: asOf },
    assignee: { managerId },
    // NOT alone would drop tasks without a source key (SQL NULL), so they are let in explicitly.
    OR: [{ sourceKey: null }, { NOT: { sourceKey: { startsWith: digestKeyPrefix() } } }],
  };
}

export function createOverdueDigestActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    /** Active managers with at least one overdue task among their reports, in id order. */
    async listManagersWithOverdueTasks({ asOf }: { asOf: string }): Promise<string[]> {
      const rows = await prisma.$queryRaw<{ id: string }[]>`
        SELECT DISTINCT m.id
          FROM tasks t
          JOIN users u ON u.id = t.assignee_id
          JOIN users m ON m.id = u.manager_id
         WHERE t.status = 'open' AND t.due_at < ${new Date(asOf)} AND m.active
           AND (t.source_key IS NULL OR t.source_key NOT LIKE ${`${digestKeyPrefix()}%`})
         ORDER BY m.id`;
      return rows.map((row) => row.id);
    },

    /**
     * One review task for the manager for the day, keyed `digest:{managerId}:{date}`: a rerun
     * the same day finds it. A still-open digest of an earlier day is cancelled, since today's
     * replaces it.
     */
    async createOverdueDigestTask(request: OverdueDigestRequest): Promise<OverdueDigestOutcome> {
      const asOf = new Date(request.asOf);
      const sourceKey = digestSourceKey(request.managerId, localDate(asOf, request.timeZone));
      const existing = await prisma.task.findUnique({ where: { sourceKey }, select: { id: true } });
      if (existing) return { status: 'existing', taskId: existing.id };

      const where = overdueOnTeam(request.managerId, asOf);
      const total = await prisma.task.count({ where });
      // Done since the manager was listed: nothing to review.
      if (total === 0) return { status: 'nothing_overdue' };
      const manager = await prisma.user.findUniqueOrThrow({ where: { id: request.managerId }, select: { timeZone: true } });
      const top = await prisma.task.findMany({
        where,
        orderBy: [{ priority: 'desc' }, { dueAt: 'asc' }, { id: 'asc' }],
        take: request.topN,
        select: { id: true, title: true, priority: true, dueAt: true, assignee: { select: { name: true } } },
      });
      const content = digestContent({
        total,
        lines: top.map((task) => ({ id: task.id, title: task.title, priority: task.priority, dueAt: task.dueAt, assigneeName: task.assignee.name })),
        asOf,
        managerTimeZone: manager.timeZone,
      });

      return prisma.$transaction(async (tx): Promise<OverdueDigestOutcome> => {
        // The unique source key is the guard: a concurrent run of the same day inserts nothing.
        const inserted = await tx.task.createMany({
          data: [{ type: 'review', priority: 'normal', title: content.title, description: content.description, dueAt: content.dueAt, assigneeId: request.managerId, sourceType: 'workflow', sourceRef: request.sourceRef, sourceKey }],
          skipDuplicates: true,
        });
        const task = await tx.task.findUniqueOrThrow({ where: { sourceKey }, select: { id: true } });
        await tx.task.updateMany({
          where: { assigneeId: request.managerId, status: 'open', sourceKey: { startsWith: digestKeyPrefix(request.managerId), not: sourceKey } },
          data: { status: 'cancelled' },
        });
        return { status: inserted.count === 1 ? 'created' : 'existing', taskId: task.id };
      });
    },
  };
}
