import { z } from 'zod';
import { fillableCompanyFields } from '../company-merge';
import { normalizeCompanyName, normalizeDomain } from '../normalize';
import { CursorQuerySchema, IdSchema } from './common';
import { reportRepeats } from './contact';

/** Stored as typed apart from whitespace (normalizeCompanyName); matching ignores case and legal form. */
export const CompanyNameSchema = z.string().max(200).transform(normalizeCompanyName).pipe(z.string().min(1, 'must not be blank'));

export const CompanyDomainSchema = z
  .string()
  .max(2000)
  .transform((raw, ctx) => {
    const domain = normalizeDomain(raw);
    if (domain) return domain;
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(raw)} is not a domain or website address` });
    return z.NEVER;
  })
  .meta({
    example: 'acme.com',
    description: 'A domain or website URL, stored as its registrable domain by the Public Suffix List: `https://www.shop.Acme.co.uk/x` is `acme.co.uk`. Unique among companies.',
  });

export const CompanyCreateSchema = z
  .strictObject({
    name: CompanyNameSchema,
    domain: CompanyDomainSchema.optional(),
    ownerId: IdSchema.optional().meta({ description: 'An active user; routing rules of kind `company_owner` give the company\'s new leads to them.' }),
  })
  .meta({ id: 'CompanyCreate' });
export type CompanyCreate = z.infer<typeof CompanyCreateSchema>;

export const CompanyUpdateSchema = z
  .strictObject({
    name: CompanyNameSchema.optional(),
    domain: CompanyDomainSchema.nullable().optional(),
    ownerId: IdSchema.nullable().optional(),
  })
  .superRefine((patch, ctx) => {
    if (Object.keys(patch).length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'the body must change at least one field' });
  })
  .meta({ id: 'CompanyUpdate' });
export type CompanyUpdate = z.infer<typeof CompanyUpdateSchema>;

export const CompanyListQuerySchema = CursorQuerySchema.extend({
  domain: CompanyDomainSchema.optional().meta({ description: 'The company with this domain; a URL or subdomain is read as its registrable domain.' }),
  name: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'Companies whose name contains this, ignoring case, accents, punctuation and legal form (`acme inc` finds `ACME Corp.`).' }),
}).strict();
export type CompanyListQuery = z.infer<typeof CompanyListQuerySchema>;

export const CompanySchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    domain: z.string().nullable(),
    ownerId: IdSchema.nullable(),
    counts: z
      .object({ contacts: z.number().int(), openDeals: z.number().int() })
      .meta({ description: 'Contacts and open deals linked to the company (everyone\'s, whatever the caller may see); a company with either cannot be deleted.' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Company' });
export type CompanyView = z.infer<typeof CompanySchema>;

export const CompanyMergeRequestSchema = z
  .strictObject({
    mergeIds: z.array(IdSchema).min(1).max(10).meta({ description: 'Companies merged into the one in the path, which survives.' }),
  })
  .superRefine((request, ctx) => reportRepeats(request.mergeIds, 'mergeIds', ctx))
  .meta({ id: 'CompanyMergeRequest' });
export type CompanyMergeRequest = z.infer<typeof CompanyMergeRequestSchema>;

export const CompanyMergeResultSchema = z
  .object({
    survivor: CompanySchema,
    mergedIds: z.array(IdSchema),
    decisions: z
      .partialRecord(z.enum(fillableCompanyFields), z.object({ from: IdSchema, rule: z.enum(['kept', 'filled']) }))
      .meta({ description: 'For domain and owner: the company the value came from, and whether the survivor kept its own or filled an empty field.' }),
    moved: z.object({ contacts: z.number().int(), deals: z.number().int() }).meta({ description: 'Contacts and deals (open or closed) moved to the survivor.' }),
  })
  .meta({ id: 'CompanyMergeResult' });
export type CompanyMergeResult = z.infer<typeof CompanyMergeResultSchema>;
