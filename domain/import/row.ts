import { isValidTimeZone } from '../business-time';
import { normalizeCountryCode } from '../country';
import { normalizeCompanyName, normalizeDomain, normalizeEmail, normalizeName, normalizePhone, splitFullName } from '../normalize';
import { TagSchema, lifecycleStages, type LifecycleStage } from '../schemas/common';
import { companyMatchKey, foldText } from '../matching';
import type { ColumnMapping, ImportField } from './fields';

/**
 * One CSV row through the same validation and normalisation as the API: lower-case emails,
 * E.164 phones (read in the row's country, else the import's default country), standardised
 * names, ISO country codes, trimmed and collapsed whitespace. Any invalid value rejects the
 * whole row, with every problem it has, so nothing is imported half.
 */

export interface ImportedAddress {
  value: string;
  /** The column it came from, for report lines about it. */
  column: string;
}

export interface ImportedContact {
  /** Line of the file where the row starts. */
  line: number;
  emails: ImportedAddress[];
  phones: ImportedAddress[];
  firstName: string | null;
  lastName: string | null;
  companyName: string | null;
  /** The company name as matching sees it (companyMatchKey): legal form, case and accents ignored. */
  companyKey: string | null;
  companyDomain: string | null;
  lifecycleStage: LifecycleStage | null;
  source: string | null;
  tags: string[];
  timeZone: string | null;
  country: string | null;
  customFields: Record<string, string>;
}

/** One line of the report: what is wrong, where, and the value as it was in the file. */
export interface RowProblem {
  column: string | null;
  reason: string;
  value: string | null;
}

export type RowResult = { ok: true; contact: ImportedContact } | { ok: false; problems: RowProblem[] };

/** The same limits as the API's schemas (domain/schemas/common.ts, form-submission.ts). */
const limits = { name: 100, companyName: 200, source: 100, customValue: 2000 } as const;

const stageSpellings = new Map<string, LifecycleStage>([
  ...lifecycleStages.map((stage) => [stage.replace('_', ''), stage] as const),
  ['marketingqualifiedlead', 'mql'],
  ['salesqualifiedlead', 'sql'],
]);

/** "MQL", "Marketing Qualified Lead", "at-risk" and "At Risk" name stages too. */
export function parseLifecycleStage(raw: string): LifecycleStage | null {
  return stageSpellings.get(foldText(raw).replace(/ /g, '')) ?? null;
}

/** "Doe, Jane" (last name first, as many exports write it) as well as "Jane Doe". */
export function splitPersonName(raw: string): { firstName?: string; lastName?: string } {
  const parts = raw.split(',');
  if (parts.length === 2 && parts[0]!.trim() && parts[1]!.trim()) {
    return { firstName: normalizeName(parts[1]!), lastName: normalizeName(parts[0]!) };
  }
  return splitFullName(raw);
}

export function normalizeImportRow(cells: readonly string[], line: number, mapping: readonly ColumnMapping[], headerLength: number, defaultCountry: string | null): RowResult {
  const problems: RowProblem[] = [];
  const problem = (column: string | null, reason: string, value: string | null) => problems.push({ column, reason, value });
  const extra = cells.slice(headerLength).filter((cell) => cell.trim() !== '');
  if (extra.length > 0) problem(null, `has ${cells.length} fields but the header has ${headerLength}`, null);

  const values: Array<{ column: string; field: ImportField; value: string }> = [];
  for (const { index, column, field } of mapping) {
    const value = (cells[index] ?? '').trim();
    if (value === '') continue;
    // csv-parse decodes bytes that are not UTF-8 as U+FFFD: the file was saved in another encoding.
    if (value.includes('\uFFFD')) problem(column, 'contains characters that are not UTF-8 text: save the file as CSV UTF-8', value);
    else values.push({ column, field, value });
  }

  const contact: ImportedContact = {
    line, emails: [], phones: [], firstName: null, lastName: null, companyName: null, companyKey: null, companyDomain: null,
    lifecycleStage: null, source: null, tags: [], timeZone: null, country: null, customFields: {},
  };
  let fullName: { column: string; value: string } | null = null;
  const phoneCells: Array<{ column: string; value: string }> = [];
  let hadAddress = false;

  for (const { column, field, value } of values) {
    switch (field) {
      case 'email':
        hadAddress = true;
        for (const part of value.split(/[;,]/).map((text) => text.trim()).filter(Boolean)) {
          const email = normalizeEmail(part);
          if (!email.ok) problem(column, email.reason, value);
          else if (!contact.emails.some((known) => known.value === email.value)) contact.emails.push({ value: email.value, column });
        }
        break;
      case 'phone':
        hadAddress = true;
        // Read after the country column, whatever the column order.
        phoneCells.push({ column, value });
        break;
      case 'firstName':
      case 'lastName':
        if (value.length > limits.name) problem(column, `is longer than ${limits.name} characters`, value);
        else contact[field] = normalizeName(value);
        break;
      case 'name':
        if (value.length > 2 * limits.name) problem(column, `is longer than ${2 * limits.name} characters`, value);
        else fullName = { column, value };
        break;
      case 'companyName':
        if (value.length > limits.companyName) problem(column, `is longer than ${limits.companyName} characters`, value);
        else {
          contact.companyName = normalizeCompanyName(value);
          contact.companyKey = companyMatchKey(value) || null;
        }
        break;
      case 'companyDomain': {
        const domain = normalizeDomain(value);
        if (domain) contact.companyDomain = domain;
        else problem(column, 'is not a domain or website address', value);
        break;
      }
      case 'lifecycleStage': {
        const stage = parseLifecycleStage(value);
        if (stage) contact.lifecycleStage = stage;
        else problem(column, `is not a lifecycle stage: use ${lifecycleStages.join(', ')}`, value);
        break;
      }
      case 'source': {
        const source = value.replace(/\s+/gu, ' ');
        if (source.length > limits.source) problem(column, `is longer than ${limits.source} characters`, value);
        else contact.source = source;
        break;
      }
      case 'tags':
        for (const part of value.split(/[,;|]/).map((text) => text.trim()).filter(Boolean)) {
          const tag = TagSchema.safeParse(part);
          if (!tag.success) problem(column, `"${part}" is not a tag: tags are 1-64 characters of a-z, 0-9, _, : or -`, value);
          else if (!contact.tags.includes(tag.data)) contact.tags.push(tag.data);
        }
        break;
      case 'timeZone':
        if (isValidTimeZone(value)) contact.timeZone = value;
        else problem(column, 'is not an IANA time zone such as Europe/Berlin', value);
        break;
      case 'country': {
        const country = normalizeCountryCode(value);
        if (country.ok) contact.country = country.value;
        else problem(column, country.reason, value);
        break;
      }
      default: {
        const key = field.slice('custom.'.length);
        if (value.length > limits.customValue) problem(column, `is longer than ${limits.customValue} characters`, value);
        else contact.customFields[key] = value;
      }
    }
  }

  const phoneCountry = contact.country ?? defaultCountry ?? undefined;
  for (const { column, value } of phoneCells) {
    for (const part of value.split(';').map((text) => text.trim()).filter(Boolean)) {
      const phone = normalizePhone(part, phoneCountry);
      if (!phone.ok) problem(column, phoneReason(phone.reason), value);
      else if (!contact.phones.some((known) => known.value === phone.value)) contact.phones.push({ value: phone.value, column });
    }
  }

  if (fullName && !contact.firstName && !contact.lastName) {
    const split = splitPersonName(fullName.value);
    contact.firstName = split.firstName ?? null;
    contact.lastName = split.lastName ?? null;
  }
  if (!hadAddress) problem(null, 'has no email address or phone number; a contact needs one', null);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, contact };
}

/** normalizePhone speaks of a form's default country; an import has an option and a column for it. */
function phoneReason(reason: string): string {
  return reason.includes('default country')
    ? 'is not in international format (+ and country code); set the defaultCountry option or map a country column'
    : reason;
}
