import { z } from 'zod';
import { normalizeCountryCode } from '../country';
import type { CsvDelimiter } from '../import/delimiter';
import { ignoreField, parseMapEntry, type ColumnMapping, type ExplicitMapping } from '../import/fields';
import { matchPolicies, type ImportConsent, type MatchPolicy } from '../import/plan';
import { CursorQuerySchema, IdSchema, LifecycleStageSchema } from './common';

export const importStatuses = ['uploading', 'queued', 'running', 'cancelling', 'completed', 'cancelled', 'failed'] as const;
export type ImportStatus = (typeof importStatuses)[number];
export const finalImportStatuses: readonly ImportStatus[] = ['completed', 'cancelled', 'failed'];

const consentChannels = ['email', 'sms'] as const;

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * `POST /v1/imports` options. They travel as query parameters so that the body is the CSV
 * itself and streams straight into storage.
 */
export const ImportQuerySchema = z
  .strictObject({
    map: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .transform((value, ctx): ExplicitMapping[] => {
        const entries: ExplicitMapping[] = [];
        asList(value).forEach((entry, index) => {
          const parsed = parseMapEntry(entry);
          if (parsed.ok) entries.push(parsed.value);
          else ctx.addIssue({ code: 'custom', path: asList(value).length > 1 ? [index] : [], message: parsed.reason });
        });
        return entries;
      })
      .meta({
        description: `Column mapping, repeatable: \`map=<CSV column>:<field>\`, field one of email, phone, firstName, lastName, name (full name), companyName, companyDomain, lifecycleStage, source, tags, timeZone, country, custom.<name>, or ${ignoreField}. Columns not mapped are detected from their header ("E-mail", "First Name", "Mobile", "Company", ...).`,
        example: 'E-mail:email',
      }),
    defaultCountry: z
      .string()
      .transform((raw, ctx) => {
        const country = normalizeCountryCode(raw);
        if (country.ok) return country.value;
        ctx.addIssue({ code: 'custom', message: `"${raw}" ${country.reason}` });
        return z.NEVER;
      })
      .optional()
      .meta({ description: 'Country of phone numbers written without +country code, unless the row has a country column.', example: 'DE' }),
    source: z.string().trim().min(1).max(100).default('import').meta({ description: 'Source of the contacts the import creates, and of matched ones that have none.' }),
    policy: z.enum(matchPolicies).default('update_blanks').meta({
      description: 'What a row that matches an existing contact (by email, then phone) does: fill only blank fields, overwrite fields, or skip the row. Tags and addresses are only ever added.',
    }),
    consent: z.enum(['none', 'granted']).default('none').meta({ description: '`granted`: the people in the file agreed to marketing; recorded in the consent ledger with source `import` and `consentBasis` as evidence.' }),
    consentBasis: z.string().trim().min(1).max(500).optional().meta({ description: 'How consent was obtained (required with consent=granted), e.g. "double opt-in at the 2026 webinar".' }),
    consentChannels: z
      .string()
      .default('email')
      .transform((raw, ctx) => {
        const channels = [...new Set(raw.split(',').map((part) => part.trim()))];
        const unknown = channels.filter((channel) => !(consentChannels as readonly string[]).includes(channel));
        if (unknown.length > 0 || channels.length === 0) ctx.addIssue({ code: 'custom', message: 'must be email, sms or email,sms' });
        return channels as Array<(typeof consentChannels)[number]>;
      })
      .meta({ description: 'Channels consent is granted for, comma-separated.', example: 'email,sms' }),
    dryRun: z.stringbool().default(false).meta({ description: 'Validate and plan every row and write nothing but the report and a preview.' }),
    delimiter: z
      .enum([',', ';', '|', 'tab', '\t'])
      .transform((value): CsvDelimiter => (value === 'tab' ? '\t' : value))
      .optional()
      .meta({ description: 'Field separator; detected from the header line when absent.' }),
    fileName: z.string().trim().min(1).max(255).optional().meta({ description: 'Shown in the import\'s progress.' }),
    previewSize: z.coerce.number().int().min(0).max(500).default(50).meta({ description: 'Dry run: how many changes the preview lists.' }),
  })
  .superRefine((query, ctx) => {
    if (query.consent === 'granted' && !query.consentBasis) {
      ctx.addIssue({ code: 'custom', path: ['consentBasis'], message: 'is required with consent=granted: say how the people in the file agreed' });
    }
    if (query.consent === 'none' && query.consentBasis) ctx.addIssue({ code: 'custom', path: ['consentBasis'], message: 'needs consent=granted' });
  });
export type ImportQuery = z.output<typeof ImportQuerySchema>;

/** An import's options as stored, with the mapping resolved against the file's header. */
export interface ImportOptions {
  header: string[];
  mapping: ColumnMapping[];
  unmappedColumns: string[];
  delimiter: CsvDelimiter;
  defaultCountry: string | null;
  source: string;
  policy: MatchPolicy;
  consent: ImportConsent | null;
  previewSize: number;
}

export const ImportListQuerySchema = CursorQuerySchema.strict();

const SnapshotSchema = z
  .object({
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    emails: z.array(z.string()),
    phones: z.array(z.string()),
    company: z.string().nullable().meta({ description: 'Company name.' }),
    ownerId: z.string().nullable().meta({ description: 'The owner, which an import never changes (read for required fields).' }),
    lifecycleStage: LifecycleStageSchema,
    source: z.string().nullable(),
    tags: z.array(z.string()),
    timeZone: z.string().nullable(),
    country: z.string().nullable(),
    customFields: z.record(z.string(), z.unknown()),
    consent: z.record(z.string(), z.enum(['granted', 'revoked'])),
  })
  .meta({ id: 'ImportContactSnapshot' });

export const ImportChangeSchema = z
  .object({
    line: z.number().int(),
    action: z.enum(['created', 'updated']),
    contactId: IdSchema.meta({ description: 'In a dry run, a contact it would create has an id that exists only in the preview.' }),
    fields: z.array(z.string()),
    before: SnapshotSchema.nullable(),
    after: SnapshotSchema,
  })
  .meta({ id: 'ImportChange' });
export type ImportChangeView = z.infer<typeof ImportChangeSchema>;

export const ImportViewSchema = z
  .object({
    id: IdSchema,
    status: z.enum(importStatuses),
    dryRun: z.boolean(),
    fileName: z.string().nullable(),
    options: z.object({
      policy: z.enum(matchPolicies),
      defaultCountry: z.string().nullable(),
      source: z.string(),
      consent: z.object({ channels: z.array(z.enum(consentChannels)), basis: z.string() }).nullable(),
      delimiter: z.string(),
      mapping: z.array(z.object({ column: z.string(), field: z.string() })),
      unmappedColumns: z.array(z.string()).meta({ description: 'Columns that fill nothing.' }),
    }),
    progress: z.object({ bytesTotal: z.number().int(), bytesRead: z.number().int(), percent: z.number() }),
    counts: z
      .object({ rowsRead: z.number().int(), created: z.number().int(), updated: z.number().int(), skipped: z.number().int(), failed: z.number().int() })
      .meta({ description: 'created + updated + skipped + failed = rowsRead. In a dry run: what the import would do.' }),
    error: z.string().nullable().meta({ description: 'Why a failed import stopped.' }),
    reportUrl: z.string(),
    preview: z.array(ImportChangeSchema).nullable().meta({ description: 'Dry run: the first changes it would make (previewSize).' }),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'Import' });
export type ImportView = z.infer<typeof ImportViewSchema>;
