import { z } from 'zod';
import { CursorQuerySchema, IdSchema } from './common';

export const taskTypes = ['call', 'email', 'follow_up', 'fix_data', 'review'] as const;
export const taskPriorities = ['low', 'normal', 'high', 'urgent'] as const;
export const taskStatuses = ['open', 'completed', 'cancelled'] as const;

export const TaskListQuerySchema = CursorQuerySchema.extend({
  assigneeId: z.union([IdSchema, z.literal('me')]).optional().meta({ description: '`me` is the caller; reps always see only their own.' }),
  status: z.enum(taskStatuses).default('open'),
  dueBefore: z.iso.datetime({ offset: true }).optional(),
  contactId: IdSchema.optional(),
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
    source: z.object({ type: z.string(), ref: z.string().nullable() }),
    outcome: z.string().nullable(),
    completedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Task' });
