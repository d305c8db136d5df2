import { ValidationError } from '../../domain/errors';
import type { TaskCreate, TaskListQuery } from '../../domain/schemas/task';
import { manualTaskSource } from '../../domain/task-source';
import type { Task } from '../../prisma/generated/client';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import { actingUserId, type Principal } from '../middleware/auth';
import type { Cursor } from '../pagination';

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Whose tasks a caller may see and act on: a rep their own, a manager their own and their
 * direct reports', sales ops and admins everyone's. A task outside this scope is answered as
 * if it did not exist (404), so ids cannot be probed.
 */
export function visibleTasks(principal: Principal): Prisma.TaskWhereInput {
  switch (principal.role) {
    case 'admin':
    case 'sales_ops':
      return {};
    case 'manager': {
      const userId = actingUserId(principal);
      return { OR: [{ assigneeId: userId }, { assignee: { managerId: userId } }] };
    }
    case 'rep':
      return { assigneeId: actingUserId(principal) };
    case 'marketer':
      // Routes keep marketers out; should one get here, they see nothing rather than everything.
      return { id: { in: [] } };
  }
}

/** The inbox: visible tasks matching the filters, earliest due first so overdue ones lead. */
export async function listTasks(prisma: PrismaClient, principal: Principal, query: TaskListQuery, cursor: Cursor | undefined): Promise<Task[]> {
  const assigneeId = query.assigneeId === 'me' ? actingUserId(principal) : query.assigneeId;
  return prisma.task.findMany({
    where: {
      AND: [
        visibleTasks(principal),
        {
          status: query.status,
          ...(assigneeId ? { assigneeId } : {}),
          ...(query.type ? { type: { in: query.type } } : {}),
          ...(query.priority ? { priority: { in: query.priority } } : {}),
          ...(query.sourceType ? { sourceType: { in: query.sourceType } } : {}),
          ...(query.contactId ? { contactId: query.contactId } : {}),
          ...(query.dealId ? { dealId: query.dealId } : {}),
          ...(query.dueAfter || query.dueBefore
            ? { dueAt: { ...(query.dueAfter ? { gte: new Date(query.dueAfter) } : {}), ...(query.dueBefore ? { lt: new Date(query.dueBefore) } : {}) } }
            : {}),
        },
        ...(cursor ? [{ OR: [{ dueAt: { gt: cursor.at } }, { dueAt: cursor.at, id: { gt: cursor.id } }] }] : []),
      ],
    },
    orderBy: [{ dueAt: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
  });
}

export async function findVisibleTask(db: Db, principal: Principal, id: string): Promise<Task | null> {
  return db.task.findFirst({ where: { AND: [{ id }, visibleTasks(principal)] } });
}

/** A task someone writes by hand (`sourceType` manual, linked to its creator). */
export async function createManualTask(prisma: PrismaClient, principal: Principal, input: TaskCreate, requestId: string): Promise<Task> {
  const assigneeId = input.assigneeId ?? principal.userId;
  if (!assigneeId) throw new ValidationError([{ field: 'assigneeId', message: 'is required with an API key that acts for no user' }]);
  return prisma.$transaction(async (tx) => {
    await assertMayAssignTo(tx, principal, assigneeId);
    await assertLinksExist(tx, principal, input);
    const task = await tx.task.create({
      data: {
        type: input.type,
        title: input.title,
        description: input.description ?? null,
        dueAt: new Date(input.dueAt),
        priority: input.priority,
        assigneeId,
        contactId: input.contactId ?? null,
        dealId: input.dealId ?? null,
        ...manualTaskSource(principal),
      },
    });
    await tx.auditLog.create({
      data: { actorType: 'api_key', actorId: principal.apiKeyId, action: 'task.created', entityType: 'task', entityId: task.id, after: { assigneeId, type: task.type, dueAt: task.dueAt.toISOString() }, requestId },
    });
    return task;
  });
}

/**
 * Who may be given a task: an active user, and for a rep only themselves, for a manager only
 * themselves or a direct report. Sales ops and admins may give tasks to anyone.
 */
export async function assertMayAssignTo(db: Db, principal: Principal, assigneeId: string): Promise<void> {
  const assignee = await db.user.findFirst({ where: { id: assigneeId, active: true }, select: { id: true, managerId: true } });
  if (!assignee) throw new ValidationError([{ field: 'assigneeId', message: 'is not an active user' }]);
  if (principal.role === 'rep' && assigneeId !== principal.userId) {
    throw new ValidationError([{ field: 'assigneeId', message: 'reps can give tasks only to themselves' }]);
  }
  if (principal.role === 'manager' && assigneeId !== principal.userId && assignee.managerId !== principal.userId) {
    throw new ValidationError([{ field: 'assigneeId', message: 'is not you or one of your reports' }]);
  }
}

/** The linked records exist; a rep may link only a deal they own (another rep's deal reads as missing). */
async function assertLinksExist(db: Db, principal: Principal, input: Pick<TaskCreate, 'contactId' | 'dealId'>): Promise<void> {
  const contact = input.contactId ? await db.contact.findFirst({ where: { id: input.contactId, deletedAt: null }, select: { id: true } }) : null;
  const deal = input.dealId
    ? await db.deal.findFirst({ where: { id: input.dealId, deletedAt: null, ...(principal.role === 'rep' ? { ownerId: actingUserId(principal) } : {}) }, select: { id: true } })
    : null;
  const errors = [
    ...(input.contactId && !contact ? [{ field: 'contactId', message: 'is not an existing contact' }] : []),
    ...(input.dealId && !deal ? [{ field: 'dealId', message: 'is not an existing deal' }] : []),
  ];
  if (errors.length > 0) throw new ValidationError(errors);
}
