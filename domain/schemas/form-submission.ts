import { z } from 'zod';
import { CustomFieldValueSchema, EmailSchema, NameSchema, phoneForCountry } from './common';
import type { FieldError } from '../errors';
import { splitFullName } from '../normalize';
import { CompanyNameSchema } from './company';

/** Which contact fields a submission must bring. */
export const contactRequirements = ['email', 'phone', 'email_or_phone'] as const;

/** What a form's configuration says about its submissions (a subset of the Form row). */
export interface FormRules {
  key: string;
  defaultCountry: string | null;
  contactRequirement: (typeof contactRequirements)[number];
  requiredFields: readonly string[];
  allowCustomFields: boolean;
  honeypotField: string;
}

const standardFields = {
  email: EmailSchema,
  firstName: NameSchema,
  lastName: NameSchema,
  name: NameSchema.meta({ description: 'Full name, split into first and last name when those are absent.' }),
  company: CompanyNameSchema,
  pageUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000),
  referrer: z.string().max(2000),
  utmSource: z.string().trim().max(200),
  utmMedium: z.string().trim().max(200),
  utmCampaign: z.string().trim().max(200),
  consent: z.boolean().meta({ description: 'The visitor ticked the marketing opt-in box.' }),
  submissionId: z.string().trim().min(1).max(200).meta({ description: 'Client-side id of this submission; a resend with the same id is ignored.' }),
} as const;

/** Form posts may use either camelCase or the snake_case common in HTML form field names. */
export const formFieldAliases: Readonly<Record<string, string>> = {
  first_name: 'firstName',
  last_name: 'lastName',
  full_name: 'name',
  page_url: 'pageUrl',
  utm_source: 'utmSource',
  utm_medium: 'utmMedium',
  utm_campaign: 'utmCampaign',
  submission_id: 'submissionId',
};

/** The fields every form reads, by the names `requiredFields` uses; any other name is a custom field. */
export const standardFormFields: readonly string[] = [...Object.keys(standardFields), 'phone'];

/** The request body as OpenAPI documents it; the phone and custom fields depend on the form. */
export const FormSubmissionBodySchema = z
  .object({ ...standardFields, phone: z.string().max(40) })
  .partial()
  .catchall(CustomFieldValueSchema)
  .meta({ id: 'FormSubmission', description: 'Fields not listed here are kept as custom fields when the form allows them.' });

export interface FormSubmission {
  email?: string;
  phone?: string;
  firstName?: string;
  lastName?: string;
  company?: string;
  pageUrl?: string;
  referrer?: string;
  utmSource?: string;
  utmMedium?: string;
  utmCampaign?: string;
  consent: boolean;
  submissionId?: string;
  customFields: Record<string, string | number | boolean | null>;
  /** True when the honeypot field was filled in: accept politely, store nothing. */
  isSpam: boolean;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function parseFormSubmission(rules: FormRules, body: unknown): ParseResult<FormSubmission> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: '', message: 'the body must be a JSON object or a URL-encoded form' }] };
  }
  const errors: FieldError[] = [];
  const known: Record<string, unknown> = {};
  const customFields: FormSubmission['customFields'] = {};
  const fieldSchemas: Record<string, z.ZodType> = { ...standardFields, phone: phoneForCountry(rules.defaultCountry ?? undefined) };
  let isSpam = false;

  for (const [rawName, rawValue] of Object.entries(body)) {
    if (rawName === rules.honeypotField) {
      isSpam ||= typeof rawValue === 'string' ? rawValue.trim() !== '' : rawValue !== null && rawValue !== undefined;
      continue;
    }
    const name = formFieldAliases[rawName] ?? rawName;
    // Empty optional inputs arrive as "" from HTML forms; they mean "not given".
    if (rawValue === '' || rawValue === null || rawValue === undefined) continue;
    const schema = fieldSchemas[name];
    if (schema) {
      const value = name === 'consent' ? coerceCheckbox(rawValue) : rawValue;
      const parsed = schema.safeParse(value);
      if (parsed.success) known[name] = parsed.data;
      else errors.push({ field: rawName, message: parsed.error.issues[0]?.message ?? 'is invalid' });
      continue;
    }
    if (!rules.allowCustomFields) {
      errors.push({ field: rawName, message: 'is not a field of this form' });
      continue;
    }
    const parsed = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/).safeParse(name);
    const value = CustomFieldValueSchema.safeParse(rawValue);
    if (!parsed.success) errors.push({ field: rawName, message: 'custom field names start with a letter and use letters, digits and _ (at most 64)' });
    else if (!value.success) errors.push({ field: rawName, message: 'custom fields take a string (up to 2000 characters), number or boolean' });
    else customFields[name] = value.data;
  }
  if (Object.keys(customFields).length > 50) errors.push({ field: '', message: 'at most 50 custom fields per submission' });

  if (typeof known.name === 'string' && known.firstName === undefined && known.lastName === undefined) {
    Object.assign(known, splitFullName(known.name));
  }
  const given = new Set(Object.keys(known));
  delete known.name;

  const hasEmail = known.email !== undefined;
  const hasPhone = known.phone !== undefined;
  const emailOrPhoneInvalid = errors.some((error) => ['email', 'phone'].includes(formFieldAliases[error.field] ?? error.field));
  if (!emailOrPhoneInvalid) {
    if (rules.contactRequirement === 'email' && !hasEmail) errors.push({ field: 'email', message: 'is required' });
    if (rules.contactRequirement === 'phone' && !hasPhone) errors.push({ field: 'phone', message: 'is required' });
    if (rules.contactRequirement === 'email_or_phone' && !hasEmail && !hasPhone) {
      errors.push({ field: 'email', message: 'an email address or a phone number is required' });
    }
  }
  for (const required of rules.requiredFields) {
    if (!given.has(required) && known[required] === undefined && customFields[required] === undefined && !errors.some((e) => (formFieldAliases[e.field] ?? e.field) === required)) {
      errors.push({ field: required, message: 'is required' });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { ...(known as Omit<FormSubmission, 'customFields' | 'isSpam' | 'consent'>), consent: known.consent === true, customFields, isSpam } };
}

function coerceCheckbox(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const lowered = value.toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(lowered)) return true;
  if (['off', 'false', 'no', '0'].includes(lowered)) return false;
  return value;
}
