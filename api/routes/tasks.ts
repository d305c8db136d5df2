import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors';
import { IdParamsSchema, pageSchema } from '../../domain/schemas/common';
import { TaskCompleteSchema, TaskListQuerySchema, TaskReassignSchema, TaskSchema, TaskSnoozeSchema } from '../../domain/schemas/task';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import type { Task } from '../../prisma/generated/client';
import type { ApiDeps } from '../deps';
import { principalOf, requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import { HttpProblem } from '../problem';
import { parseBody, parseParams, parseQuery } from '../validate';

const taskRoles = ['admin', 'sales_ops', 'rep', 'manager'] as const;

export function registerTaskDocs(registry: OpenAPIRegistry): void {
  const tags = ['Tasks'];
  registry.registerPath({
    method: 'get', path: '/v1/tasks', tags,
    summary: 'List tasks, earliest due first (so overdue come first); reps see only their own',
    request: { query: TaskListQuerySchema },
    responses: { 200: jsonBody('A page of tasks', pageSchema(TaskSchema, 'TaskPage')), ...problemResponses(400, 401, 403) },
  });
  for (const [action, schema, summary] of [
    ['complete', TaskCompleteSchema, 'Complete a task with an outcome (logs an activity on the contact)'],
    ['snooze', TaskSnoozeSchema, 'Move a task\'s due time'],
    ['reassign', TaskReassignSchema, 'Give the task to someone else (managers, sales ops, admins)'],
  ] as const) {
    registry.registerPath({
      method: 'post', path: `/v1/tasks/{id}/${action}`, tags, summary,
      request: { params: IdParamsSchema, body: { content: { 'application/json': { schema } } } },
      responses: { 200: jsonBody('The updated task', TaskSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
    });
  }
}

export function toTaskView(task: Task, now = new Date()) {
  return {
    id: task.id,
    type: task.type,
    title: task.title,
    description: task.description,
    dueAt: task.dueAt.toISOString(),
    overdue: task.status === 'open' && task.dueAt < now,
    priority: task.priority,
    status: task.status,
    assigneeId: task.assigneeId,
    contactId: task.contactId,
    dealId: task.dealId,
    source: { type: task.sourceType, ref: task.sourceRef },
    outcome: task.outcome,
    completedAt: task.completedAt?.toISOString() ?? null,
    createdAt: task.createdAt.toISOString(),
  };
}

export function tasksRouter({ prisma }: ApiDeps): Router {
  const router = Router();

  router.get('/', requireRole(...taskRoles), async (req, res) => {
    const query = parseQuery(TaskListQuerySchema, req);
    const principal = principalOf(req);
    const assigneeId = principal.role === 'rep' || query.assigneeId === 'me' ? ownUserId(req) : query.assigneeId;
    const cursor = decodeCursor(query.cursor);
    const rows = await prisma.task.findMany({
      where: {
        status: query.status,
        ...(assigneeId ? { assigneeId } : {}),
        ...(query.contactId ? { contactId: query.contactId } : {}),
        ...(query.dueBefore ? { dueAt: { lt: new Date(query.dueBefore) } } : {}),
        ...(cursor ? { OR: [{ dueAt: { gt: cursor.at } }, { dueAt: cursor.at, id: { gt: cursor.id } }] } : {}),
      },
      orderBy: [{ dueAt: 'asc' }, { id: 'asc' }],
      take: query.limit + 1,
    });
    const now = new Date();
    res.json(page(rows.map((task) => toTaskView(task, now)), query.limit, (task) => ({ at: new Date(task.dueAt), id: task.id })));
  });

  router.post('/:id/complete', requireRole(...taskRoles), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const body = parseBody(TaskCompleteSchema, req);
    const task = await prisma.$transaction(async (tx) => {
      const current = await loadOwnOpenTask(tx, req, id);
      const completed = await tx.task.update({ where: { id }, data: { status: 'completed', outcome: body.outcome, completedAt: new Date() } });
      if (current.contactId || current.dealId) {
        await tx.activity.create({
          data: {
            contactId: current.contactId,
            dealId: current.dealId,
            type: 'task_completed',
            actorUserId: principalOf(req).userId,
            subject: `Completed: ${current.title}`,
            data: { taskId: id, taskType: current.type, outcome: body.outcome, note: body.note ?? null },
          },
        });
      }
      return completed;
    });
    res.json(toTaskView(task));
  });

  router.post('/:id/snooze', requireRole(...taskRoles), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const body = parseBody(TaskSnoozeSchema, req);
    const until = new Date(body.until);
    if (until <= new Date()) throw new ValidationError([{ field: 'until', message: 'must be in the future' }]);
    const task = await prisma.$transaction(async (tx) => {
      await loadOwnOpenTask(tx, req, id);
      return tx.task.update({ where: { id }, data: { dueAt: until, snoozeCount: { increment: 1 } } });
    });
    res.json(toTaskView(task));
  });

  router.post('/:id/reassign', requireRole('admin', 'sales_ops', 'manager'), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const body = parseBody(TaskReassignSchema, req);
    const task = await prisma.$transaction(async (tx) => {
      await loadOwnOpenTask(tx, req, id);
      const assignee = await tx.user.findFirst({ where: { id: body.assigneeId, active: true }, select: { id: true } });
      if (!assignee) throw new ValidationError([{ field: 'assigneeId', message: 'is not an active user' }]);
      return tx.task.update({ where: { id }, data: { assigneeId: body.assigneeId } });
    });
    res.json(toTaskView(task));
  });

  return router;
}

/** Reps act only on their own tasks; a task that is not theirs looks like any missing task. */
async function loadOwnOpenTask(tx: Prisma.TransactionClient | PrismaClient, req: Request, id: string): Promise<Task> {
  const [task] = await (tx as Prisma.TransactionClient).$queryRaw<{ id: string }[]>`SELECT id FROM tasks WHERE id = ${id}::uuid FOR UPDATE`;
  const row = task ? await tx.task.findUnique({ where: { id } }) : null;
  const principal = principalOf(req);
  if (!row || (principal.role === 'rep' && row.assigneeId !== principal.userId)) throw new NotFoundError('Task', id);
  if (row.status !== 'open') throw new ConflictError(`Task ${id} is already ${row.status}.`);
  return row;
}

function ownUserId(req: Request): string {
  const { userId } = principalOf(req);
  if (!userId) throw new HttpProblem(400, 'no-user', 'This API key acts for no user.', 'Use assigneeId=<uuid>, or a key created for a user, to list "my" tasks.');
  return userId;
}

