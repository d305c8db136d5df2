import type { FieldError } from '../errors';
import { foldText } from '../matching';
import { customFieldKey } from '../schemas/common';

/**
 * Which CSV column fills which contact field: the fields, the header spellings that are
 * recognised without a mapping, and the mapping resolved against a file's header row.
 */

/** Contact fields a column can fill. `name` is a full name, split into first and last name. */
export const standardImportFields = [
  'email', 'phone', 'firstName', 'lastName', 'name', 'companyName', 'companyDomain',
  'lifecycleStage', 'source', 'tags', 'timeZone', 'country',
] as const;
export type StandardImportField = (typeof standardImportFields)[number];
export type ImportField = StandardImportField | `custom.${string}`;

export interface ColumnMapping {
  /** Position in the header row, from 0. */
  index: number;
  /** The header cell as written. */
  column: string;
  field: ImportField;
}

/** Several columns may fill these: a second email column adds a second address. */
const repeatableFields = new Set<string>(['email', 'phone', 'tags']);

/** A mapping to this leaves a column out, even one whose header would be recognised. */
export const ignoreField = 'ignore';

/** Header spellings by field, compared folded (case, accents and punctuation ignored). */
const headerSpellings: Record<StandardImportField, string[]> = {
  email: [
    'email', 'e-mail', 'email address', 'e-mail address', 'mail', 'work email', 'business email', 'primary email',
    'email 1', 'e-mail-adresse', 'courriel', 'adresse e-mail', 'correo', 'correo electronico',
  ],
  phone: [
    'phone', 'phone number', 'telephone', 'telephone number', 'tel', 'mobile', 'mobile phone', 'mobile number', 'cell',
    'cell phone', 'work phone', 'business phone', 'direct phone', 'handy', 'telefon', 'telefonnummer', 'mobil',
    'telefono', 'movil', 'portable',
  ],
  firstName: ['first name', 'first', 'given name', 'forename', 'vorname', 'prenom', 'nombre'],
  lastName: ['last name', 'last', 'surname', 'family name', 'nachname', 'nom', 'nom de famille', 'apellido', 'apellidos'],
  name: ['name', 'full name', 'contact name'],
  companyName: [
    'company', 'company name', 'organization', 'organisation', 'organization name', 'account', 'account name', 'employer',
    'firma', 'unternehmen', 'entreprise', 'societe', 'empresa',
  ],
  companyDomain: ['website', 'company website', 'domain', 'company domain', 'web', 'url', 'homepage', 'webseite', 'site web'],
  lifecycleStage: ['lifecycle stage', 'lifecycle', 'stage'],
  source: ['source', 'lead source', 'original source'],
  tags: ['tags', 'tag', 'labels', 'label'],
  timeZone: ['time zone', 'tz'],
  country: ['country', 'country code', 'land', 'pays', 'pais'],
};

/** "E-Mail", "e_mail" and "Email " are one spelling. */
function headerKey(header: string): string {
  return foldText(header).replace(/ /g, '');
}

const fieldByHeader = new Map<string, StandardImportField>(
  Object.entries(headerSpellings).flatMap(([field, spellings]) => spellings.map((spelling) => [headerKey(spelling), field as StandardImportField] as const)),
);

/** The field a header names without a mapping, if it is one of the usual spellings. */
export function detectField(header: string): StandardImportField | null {
  return fieldByHeader.get(headerKey(header)) ?? null;
}

/** A field name as written in a mapping: a standard field, `custom.<name>`, or `ignore`. */
export function parseImportField(text: string): ImportField | typeof ignoreField | null {
  const value = text.trim();
  if (value === ignoreField) return ignoreField;
  if ((standardImportFields as readonly string[]).includes(value)) return value as StandardImportField;
  const custom = /^custom\.(.+)$/.exec(value);
  if (custom && customFieldKey.test(custom[1]!)) return `custom.${custom[1]!}`;
  return null;
}

export interface ExplicitMapping {
  column: string;
  field: ImportField | typeof ignoreField;
}

/**
 * `map=<column>:<field>` as sent: the field follows the last colon, so a header that itself
 * contains a colon ("Phone: work") still maps.
 */
export function parseMapEntry(entry: string): { ok: true; value: ExplicitMapping } | { ok: false; reason: string } {
  const colon = entry.lastIndexOf(':');
  const column = colon > 0 ? entry.slice(0, colon) : '';
  if (!column.trim()) return { ok: false, reason: `"${entry}" is not <column>:<field>` };
  const field = parseImportField(entry.slice(colon + 1));
  if (!field) {
    return {
      ok: false,
      reason: `"${entry.slice(colon + 1)}" is not a field: use one of ${standardImportFields.join(', ')}, custom.<name> (letters, digits and _) or ${ignoreField}`,
    };
  }
  return { ok: true, value: { column, field } };
}

export interface ResolvedMapping {
  mapping: ColumnMapping[];
  /** Header cells that fill nothing. */
  unmapped: string[];
  errors: FieldError[];
}

const maxCustomFields = 100;

/**
 * The mapping of one file: explicit entries first (matched to header cells exactly, else
 * ignoring case and punctuation), every other column by its header spelling. Problems are
 * reported against the `map` query parameter, since that is what the caller can change.
 */
export function resolveMapping(header: readonly string[], explicit: readonly ExplicitMapping[]): ResolvedMapping {
  const errors: FieldError[] = [];
  const fail = (message: string) => errors.push({ field: 'query.map', message });
  const chosen = new Map<number, ImportField | typeof ignoreField>();

  for (const entry of explicit) {
    let indexes = header.flatMap((cell, index) => (cell === entry.column ? [index] : []));
    if (indexes.length === 0) indexes = header.flatMap((cell, index) => (headerKey(cell) === headerKey(entry.column) ? [index] : []));
    if (indexes.length === 0) fail(`"${entry.column}" is not a column of the file; its columns are ${header.map((cell) => `"${cell}"`).join(', ')}`);
    else if (indexes.length > 1) fail(`"${entry.column}" names ${indexes.length} columns of the file; rename them so that each name is used once`);
    else if (chosen.has(indexes[0]!)) fail(`"${entry.column}" is mapped twice`);
    else chosen.set(indexes[0]!, entry.field);
  }

  const mapping: ColumnMapping[] = [];
  const unmapped: string[] = [];
  const explicitOwner = new Map<ImportField, number>();
  for (const [index, field] of chosen) if (field !== ignoreField) explicitOwner.set(field, index);
  header.forEach((column, index) => {
    const field = chosen.has(index) ? chosen.get(index)! : detectField(column);
    // A column the caller mapped wins over one that only looks like the same field.
    const taken = field !== null && field !== ignoreField && !chosen.has(index) && explicitOwner.has(field) && !repeatableFields.has(field);
    if (field === null || field === ignoreField || taken) {
      if (column.trim()) unmapped.push(column);
      return;
    }
    mapping.push({ index, column, field });
  });

  const byField = new Map<ImportField, ColumnMapping[]>();
  for (const entry of mapping) byField.set(entry.field, [...(byField.get(entry.field) ?? []), entry]);
  for (const [field, entries] of byField) {
    if (entries.length > 1 && !repeatableFields.has(field)) {
      fail(`columns ${entries.map((entry) => `"${entry.column}"`).join(' and ')} all map to ${field}; map all but one to another field or to ${ignoreField}`);
    }
  }
  if (!byField.has('email') && !byField.has('phone')) {
    fail('no column maps to email or phone, and a contact needs one: map a column with map=<column>:email or map=<column>:phone');
  }
  if ([...byField.keys()].filter((field) => field.startsWith('custom.')).length > maxCustomFields) {
    fail(`at most ${maxCustomFields} custom fields`);
  }
  return { mapping, unmapped, errors };
}
