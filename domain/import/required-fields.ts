import { missingRequiredFields } from '../required-fields';
import type { LifecycleStage } from '../schemas/common';
import type { ColumnMapping, ImportField } from './fields';
import type { ContactSnapshot } from './plan';
import type { RowProblem } from './row';

/**
 * Required fields (/v1/required-fields) for imported rows. The contacts API refuses a contact
 * in a guarded lifecycle stage without the fields the stage's rule names; an import writes
 * contacts wholesale, so every row that creates or changes a contact is checked against the
 * stage the contact ends up in, after the merge policy, and rejected with each missing field.
 */

/** Each lifecycle stage's required fields, as the rules name them (API field names). */
export type StageRequirements = ReadonlyMap<LifecycleStage, readonly string[]>;

/** The problems that keep a contact, as a row leaves it, out of its stage; none when it may be written. */
export type RequiredFieldCheck = (contact: ContactSnapshot) => RowProblem[];

/** The import fields that fill each API field, the most direct first. */
const columnFields: Partial<Record<string, readonly ImportField[]>> = {
  firstName: ['firstName', 'name'],
  lastName: ['lastName', 'name'],
  emails: ['email'],
  phones: ['phone'],
  companyId: ['companyName', 'companyDomain'],
  source: ['source'],
  timeZone: ['timeZone'],
  country: ['country'],
};

/**
 * The check for one import, built once from the rules: a report line per missing field, on the
 * column that would fill it, or on the field's own name when the file has no such column (an
 * owner, which imports never set, or a custom field the file does not map).
 */
export function requiredFieldCheck(requirements: StageRequirements, mapping: readonly ColumnMapping[]): RequiredFieldCheck {
  const columnOf = (field: string): string => {
    const fields = field.startsWith('customFields.') ? [`custom.${field.slice('customFields.'.length)}` as const] : (columnFields[field] ?? []);
    for (const candidate of fields) {
      const mapped = mapping.find((entry) => entry.field === candidate);
      if (mapped) return mapped.column;
    }
    return field;
  };
  return (contact) => {
    const fields = requirements.get(contact.lifecycleStage);
    if (!fields || fields.length === 0) return [];
    const missing = missingRequiredFields([{ fields }], { ...contact, companyId: contact.company?.ref ?? null });
    return missing.map((field) => ({ column: columnOf(field), reason: `required: ${field} must have a value for a contact in the ${contact.lifecycleStage} stage`, value: null }));
  };
}
