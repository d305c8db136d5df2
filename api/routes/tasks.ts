import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors';
import { IdParamsSchema, pageSchema } from '../../domain/schemas/common';
import { TaskCompleteSchema, TaskCreateSchema, TaskListQuerySchema, TaskReassignSchema, TaskSchema, TaskSnoozeSchema } from '../../domain/schemas/task';
import { taskSourceLink } from '../../domain/task-source';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import type { Task } from '../../prisma/generated/client';
import type { ApiDeps } from '../deps';
import { principalOf, requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import { assertMayAssignTo, createManualTask, findVisibleTask, listTasks } from '../services/task-inbox';
import { parseBody, parseParams, parseQuery } from '../validate';
import type { WorkflowGateway } from '../workflow-gateway';

const taskRoles = ['admin', 'sales_ops', 'rep', 'manager'] as const;

export function registerTaskDocs(registry: OpenAPIRegistry): void {
  const tags = ['Tasks'];
  registry.registerPath({
    method: 'get', path: '/v1/tasks', tags,
    summary: 'The task inbox: open tasks, earliest due first (so overdue come first)',
    description: 'Reps see only their own tasks, managers their own and their direct reports\', sales ops and admins all. `source.link` says which workflow, trigger or sequence step created a task.',
    request: { query: TaskListQuerySchema },
    responses: { 200: jsonBody('A page of tasks', pageSchema(TaskSchema, 'TaskPage')), ...problemResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/tasks', tags, summary: 'Create a task by hand (source `manual`)',
    request: { body: { content: { 'application/json': { schema: TaskCreateSchema } } } },
    responses: { 201: jsonBody('The new task', TaskSchema), ...problemResponses(400, 401, 403, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/tasks/{id}', tags, summary: 'One task (a task outside the caller\'s scope is a 404)',
    request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The task', TaskSchema), ...problemResponses(400, 401, 403, 404) },
  });
  for (const [action, schema, summary] of [
    ['complete', TaskCompleteSchema, 'Complete a task with an outcome (logs an activity on the contact)'],
    ['snooze', TaskSnoozeSchema, 'Move a task\'s due time'],
    ['reassign', TaskReassignSchema, 'Give the task to someone else (a manager within their team, sales ops, admins)'],
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
    source: { type: task.sourceType, ref: task.sourceRef, link: taskSourceLink(task.sourceType, task.sourceRef, task.sourceKey) },
    outcome: task.outcome,
    completedAt: task.completedAt?.toISOString() ?? null,
    createdAt: task.createdAt.toISOString(),
  };
}

export function tasksRouter({ prisma }: ApiDeps, gateway: WorkflowGateway): Router {
  const router = Router();

  router.get('/', requireRole(...taskRoles), async (req, res) => {
    const query = parseQuery(TaskListQuerySchema, req);
    const rows = await listTasks(prisma, principalOf(req), query, decodeCursor(query.cursor));
    const now = new Date();
    res.json(page(rows.map((task) => toTaskView(task, now)), query.limit, (task) => ({ at: new Date(task.dueAt), id: task.id })));
  });

  router.post('/', requireRole(...taskRoles), async (req, res) => {
    const input = parseBody(TaskCreateSchema, req);
    const task = await createManualTask(prisma, principalOf(req), input, String(req.id));
    res.status(201).location(`/v1/tasks/${task.id}`).json(toTaskView(task));
  });

  router.get('/:id', requireRole(...taskRoles), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const task = await findVisibleTask(prisma, principalOf(req), id);
    if (!task) throw new NotFoundError('Task', id);
    res.json(toTaskView(task));
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
    // A call step of a sequence waits for this; it also re-reads the task daily should this signal be lost.
    if (task.sourceType === 'sequence' && task.sourceRef) await gateway.signalTaskCompleted(task.sourceRef, task.id);
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
      const current = await loadOwnOpenTask(tx, req, id);
      await assertMayAssignTo(tx, principalOf(req), body.assigneeId);
      await tx.auditLog.create({
        data: { actorType: 'api_key', actorId: principalOf(req).apiKeyId, action: 'task.reassigned', entityType: 'task', entityId: id, before: { assigneeId: current.assigneeId }, after: { assigneeId: body.assigneeId }, requestId: String(req.id) },
      });
      return tx.task.update({ where: { id }, data: { assigneeId: body.assigneeId } });
    });
    res.json(toTaskView(task));
  });

  return router;
}

/** Callers act only on tasks in their scope (services/task-inbox.ts); any other task looks like a missing one. */
async function loadOwnOpenTask(tx: Prisma.TransactionClient | PrismaClient, req: Request, id: string): Promise<Task> {
  const [task] = await (tx as Prisma.TransactionClient).$queryRaw<{ id: string }[]>`SELECT id FROM tasks WHERE id = ${id}::uuid FOR UPDATE`;
  const row = task ? await findVisibleTask(tx, principalOf(req), id) : null;
  if (!row) throw new NotFoundError('Task', id);
  if (row.status !== 'open') throw new ConflictError(`Task ${id} is already ${row.status}.`);
  return row;
}

