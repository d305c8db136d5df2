import { z } from 'zod';
import { normalizeEmail, normalizeName, normalizePhone } from '../normalize';
import { normalizeCountryCode } from '../country';
import { isValidTimeZone } from '../business-time';
import { lifecycleStages, type LifecycleStage } from '../lifecycle-stages';

export { lifecycleStages, type LifecycleStage };
export const LifecycleStageSchema = z.enum(lifecycleStages).meta({ id: 'LifecycleStage' });

export const userRoles = ['admin', 'marketer', 'sales_ops', 'rep', 'manager'] as const;
export const UserRoleSchema = z.enum(userRoles).meta({ id: 'UserRole' });
export type UserRole = z.infer<typeof UserRoleSchema>;

export const IdSchema = z.uuid({ error: 'must be a UUID' });
export const IdParamsSchema = z.object({ id: IdSchema });

/** Business days without a meaningful touch before a deal is idle (a stage's limit, or an enter trigger's). */
export const IdleLimitDaysSchema = z.number().int().min(1).max(365);

export const EmailSchema = z
  .string()
  .max(320)
  .transform((raw, ctx) => {
    const result = normalizeEmail(raw);
    if (result.ok) return result.value;
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(raw)} ${result.reason}` });
    return z.NEVER;
  })
  .meta({ format: 'email', example: 'jane.doe@example.com' });

/** A phone in international format; forms with a default country use `phoneForCountry`. */
export const PhoneSchema = phoneForCountry(undefined);

export function phoneForCountry(defaultCountry: string | undefined) {
  return z
    .string()
    .max(40)
    .transform((raw, ctx) => {
      const result = normalizePhone(raw, defaultCountry);
      if (result.ok) return result.value;
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(raw)} ${result.reason}` });
      return z.NEVER;
    })
    .meta({ example: '+14155550123', description: 'Normalised to E.164.' });
}

export const NameSchema = z
  .string()
  .max(100)
  .transform(normalizeName)
  .pipe(z.string().min(1, 'must not be blank'));

/** ISO 3166-1 alpha-2 from a code or a country name ("Germany", "deutschland", "de" -> "DE"). */
export const CountrySchema = z
  .string()
  .max(100)
  .transform((raw, ctx) => {
    const result = normalizeCountryCode(raw);
    if (result.ok) return result.value;
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(raw)} ${result.reason}` });
    return z.NEVER;
  })
  .meta({ example: 'DE', description: 'Stored as an ISO 3166-1 alpha-2 code; country names are read too.' });

export const TimeZoneSchema = z
  .string()
  .refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin')
  .meta({ example: 'Europe/Berlin' });

export const TagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9_:-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9, _, : or -');

export const customFieldKey = /^[a-zA-Z][a-zA-Z0-9_]{0,63}$/;
export const CustomFieldValueSchema = z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]);
export const CustomFieldsSchema = z
  .record(z.string().regex(customFieldKey, 'custom field names start with a letter and use letters, digits and _'), CustomFieldValueSchema)
  .refine((fields) => Object.keys(fields).length <= 100, 'at most 100 custom fields')
  .meta({ id: 'CustomFields', description: 'Custom fields: strings, numbers, booleans or null (null removes a field).' });

export const CursorQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().meta({ description: 'Opaque cursor from the previous page\'s nextCursor.' }),
});

export function pageSchema<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({ data: z.array(item), nextCursor: z.string().nullable() })
    .meta({ id });
}
