import { z } from 'zod';
import { pickableFields } from '../merge';
import { ContactSchema } from './contact';
import { CursorQuerySchema, IdSchema, LifecycleStageSchema } from './common';

export const duplicateStatuses = ['open', 'dismissed', 'merged'] as const;

export const DuplicateListQuerySchema = CursorQuerySchema.extend({
  minScore: z.coerce.number().min(0).max(1).default(0).meta({ description: 'Only pairs scoring at least this (0..1).' }),
  status: z.enum(duplicateStatuses).default('open'),
  contactId: IdSchema.optional().meta({ description: 'Only pairs with this contact.' }),
  reviewTaskId: IdSchema.optional().meta({ description: 'Only the pairs handed to sales ops in this review task.' }),
}).strict();
export type DuplicateListQuery = z.infer<typeof DuplicateListQuerySchema>;

const DuplicateContactSchema = z
  .object({
    id: IdSchema,
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    email: z.string().nullable().meta({ description: 'Primary email address.' }),
    phone: z.string().nullable().meta({ description: 'Primary phone number.' }),
    company: z.string().nullable(),
    lifecycleStage: LifecycleStageSchema,
    ownerId: IdSchema.nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'DuplicateContact' });

export const DuplicatePairSchema = z
  .object({
    id: IdSchema,
    score: z.number().min(0).max(1),
    reasons: z.array(z.string()).meta({ example: ['nickname Bob/Robert', 'same name at same company domain acme.com'] }),
    status: z.enum(duplicateStatuses),
    reviewTaskId: IdSchema.nullable(),
    contacts: z.tuple([DuplicateContactSchema, DuplicateContactSchema]),
    firstSeenAt: z.string(),
    lastSeenAt: z.string(),
  })
  .meta({ id: 'DuplicatePair' });
export type DuplicatePairView = z.infer<typeof DuplicatePairSchema>;

export const MergeRequestSchema = z
  .strictObject({
    mergeIds: z.array(IdSchema).min(1).max(10).meta({ description: 'Contacts merged into the one in the path, which survives.' }),
    pick: z
      .record(z.string(), IdSchema)
      .default({})
      .meta({
        description: `Field -> the contact whose value the survivor takes, overriding "newest non-empty wins": ${pickableFields.join(', ')} or customFields.<name>.`,
        example: { firstName: '7f0c1f8e-58f5-4c43-9a26-3b9a6d4c2e10' },
      }),
  })
  .superRefine((request, ctx) => {
    const seen = new Set<string>();
    request.mergeIds.forEach((id, index) => {
      if (seen.has(id)) ctx.addIssue({ code: 'custom', path: ['mergeIds', index], message: `${id} is listed twice` });
      seen.add(id);
    });
  })
  .meta({ id: 'MergeRequest' });
export type MergeRequest = z.infer<typeof MergeRequestSchema>;

export const MergeResultSchema = z
  .object({
    survivor: ContactSchema,
    mergedIds: z.array(IdSchema),
    decisions: z
      .record(z.string(), z.object({ from: IdSchema.nullable(), rule: z.string() }))
      .meta({ description: 'For each merged field, the contact its value came from and the rule that chose it (picked, newest, earliest, furthest, highest, latest, union, kept, most_restrictive).' }),
    moved: z
      .object({
        emails: z.number().int(),
        phones: z.number().int(),
        activities: z.number().int(),
        tasks: z.number().int(),
        deals: z.number().int(),
        messages: z.number().int(),
        consentEvents: z.number().int(),
        enrollmentsContinued: z.number().int().meta({ description: 'Running enrollments that go on for the survivor.' }),
        enrollmentsEnded: z.number().int().meta({ description: 'Running enrollments ended with stop reason merged: the survivor already runs that sequence.' }),
      })
      .meta({ description: 'What moved from the merged contacts to the survivor.' }),
  })
  .meta({ id: 'MergeResult' });
export type MergeResult = z.infer<typeof MergeResultSchema>;
