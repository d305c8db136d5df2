import { z } from 'zod';
import { CustomFieldsSchema, IdSchema, TimeZoneSchema } from './common';

export const templateChannels = ['email', 'sms'] as const;
export const TemplateChannelSchema = z.enum(templateChannels).meta({ id: 'TemplateChannel' });
export type TemplateChannel = z.infer<typeof TemplateChannelSchema>;

/** Keys double as file names (templates/email/<key>.*.hbs), so they stay file-name safe. */
export const TemplateKeySchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9, _ or -, starting with a letter or digit')
  .meta({ example: 'spring-offer' });

export const TemplateKeyParamsSchema = z.object({ key: TemplateKeySchema });

/**
 * A key may exist as both an email and an SMS file template (templates/email/welcome.* and
 * templates/sms/welcome.hbs); `channel` picks one. Without it: the stored template's channel,
 * else email, else SMS.
 */
export const TemplateLookupQuerySchema = z.strictObject({ channel: TemplateChannelSchema.optional() });

const maxSubject = 500;
const maxHtml = 100_000;
const maxText = 50_000;
/** Ten concatenated segments: beyond that carriers split or drop messages. */
const maxSms = 1_600;

const optionalText = (max: number) => z.string().max(max).nullable().optional();

export function isLocale(value: string): boolean {
  try {
    return Intl.getCanonicalLocales(value).length === 1;
  } catch {
    return false;
  }
}

const LocaleSchema = z.string().max(35).refine(isLocale, 'must be a BCP 47 locale such as en-US or de-DE');

/** A deal as messages and trigger texts see it; `idleDays` only in idle-deal notifications. */
export const DealTemplateVariablesSchema = z.strictObject({
  name: optionalText(200),
  amount: z.number().nullable().optional(),
  currency: optionalText(3),
  stage: optionalText(200),
  pipeline: optionalText(200),
  expectedCloseDate: optionalText(10),
  idleDays: z.number().int().nullable().optional(),
});
export type DealTemplateVariables = z.infer<typeof DealTemplateVariablesSchema>;

/**
 * Every variable a template may use: the one declaration behind strict validation (a name not
 * listed here is an error at save and preview), the preview `data` body and the render context
 * the senders build. Every field may be null; a template guards with {{#if}} or `default`.
 * `owner` is null when the contact has none; `links.unsubscribe` is present on marketing
 * messages only, and its presence is what shows the unsubscribe footer.
 */
export const TemplateContextSchema = z
  .strictObject({
    contact: z
      .strictObject({
        firstName: optionalText(200),
        lastName: optionalText(200),
        fullName: optionalText(400),
        email: optionalText(320),
        phone: optionalText(40),
        timeZone: TimeZoneSchema.nullable().optional().meta({ description: 'Dates are shown in this zone (default UTC).' }),
        locale: LocaleSchema.nullable().optional().meta({ description: 'Dates and amounts are formatted for this locale (default en-US).' }),
        customFields: CustomFieldsSchema.optional(),
      })
      .optional(),
    owner: z.strictObject({ name: optionalText(200), email: optionalText(320) }).nullable().optional(),
    deal: DealTemplateVariablesSchema.nullable().optional().meta({ description: 'Set on messages about a deal (stage-move triggers, idle-deal notifications); null otherwise.' }),
    sender: z.strictObject({ company: optionalText(200), postalAddress: optionalText(500) }).optional(),
    links: z
      .strictObject({
        unsubscribe: z.url().max(2000).nullable().optional(),
        preferences: z.url().max(2000).nullable().optional(),
      })
      .optional(),
    message: z.strictObject({ id: optionalText(200) }).optional(),
  })
  .meta({
    id: 'TemplateContext',
    description: 'The variables a template may reference. In a preview, these values override the contact\'s or the sample data.',
  });
export type TemplateContextInput = z.infer<typeof TemplateContextSchema>;

const NameField = z.string().trim().min(1, 'must not be blank').max(200);

export const TemplateCreateSchema = z
  .strictObject({
    key: TemplateKeySchema,
    channel: TemplateChannelSchema,
    name: NameField,
    subject: z.string().max(maxSubject).optional().meta({ description: 'Email only; required for email.' }),
    html: z.string().max(maxHtml).optional().meta({ description: 'Email only; required for email. Escaped by default.' }),
    text: z
      .string()
      .max(maxText)
      .nullable()
      .optional()
      .meta({ description: 'The SMS body (required for SMS), or the plain-text part of an email (derived from the HTML when absent).' }),
  })
  .superRefine((input, ctx) => requireChannelParts(input.channel, input, ctx))
  .meta({ id: 'TemplateCreate' });
export type TemplateCreate = z.infer<typeof TemplateCreateSchema>;

/** PUT replaces the content with a new version; the channel of a stored template never changes. */
export const TemplateUpdateSchema = z
  .strictObject({
    name: NameField.optional().meta({ description: 'Kept when absent.' }),
    subject: z.string().max(maxSubject).optional(),
    html: z.string().max(maxHtml).optional(),
    text: z.string().max(maxText).nullable().optional(),
  })
  .meta({ id: 'TemplateUpdate' });
export type TemplateUpdate = z.infer<typeof TemplateUpdateSchema>;

export interface TemplateParts {
  subject?: string | null | undefined;
  html?: string | null | undefined;
  text?: string | null | undefined;
}

/** Which parts a channel needs; shared by create (zod) and update (service, once the channel is known). */
export function channelPartProblems(channel: TemplateChannel, parts: TemplateParts): Array<{ field: keyof TemplateParts; message: string }> {
  const problems: Array<{ field: keyof TemplateParts; message: string }> = [];
  if (channel === 'email') {
    if (!parts.subject?.trim()) problems.push({ field: 'subject', message: 'an email template needs a subject' });
    if (!parts.html?.trim()) problems.push({ field: 'html', message: 'an email template needs an html body' });
  } else {
    if (!parts.text?.trim()) problems.push({ field: 'text', message: 'an SMS template needs a text' });
    else if (parts.text.length > maxSms) problems.push({ field: 'text', message: `an SMS template may have at most ${maxSms} characters` });
    for (const field of ['subject', 'html'] as const) {
      if (parts[field] != null) problems.push({ field, message: 'an SMS template has only a text' });
    }
  }
  return problems;
}

function requireChannelParts(channel: TemplateChannel, parts: TemplateParts, ctx: z.RefinementCtx): void {
  for (const problem of channelPartProblems(channel, parts)) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
}

export const TemplatePreviewSchema = z
  .strictObject({
    contactId: IdSchema.optional().meta({ description: 'Render with this contact\'s data; without it, sample data is used.' }),
    data: TemplateContextSchema.optional(),
    version: z.number().int().min(1).optional().meta({ description: 'A stored version; default the current one.' }),
  })
  .meta({ id: 'TemplatePreviewRequest' });
export type TemplatePreviewRequest = z.infer<typeof TemplatePreviewSchema>;

export const templateSources = ['file', 'database'] as const;

export const TemplateSummarySchema = z
  .object({
    key: z.string(),
    channel: TemplateChannelSchema,
    name: z.string(),
    source: z.enum(templateSources).meta({ description: '`file`: a default under templates/; `database`: created or edited through the API.' }),
    currentVersion: z.number().int().nullable().meta({ description: 'Null for file templates.' }),
    overridesFile: z.boolean().meta({ description: 'A stored template that replaces the file template with the same key and channel.' }),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'TemplateSummary' });
export type TemplateSummary = z.infer<typeof TemplateSummarySchema>;

export const TemplateSchema = TemplateSummarySchema.extend({
  subject: z.string().nullable(),
  html: z.string().nullable(),
  text: z.string().nullable(),
  createdAt: z.string().nullable(),
}).meta({ id: 'Template' });
export type TemplateView = z.infer<typeof TemplateSchema>;

export const TemplateVersionSchema = z
  .object({
    version: z.number().int(),
    current: z.boolean(),
    subject: z.string().nullable(),
    html: z.string().nullable(),
    text: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'TemplateVersion' });
export type TemplateVersionView = z.infer<typeof TemplateVersionSchema>;

export const TemplatePreviewResultSchema = z
  .object({
    key: z.string(),
    channel: TemplateChannelSchema,
    source: z.enum(templateSources),
    version: z.number().int().nullable(),
    subject: z.string().nullable(),
    html: z.string().nullable().meta({ description: 'The whole email, layout and footer included.' }),
    text: z.string(),
    warnings: z.array(z.string()).meta({ description: 'Variables that render empty with this data, values a helper could not format, SMS length.' }),
  })
  .meta({ id: 'TemplatePreview' });
export type TemplatePreviewResult = z.infer<typeof TemplatePreviewResultSchema>;

export const TemplateListQuerySchema = z.strictObject({ channel: TemplateChannelSchema.optional() });

export const TemplateListSchema = z.object({ data: z.array(TemplateSummarySchema) }).meta({ id: 'TemplateList' });
export const TemplateVersionListSchema = z.object({ data: z.array(TemplateVersionSchema) }).meta({ id: 'TemplateVersionList' });
