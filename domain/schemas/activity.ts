import { z } from 'zod';
import { CursorQuerySchema, IdSchema } from './common';

/** What a person logs by hand; the other activity types are written by automations. */
export const loggableActivityTypes = ['call', 'email', 'meeting', 'note', 'email_reply'] as const;

/** How far in the future a logged time may be: clock skew, not a plan (plans are tasks). */
export const occurredAtSkewMs = 5 * 60_000;

export const ActivityCreateSchema = z
  .strictObject({
    type: z.enum(loggableActivityTypes).meta({ description: '`email_reply` is a reply the contact sent.' }),
    dealId: IdSchema.optional(),
    contactId: IdSchema.optional().meta({ description: 'By default the deal\'s contact. Without a deal, the activity touches every open deal of the contact.' }),
    subject: z.string().trim().min(1).max(200).optional(),
    body: z.string().trim().max(10_000).optional().meta({ description: 'Notes: what was said, the outcome.' }),
    occurredAt: z.iso.datetime({ offset: true }).optional().meta({ description: 'When it happened; by default now. Not in the future.' }),
  })
  .superRefine((activity, ctx) => {
    if (!activity.dealId && !activity.contactId) {
      for (const field of ['dealId', 'contactId']) ctx.addIssue({ code: 'custom', path: [field], message: 'an activity is logged on a deal, a contact, or both' });
    }
  })
  .meta({ id: 'ActivityCreate' });
export type ActivityCreate = z.infer<typeof ActivityCreateSchema>;

export const ActivityListQuerySchema = CursorQuerySchema.extend({
  dealId: IdSchema.optional(),
  contactId: IdSchema.optional(),
})
  .strict()
  .superRefine((query, ctx) => {
    if (!query.dealId && !query.contactId) ctx.addIssue({ code: 'custom', path: ['dealId'], message: 'give dealId, contactId or both' });
  });

export const ActivitySchema = z
  .object({
    id: IdSchema,
    type: z.string(),
    dealId: IdSchema.nullable(),
    contactId: IdSchema.nullable(),
    actorUserId: IdSchema.nullable(),
    subject: z.string().nullable(),
    body: z.string().nullable(),
    occurredAt: z.string(),
    createdAt: z.string(),
    touchedDealIds: z.array(IdSchema).optional().meta({ description: 'On create: the open deals whose last touch this activity moved.' }),
  })
  .meta({ id: 'Activity' });
export type ActivityView = z.infer<typeof ActivitySchema>;
