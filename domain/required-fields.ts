import { ValidationError, type FieldError } from './errors';

/**
 * Required fields per stage, configured by sales ops: a contact may not enter a lifecycle
 * stage, nor a deal a pipeline stage, while a field its rule names is empty. Field names are
 * the API's own, so a 422 points at the input to fill in; custom fields are
 * `customFields.<name>`.
 */

export const requirableFields = {
  contact: ['firstName', 'lastName', 'emails', 'phones', 'ownerId', 'companyId', 'source', 'timeZone', 'country'],
  deal: ['amount', 'expectedCloseDate', 'contactId', 'companyId', 'ownerId'],
} as const;
export type RequirementEntity = keyof typeof requirableFields;

const customField = /^customFields\.([a-zA-Z][a-zA-Z0-9_]{0,63})$/;

/** Why each name in a rule cannot be required of the entity (empty when all can). */
export function requiredFieldNameErrors(entity: RequirementEntity, fields: readonly string[]): FieldError[] {
  const known: readonly string[] = requirableFields[entity];
  const errors: FieldError[] = [];
  fields.forEach((field, index) => {
    if (!known.includes(field) && !(entity === 'contact' && customField.test(field))) {
      const custom = entity === 'contact' ? ' or customFields.<name>' : '';
      errors.push({ field: `fields/${index}`, message: `${JSON.stringify(field)} is not a ${entity} field that can be required; use ${known.join(', ')}${custom}` });
    }
    if (fields.indexOf(field) !== index) errors.push({ field: `fields/${index}`, message: `${field} is listed twice` });
  });
  return errors;
}

function isBlank(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '') || (Array.isArray(value) && value.length === 0);
}

/**
 * The fields of `record` (as the API names them, custom fields under `customFields`) that the
 * rules require and that are empty, in rule order, each once. The contacts API calls it when
 * a write sets the lifecycle stage, and the deals API when a deal moves stage.
 */
export function missingRequiredFields(rules: ReadonlyArray<{ fields: readonly string[] }>, record: Readonly<Record<string, unknown>>): string[] {
  const customFields = (record.customFields ?? {}) as Readonly<Record<string, unknown>>;
  const missing = new Set<string>();
  for (const field of rules.flatMap((rule) => rule.fields)) {
    const custom = customField.exec(field);
    if (isBlank(custom ? customFields[custom[1]!] : record[field])) missing.add(field);
  }
  return [...missing];
}

/** The 422 for a stage move that leaves required fields empty: every missing field, each named. */
export function requiredFieldsError(missing: readonly string[], target: string): ValidationError {
  return new ValidationError(
    missing.map((field) => ({ field, message: `is required before ${target}` })),
    `${missing.length} required field${missing.length === 1 ? ' is' : 's are'} empty: ${missing.join(', ')}. Fill ${missing.length === 1 ? 'it' : 'them'} in the same request or first.`,
  );
}
