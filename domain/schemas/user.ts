import { z } from 'zod';
import { CursorQuerySchema, EmailSchema, IdSchema, NameSchema, TimeZoneSchema, UserRoleSchema } from './common';

const LeadCapacitySchema = z
  .int()
  .min(0)
  .max(100_000)
  .nullable()
  .meta({ description: 'Most open leads (owned contacts in stage `lead` or `mql`) the user may have before lead routing skips them; null: no limit.' });

const ManagerIdSchema = IdSchema.nullable().meta({
  description: 'An active user with role `manager`, not the user themselves nor anyone who reports to them (directly or further down). Escalations of the user\'s idle deals go there, and that manager sees the user\'s tasks and deals.',
});

const TimeZoneField = TimeZoneSchema.meta({ description: 'IANA time zone; the user\'s business days (idle-deal limits, task due dates) are counted in it.' });

export const UserCreateSchema = z
  .strictObject({
    email: EmailSchema.meta({ description: 'Unique among users (409 otherwise).' }),
    name: NameSchema,
    role: UserRoleSchema,
    managerId: ManagerIdSchema.optional(),
    timeZone: TimeZoneField.default('UTC'),
    leadCapacity: LeadCapacitySchema.optional(),
  })
  .meta({ id: 'UserCreate' });
export type UserCreate = z.infer<typeof UserCreateSchema>;

export const UserUpdateSchema = z
  .strictObject({
    email: EmailSchema.optional(),
    name: NameSchema.optional(),
    role: UserRoleSchema.optional().meta({ description: 'The user\'s unrevoked API keys take the new role too. A manager with active reports keeps the role until they have another manager.' }),
    managerId: ManagerIdSchema.optional(),
    timeZone: TimeZoneField.optional(),
    leadCapacity: LeadCapacitySchema.optional(),
  })
  .superRefine((patch, ctx) => {
    if (Object.keys(patch).length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'the body must change at least one field' });
  })
  .meta({ id: 'UserUpdate' });
export type UserUpdate = z.infer<typeof UserUpdateSchema>;

export const UserListQuerySchema = CursorQuerySchema.extend({
  role: UserRoleSchema.optional(),
  active: z.stringbool().optional(),
  managerId: IdSchema.optional().meta({ description: 'Direct reports of this user.' }),
  email: EmailSchema.optional(),
}).strict();
export type UserListQuery = z.infer<typeof UserListQuerySchema>;

export const UserSchema = z
  .object({
    id: IdSchema,
    email: z.string(),
    name: z.string(),
    role: UserRoleSchema,
    managerId: IdSchema.nullable(),
    timeZone: z.string(),
    active: z.boolean(),
    leadCapacity: z.int().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'User' });
export type UserView = z.infer<typeof UserSchema>;

export const UserDeactivationSchema = z
  .object({
    user: UserSchema,
    stillOwned: z
      .object({
        openTasks: z.int(),
        openDeals: z.int(),
        directReports: z.int().meta({ description: 'Active users whose manager they are; their escalations still go to this user.' }),
        routingRules: z.int().meta({ description: 'Routing rules whose team names the user; routing skips them there.' }),
      })
      .meta({ description: 'What the user still holds, left as it is: reassign it (`POST /v1/tasks/{id}/reassign`, `PATCH /v1/deals/{id}`, `PATCH /v1/users/{id}`, `PATCH /v1/routing-rules/{id}`).' }),
    revokedApiKeys: z.int().meta({ description: 'API keys of the user revoked by this deactivation.' }),
  })
  .meta({ id: 'UserDeactivation' });
export type UserDeactivation = z.infer<typeof UserDeactivationSchema>;

export const ApiKeyCreateSchema = z
  .strictObject({ name: z.string().trim().min(1).max(200).meta({ description: 'A label, such as the device or integration the key is for.' }) })
  .meta({ id: 'ApiKeyCreate' });
export type ApiKeyCreate = z.infer<typeof ApiKeyCreateSchema>;

export const ApiKeySchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    prefix: z.string().meta({ description: 'Public part of the key, `tp_<prefix>_...`.' }),
    role: UserRoleSchema,
    userId: IdSchema.nullable(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyView = z.infer<typeof ApiKeySchema>;

export const ApiKeyCreatedSchema = ApiKeySchema.extend({
  key: z.string().meta({ description: 'The key, shown in this response only: Touchpoint stores its SHA-256 hash.' }),
}).meta({ id: 'ApiKeyCreated' });

export const ApiKeyListSchema = z.object({ data: z.array(ApiKeySchema) }).meta({ id: 'ApiKeyList' });
