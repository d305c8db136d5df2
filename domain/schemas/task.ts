import { z } from 'zod';
import { taskSourceTypes } from '../task-source';
import { CursorQuerySchema, IdSchema } from './common';

export const taskTypes = ['call', 'email', 'follow_up', 'fix_data', 'review'] as const;
export const taskPriorities = ['low', 'normal', 'high', 'urgent'] as const;
export const taskStatuses = ['open', 'completed', 'cancelled'] as const;

/** A filter that takes one value or several, comma-separated (`priority=high,urgent`) or repeated. */
function oneOrMore<const T extends readonly [string, ...string[]]>(values: T) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((raw) => (Array.isArray(raw) ? raw : [raw]).flatMap((value) => value.split(',')).map((value) => value.trim()))
    .pipe(z.array(z.enum(values)).min(1))
    .optional()
    .meta({ description: `One or more of ${values.join(', ')}, comma-separated.` });
}

export const TaskListQuerySchema = CursorQuerySchema.extend({
  assigneeId: z.union([IdSchema, z.literal('me')]).optional().meta({ description: '`me` is the caller. Reps always see only their own tasks, managers their own and their reports\'.' }),
  status: z.enum(taskStatuses).default('open'),
  type: oneOrMore(taskTypes),
  priority: oneOrMore(taskPriorities),
  sourceType: oneOrMore(taskSourceTypes),
  dueAfter: z.iso.datetime({ offset: true }).optional().meta({ description: 'Due at or after this time.' }),
  dueBefore: z.iso.datetime({ offset: true }).optional().meta({ description: 'Due before this time; `dueBefore=<now>` lists the overdue ones.' }),
  contactId: IdSchema.optional(),
  dealId: IdSchema.optional(),
}).strict();
export type TaskListQuery = z.infer<typeof TaskListQuerySchema>;

export const TaskCompleteSchema = z
  .strictObject({
    outcome: z.string().trim().min(1).max(200).meta({ example: 'connected: booked a demo' }),
    note: z.string().trim().max(5000).optional(),
  })
  .meta({ id: 'TaskComplete' });

export const TaskSnoozeSchema = z
  .strictObject({
    until: z.iso.datetime({ offset: true }).meta({ description: 'New due time; must be in the future.' }),
  })
  .meta({ id: 'TaskSnooze' });

export const TaskReassignSchema = z.strictObject({ assigneeId: IdSchema }).meta({ id: 'TaskReassign' });

export const TaskCreateSchema = z
  .strictObject({
    type: z.enum(taskTypes),
    title: z.string().trim().min(1).max(200).meta({ example: 'Call back about the renewal' }),
    description: z.string().trim().max(5000).optional(),
    dueAt: z.iso.datetime({ offset: true }),
    priority: z.enum(taskPriorities).default('normal'),
    assigneeId: IdSchema.optional().meta({ description: 'Defaults to the caller. Reps assign only to themselves, managers to themselves or their reports.' }),
    contactId: IdSchema.optional(),
    dealId: IdSchema.optional(),
  })
  .meta({ id: 'TaskCreate' });
export type TaskCreate = z.infer<typeof TaskCreateSchema>;

/** See domain/task-source.ts for how each kind is stored. */
export const TaskSourceLinkSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('manual'), userId: IdSchema.nullable(), apiKeyId: IdSchema.nullable() }),
    z.object({ kind: z.literal('workflow'), workflowId: z.string() }),
    z.object({ kind: z.literal('trigger'), triggerId: IdSchema, stageChangeId: IdSchema.nullable(), actionIndex: z.number().int().nullable() }),
    z.object({ kind: z.literal('sequence'), sequenceId: IdSchema, workflowId: z.string(), enrollmentId: IdSchema.nullable(), stepKey: z.string().nullable() }),
  ])
  .meta({ id: 'TaskSourceLink', description: 'What created the task, as ids: the manual creator, the workflow, the trigger (and stage change and action), or the sequence step.' });

export const TaskSchema = z
  .object({
    id: IdSchema,
    type: z.enum(taskTypes),
    title: z.string(),
    description: z.string().nullable(),
    dueAt: z.string(),
    overdue: z.boolean(),
    priority: z.enum(taskPriorities),
    status: z.enum(taskStatuses),
    assigneeId: IdSchema,
    contactId: IdSchema.nullable(),
    dealId: IdSchema.nullable(),
    source: z.object({ type: z.string(), ref: z.string().nullable(), link: TaskSourceLinkSchema.nullable() }),
    outcome: z.string().nullable(),
    completedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Task' });
