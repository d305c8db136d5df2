import { z } from 'zod';
import { IdSchema, LifecycleStageSchema, TagSchema } from './schemas/common';

const customFieldName = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/, 'custom field names start with a letter and use letters, digits and _');

/**
 * Which contacts a bulk enrollment takes: every criterion given must hold (AND). Deleted
 * contacts are never in a segment. An empty filter is every contact.
 */
export const SegmentFilterSchema = z
  .strictObject({
    tags: z
      .strictObject({
        any: z.array(TagSchema).min(1).max(50).optional().meta({ description: 'At least one of these tags.' }),
        all: z.array(TagSchema).min(1).max(50).optional().meta({ description: 'Every one of these tags.' }),
        none: z.array(TagSchema).min(1).max(50).optional().meta({ description: 'None of these tags.' }),
      })
      .refine((tags) => tags.any ?? tags.all ?? tags.none, 'give any, all or none')
      .optional(),
    lifecycleStages: z.array(LifecycleStageSchema).min(1).optional().meta({ description: 'The contact\'s stage is one of these.' }),
    source: z.string().trim().min(1).max(100).optional().meta({ description: 'Exactly this source, e.g. `website` or a UTM source.' }),
    ownerId: IdSchema.nullable().optional().meta({ description: 'Owned by this user; null: contacts without an owner.' }),
    createdAfter: z.iso.datetime({ offset: true }).optional().meta({ description: 'Created at or after this time.' }),
    createdBefore: z.iso.datetime({ offset: true }).optional().meta({ description: 'Created before this time.' }),
    customFields: z
      .record(customFieldName, z.union([z.string().max(2000), z.number(), z.boolean()]))
      .refine((fields) => Object.keys(fields).length >= 1 && Object.keys(fields).length <= 20, 'give 1 to 20 custom fields')
      .optional()
      .meta({ description: 'Each custom field equals the value given (same type: "5" does not match 5).' }),
  })
  .superRefine((filter, ctx) => {
    if (filter.createdAfter && filter.createdBefore && new Date(filter.createdAfter) >= new Date(filter.createdBefore)) {
      ctx.addIssue({ code: 'custom', path: ['createdBefore'], message: 'must be after createdAfter' });
    }
    const { any = [], all = [], none = [] } = filter.tags ?? {};
    const excluded = new Set(none);
    const clash = [...any, ...all].find((tag) => excluded.has(tag));
    if (clash) ctx.addIssue({ code: 'custom', path: ['tags', 'none'], message: `"${clash}" is both required and excluded` });
  })
  .meta({ id: 'SegmentFilter', example: { tags: { any: ['webinar-2026'] }, lifecycleStages: ['lead', 'mql'], customFields: { plan: 'trial' } } });
export type SegmentFilter = z.infer<typeof SegmentFilterSchema>;
