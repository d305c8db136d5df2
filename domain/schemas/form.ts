import { z } from 'zod';
import type { FieldError } from '../errors';
import { CountrySchema, CursorQuerySchema, IdSchema, customFieldKey } from './common';
import { contactRequirements, formFieldAliases, standardFormFields } from './form-submission';
import { TemplateKeySchema } from './template';

/** The public key in `/v1/forms/{formKey}/submissions`: the website embeds it, so it stays URL-safe. */
export const FormKeySchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of letters, digits, _ or -');

/** Management paths take the form's id or its public key. */
export const FormRefParamsSchema = z.object({
  id: FormKeySchema.meta({ description: 'The form\'s id, or its public key.', example: 'demo-contact' }),
});

/**
 * A browser's Origin header is `scheme://host[:port]`, compared as a string by the submission
 * endpoint (and the CORS grant), so an allowed origin is stored in exactly that serialisation:
 * `https://WWW.Example.com:443/` is `https://www.example.com`.
 */
const OriginSchema = z
  .string()
  .max(300)
  .transform((raw, ctx) => {
    const problem = (message: string) => {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(raw)} ${message}` });
      return z.NEVER;
    };
    // The submission endpoint compares origins exactly; a wildcard would match nothing.
    if (raw.trim() === '*') return problem('is not supported: list the origin of each site that embeds the form');
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      return problem('is not an origin such as https://www.example.com');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return problem('is not an http or https origin');
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
      return problem('is not an origin: give only the scheme, host and port, such as https://www.example.com');
    }
    return url.origin;
  })
  .meta({ example: 'https://www.example.com' });

const HoneypotFieldSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must be 1-64 characters of letters, digits, _ or -, starting with a letter');

/** Each field of a form's configuration, without defaults: create adds the defaults, update takes any subset. */
const fields = {
  name: z.string().trim().min(1, 'must not be blank').max(200),
  allowedOrigins: z
    .array(OriginSchema)
    .max(100)
    .transform((origins) => [...new Set(origins)])
    .meta({ description: 'Sites that may post the form from a browser (CORS, and the `Origin` check). Each an origin: scheme, host and port, no path; no wildcard. Posts without an `Origin` header (from a server) are not affected.' }),
  defaultCountry: CountrySchema.nullable().meta({ description: 'ISO 3166-1 alpha-2 country of phone numbers written without a country code; country names are read too.' }),
  contactRequirement: z.enum(contactRequirements).meta({ description: 'Which contact fields a submission must bring.' }),
  requiredFields: z
    .array(z.string().max(64))
    .max(50)
    .meta({ description: 'Fields a submission must fill in: standard fields by their camelCase names (`firstName`, `company`, `consent`...), and custom fields when the form allows them.' }),
  allowCustomFields: z.boolean().meta({ description: 'Keep fields the form does not know as the contact\'s custom fields; without it they are a 422.' }),
  honeypotField: HoneypotFieldSchema.meta({ description: 'A field hidden from people; a submission that fills it in is accepted and dropped.' }),
  source: z.string().trim().min(1, 'must not be blank').max(100).meta({ description: 'Source of the contacts the form creates, unless the submission has a utmSource.' }),
  grantsEmailConsent: z.boolean().meta({ description: 'The page has an explicit opt-in box: a ticked `consent` records marketing email consent.' }),
  welcomeTemplate: TemplateKeySchema.meta({ description: 'Email template of the welcome message: stored through /v1/templates or shipped in templates/email.' }),
  enrollSequenceId: IdSchema.nullable().meta({ description: 'A published, unarchived sequence each submitter is enrolled in, once per form (auto-enrollment); null for none.' }),
  active: z.boolean().meta({ description: 'An inactive form refuses submissions (404).' }),
};

export const FormCreateSchema = z
  .strictObject({
    key: FormKeySchema.refine((key) => !IdSchema.safeParse(key).success, 'must not be a UUID: paths name a form by its id or its key')
      .optional()
      .meta({ description: 'The public key the website posts to; generated when left out. It never changes.' }),
    name: fields.name,
    allowedOrigins: fields.allowedOrigins.default([]),
    defaultCountry: fields.defaultCountry.default(null),
    contactRequirement: fields.contactRequirement.default('email_or_phone'),
    requiredFields: fields.requiredFields.default([]),
    allowCustomFields: fields.allowCustomFields.default(false),
    honeypotField: fields.honeypotField.default('website'),
    source: fields.source.default('website'),
    grantsEmailConsent: fields.grantsEmailConsent.default(false),
    welcomeTemplate: fields.welcomeTemplate.default('welcome'),
    enrollSequenceId: fields.enrollSequenceId.default(null),
    active: fields.active.default(true),
  })
  .meta({ id: 'FormCreate' });
export type FormCreate = z.infer<typeof FormCreateSchema>;

export const FormUpdateSchema = z
  .strictObject({
    name: fields.name.optional(),
    allowedOrigins: fields.allowedOrigins.optional(),
    defaultCountry: fields.defaultCountry.optional(),
    contactRequirement: fields.contactRequirement.optional(),
    requiredFields: fields.requiredFields.optional(),
    allowCustomFields: fields.allowCustomFields.optional(),
    honeypotField: fields.honeypotField.optional(),
    source: fields.source.optional(),
    grantsEmailConsent: fields.grantsEmailConsent.optional(),
    welcomeTemplate: fields.welcomeTemplate.optional(),
    enrollSequenceId: fields.enrollSequenceId.optional(),
    active: fields.active.optional(),
  })
  .superRefine((patch, ctx) => {
    if (Object.keys(patch).length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'the body must change at least one field' });
  })
  .meta({ id: 'FormUpdate', description: 'The fields to change; the key cannot change.' });
export type FormUpdate = z.infer<typeof FormUpdateSchema>;

export const FormListQuerySchema = CursorQuerySchema.extend({
  active: z.stringbool().optional().meta({ description: 'Only active (`true`) or only inactive (`false`) forms; default both.' }),
}).strict();
export type FormListQuery = z.infer<typeof FormListQuerySchema>;

export const FormSchema = z
  .object({
    id: IdSchema,
    key: z.string(),
    name: z.string(),
    allowedOrigins: z.array(z.string()),
    defaultCountry: z.string().nullable(),
    contactRequirement: z.enum(contactRequirements),
    requiredFields: z.array(z.string()),
    allowCustomFields: z.boolean(),
    honeypotField: z.string(),
    source: z.string(),
    grantsEmailConsent: z.boolean(),
    welcomeTemplate: z.string(),
    enrollSequenceId: IdSchema.nullable(),
    active: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Form' });
export type FormView = z.infer<typeof FormSchema>;

/**
 * What the fields of a form say about each other, checked on the whole configuration (a PATCH
 * on the stored form with its changes): a required field must be one a submission can fill in,
 * and the honeypot must not swallow a field people fill in.
 */
export function formConfigProblems(config: { requiredFields: readonly string[]; allowCustomFields: boolean; honeypotField: string }): FieldError[] {
  const { requiredFields, allowCustomFields, honeypotField } = config;
  const problems: FieldError[] = [];
  if (standardFormFields.includes(honeypotField) || formFieldAliases[honeypotField] !== undefined) {
    problems.push({ field: 'honeypotField', message: `"${honeypotField}" is a field people fill in; name the hidden field something else, such as website` });
  }
  const requiredFieldProblem = (name: string, index: number): string | null => {
    const alias = formFieldAliases[name];
    if (requiredFields.indexOf(name) !== index) return `"${name}" is listed twice`;
    if (alias) return `name the field "${alias}"; "${name}" is another way a post may spell it`;
    if (name === honeypotField) return `"${name}" is the honeypot field, which people leave empty`;
    if (standardFormFields.includes(name)) return null;
    if (!customFieldKey.test(name)) return `"${name}" is not a field name: custom fields start with a letter and use letters, digits and _`;
    return allowCustomFields ? null : `"${name}" is a custom field, and the form does not allow custom fields`;
  };
  requiredFields.forEach((name, index) => {
    const message = requiredFieldProblem(name, index);
    if (message) problems.push({ field: `requiredFields/${index}`, message });
  });
  return problems;
}
