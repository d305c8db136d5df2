import { z } from 'zod';
import {
  CountrySchema,
  CursorQuerySchema,
  CustomFieldsSchema,
  EmailSchema,
  IdSchema,
  LifecycleStageSchema,
  NameSchema,
  PhoneSchema,
  TagSchema,
  TimeZoneSchema,
} from './common';

const addressStatuses = ['valid', 'bounced', 'invalid'] as const;

export const ContactCreateSchema = z
  .strictObject({
    firstName: NameSchema.optional(),
    lastName: NameSchema.optional(),
    emails: z.array(EmailSchema).max(10).default([]).meta({ description: 'The first address is the primary one.' }),
    phones: z.array(PhoneSchema).max(10).default([]),
    lifecycleStage: LifecycleStageSchema.default('lead'),
    ownerId: IdSchema.optional(),
    companyId: IdSchema.optional(),
    source: z.string().trim().min(1).max(100).optional(),
    timeZone: TimeZoneSchema.optional(),
    country: CountrySchema.optional(),
    tags: z.array(TagSchema).max(100).default([]),
    customFields: CustomFieldsSchema.default({}),
  })
  .superRefine((contact, ctx) => {
    if (contact.emails.length === 0 && contact.phones.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['emails'], message: 'a contact needs at least one email address or phone number' });
    }
    reportRepeats(contact.emails, 'emails', ctx);
    reportRepeats(contact.phones, 'phones', ctx);
  })
  .meta({ id: 'ContactCreate' });
export type ContactCreate = z.infer<typeof ContactCreateSchema>;

export const ContactUpdateSchema = z
  .strictObject({
    firstName: NameSchema.nullable().optional(),
    lastName: NameSchema.nullable().optional(),
    emails: z.array(EmailSchema).min(0).max(10).optional().meta({ description: 'Replaces the list; the first is primary.' }),
    phones: z.array(PhoneSchema).max(10).optional(),
    lifecycleStage: LifecycleStageSchema.optional(),
    ownerId: IdSchema.nullable().optional(),
    companyId: IdSchema.nullable().optional(),
    source: z.string().trim().min(1).max(100).nullable().optional(),
    timeZone: TimeZoneSchema.nullable().optional(),
    country: CountrySchema.nullable().optional(),
    tags: z.array(TagSchema).max(100).optional(),
    customFields: CustomFieldsSchema.optional().meta({ description: 'Merged into the existing fields; null removes a field.' }),
  })
  .superRefine((patch, ctx) => {
    if (Object.keys(patch).length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'the body must change at least one field' });
    if (patch.emails) reportRepeats(patch.emails, 'emails', ctx);
    if (patch.phones) reportRepeats(patch.phones, 'phones', ctx);
  })
  .meta({ id: 'ContactUpdate' });
export type ContactUpdate = z.infer<typeof ContactUpdateSchema>;

export const ContactListQuerySchema = CursorQuerySchema.extend({
  lifecycleStage: LifecycleStageSchema.optional(),
  ownerId: IdSchema.optional(),
  source: z.string().max(100).optional(),
  tag: TagSchema.optional(),
  email: EmailSchema.optional(),
  createdAfter: z.iso.datetime({ offset: true }).optional(),
  createdBefore: z.iso.datetime({ offset: true }).optional(),
}).strict();
export type ContactListQuery = z.infer<typeof ContactListQuerySchema>;

export const ContactSchema = z
  .object({
    id: IdSchema,
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    emails: z.array(z.object({ address: z.string(), status: z.enum(addressStatuses), isPrimary: z.boolean() })),
    phones: z.array(z.object({ e164: z.string(), status: z.enum(addressStatuses), isPrimary: z.boolean() })),
    lifecycleStage: LifecycleStageSchema,
    ownerId: IdSchema.nullable(),
    companyId: IdSchema.nullable(),
    source: z.string().nullable(),
    timeZone: z.string().nullable(),
    country: z.string().nullable(),
    score: z.number().int().meta({ description: 'Lead score now: the points of tracked events, each losing half its value every scoring half-life (`/v1/settings/scoring`), rounded.' }),
    tags: z.array(z.string()),
    customFields: z.record(z.string(), z.unknown()),
    consent: z.record(z.string(), z.object({ status: z.enum(['granted', 'revoked']), source: z.string(), at: z.string() })),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Contact' });
export type ContactView = z.infer<typeof ContactSchema>;

export const TimelineEntrySchema = z
  .object({
    kind: z.enum(['activity', 'message', 'task', 'stage_change']),
    id: IdSchema,
    at: z.string(),
    summary: z.string(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'TimelineEntry' });

export function reportRepeats(values: readonly string[], field: string, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    if (seen.has(value)) ctx.addIssue({ code: 'custom', path: [field, index], message: `${value} is listed twice` });
    seen.add(value);
  });
}
