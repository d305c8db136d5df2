import type { ConsentChannel } from '../consent';
import type { LifecycleStage } from '../schemas/common';
import type { RequiredFieldCheck } from './required-fields';
import type { ImportedAddress, ImportedContact, RowProblem } from './row';

/**
 * What a batch of valid rows does to the contacts, decided without I/O: rows match existing
 * contacts by normalised email, then phone; the policy decides what a match changes, and a row
 * that would leave its contact without a field its stage requires is rejected. Rows are
 * applied in file order, so a later row of the same person updates the contact an earlier row
 * created, exactly as if they had been imported one by one. The caller reads the lookups,
 * writes the plan set-based, and a dry run shows it instead.
 */

export const matchPolicies = ['update_blanks', 'overwrite', 'skip'] as const;
export type MatchPolicy = (typeof matchPolicies)[number];

/** An existing company's id, or `new:<key>` for one the import creates. */
export interface CompanyRef {
  ref: string;
  name: string;
}

/** The fields an import reads and writes, as they are (or would be) stored. */
export interface ContactSnapshot {
  firstName: string | null;
  lastName: string | null;
  /** Primary first. */
  emails: string[];
  phones: string[];
  company: CompanyRef | null;
  /** Read for the required-field rules; an import never sets it. */
  ownerId: string | null;
  lifecycleStage: LifecycleStage;
  source: string | null;
  tags: string[];
  timeZone: string | null;
  country: string | null;
  customFields: Record<string, unknown>;
  consent: Partial<Record<ConsentChannel, 'granted' | 'revoked'>>;
}

export interface ImportConsent {
  channels: ConsentChannel[];
  /** How the consent was obtained, recorded as evidence with every grant. */
  basis: string;
}

export interface PlanOptions {
  policy: MatchPolicy;
  /** Source of the contacts the import creates, and of matched ones that have none. */
  source: string;
  consent: ImportConsent | null;
  newId(): string;
  /** Required fields of the stage a row leaves its contact in; a row with any missing is rejected. */
  requiredFields: RequiredFieldCheck;
}

export interface KnownCompany extends CompanyRef {
  domain: string | null;
}

export interface BatchLookups {
  /** Owner of each stored address key (`email:<address>`, `phone:<e164>`). */
  owners: ReadonlyMap<string, string>;
  /** The owners as they are now. */
  contacts: ReadonlyMap<string, ContactSnapshot>;
  /** Companies by `domain:<domain>` and `name:<companyMatchKey>`. */
  companies: ReadonlyMap<string, KnownCompany>;
}

export interface NewCompany {
  ref: string;
  name: string;
  domain: string | null;
  nameKey: string | null;
}

export type RowAction = 'created' | 'updated' | 'skipped';

export interface RowOutcome {
  line: number;
  action: RowAction;
  contactId: string;
  /** Values of an imported row that were not taken, for the report. */
  notes: RowProblem[];
}

/** One row's change to one contact: the dry-run preview and the audit log. */
export interface ContactChange {
  line: number;
  action: 'created' | 'updated';
  contactId: string;
  fields: string[];
  before: ContactSnapshot | null;
  after: ContactSnapshot;
}

export interface PlannedContact {
  id: string;
  isNew: boolean;
  /** As stored before the batch; null for a new contact. */
  before: ContactSnapshot | null;
  after: ContactSnapshot;
}

export interface ConsentGrant {
  contactId: string;
  channel: ConsentChannel;
  line: number;
}

/** A row that would leave its contact without a field its lifecycle stage requires: nothing of it is written. */
export interface RejectedRow {
  line: number;
  problems: RowProblem[];
}

export interface BatchPlan {
  outcomes: RowOutcome[];
  rejected: RejectedRow[];
  changes: ContactChange[];
  /** Every contact the batch creates or changes, as it is after the batch. */
  contacts: PlannedContact[];
  companies: NewCompany[];
  consentGrants: ConsentGrant[];
}

export const addressKey = (kind: 'email' | 'phone', value: string): string => `${kind}:${value}`;

/** The row's address keys, emails first: the order in which rows match. */
function rowKeys(row: ImportedContact): string[] {
  const keys: string[] = [];
  for (const email of row.emails) keys.push(addressKey('email', email.value));
  for (const phone of row.phones) keys.push(addressKey('phone', phone.value));
  return keys;
}

export function snapshotKeys(snapshot: Pick<ContactSnapshot, 'emails' | 'phones'>): string[] {
  return [...snapshot.emails.map((email) => addressKey('email', email)), ...snapshot.phones.map((phone) => addressKey('phone', phone))];
}

export function planBatch(rows: readonly ImportedContact[], lookups: BatchLookups, options: PlanOptions): BatchPlan {
  const owners = new Map(lookups.owners);
  const companies = new Map<string, KnownCompany>(lookups.companies);
  const touched = new Map<string, PlannedContact>();
  const newCompanies: NewCompany[] = [];
  const plan: BatchPlan = { outcomes: [], rejected: [], changes: [], contacts: [], companies: newCompanies, consentGrants: [] };

  /** The row's company: a known one, or a new one that `adopt` registers once the row is taken. */
  const resolveCompany = (row: ImportedContact): { company: CompanyRef | null; created: NewCompany | null } => {
    if (!row.companyName && !row.companyDomain) return { company: null, created: null };
    const nameKey = row.companyKey;
    const byDomain = row.companyDomain ? companies.get(`domain:${row.companyDomain}`) : undefined;
    if (byDomain) return { company: { ref: byDomain.ref, name: byDomain.name }, created: null };
    // A company found by name only counts when its website does not say it is another one.
    const byName = nameKey ? companies.get(`name:${nameKey}`) : undefined;
    if (byName && (!row.companyDomain || !byName.domain)) return { company: { ref: byName.ref, name: byName.name }, created: null };
    const name = row.companyName ?? row.companyDomain!;
    const ref = `new:${row.companyDomain ? `domain:${row.companyDomain}` : `name:${nameKey ?? name}`}`;
    return { company: { ref, name }, created: { ref, name, domain: row.companyDomain, nameKey } };
  };
  const adopt = (created: NewCompany | null) => {
    if (!created) return;
    const known: KnownCompany = { ref: created.ref, name: created.name, domain: created.domain };
    newCompanies.push(created);
    if (created.domain) companies.set(`domain:${created.domain}`, known);
    if (created.nameKey && !companies.has(`name:${created.nameKey}`)) companies.set(`name:${created.nameKey}`, known);
  };
  /** Rejects the row when the contact as it would leave it misses a required field. */
  const rejected = (line: number, after: ContactSnapshot): boolean => {
    const problems = options.requiredFields(after);
    if (problems.length > 0) plan.rejected.push({ line, problems });
    return problems.length > 0;
  };

  /** Plans one row; false when it is rejected and changes nothing. */
  const planRow = (row: ImportedContact, company: CompanyRef | null): boolean => {
    const keys = rowKeys(row);
    const grants: ConsentGrant[] = [];
    let matchedId: string | undefined;
    for (let index = 0; matchedId === undefined && index < keys.length; index += 1) matchedId = owners.get(keys[index]!);

    if (matchedId === undefined) {
      const id = options.newId();
      const after = consentGranted(createdSnapshot(row, company, options.source), options.consent, grants, id, row.line, []);
      if (rejected(row.line, after)) return false;
      plan.consentGrants.push(...grants);
      touched.set(id, { id, isNew: true, before: null, after });
      for (const key of keys) owners.set(key, id);
      plan.outcomes.push({ line: row.line, action: 'created', contactId: id, notes: [] });
      plan.changes.push({ line: row.line, action: 'created', contactId: id, fields: filledFields(after), before: null, after });
      return true;
    }

    if (options.policy === 'skip') {
      plan.outcomes.push({ line: row.line, action: 'skipped', contactId: matchedId, notes: [] });
      return true;
    }
    const entry = touched.get(matchedId) ?? { id: matchedId, isNew: false, before: stored(lookups, matchedId), after: stored(lookups, matchedId) };
    const notes: RowProblem[] = [];
    const own = (kind: 'email' | 'phone') => (address: ImportedAddress) => {
      const owner = owners.get(addressKey(kind, address.value));
      if (owner === undefined || owner === matchedId) return true;
      notes.push({
        column: address.column,
        reason: `belongs to another contact (${owner}) and stays there; merge the two contacts if they are one person`,
        value: address.value,
      });
      return false;
    };
    const applied = applyRow(entry.after, { ...row, emails: row.emails.filter(own('email')), phones: row.phones.filter(own('phone')) }, company, options);
    const after = consentGranted(applied.after, options.consent, grants, matchedId, row.line, notes);
    const fields = [...applied.fields, ...(['email', 'sms'] as const).filter((channel) => after.consent[channel] !== entry.after.consent[channel]).map((channel) => `consent.${channel}`)];
    if (fields.length === 0) {
      plan.outcomes.push({ line: row.line, action: 'skipped', contactId: matchedId, notes });
      return true;
    }
    if (rejected(row.line, after)) return false;
    plan.consentGrants.push(...grants);
    plan.changes.push({ line: row.line, action: 'updated', contactId: matchedId, fields, before: entry.after, after });
    touched.set(matchedId, { ...entry, after });
    for (const key of snapshotKeys(after)) owners.set(key, matchedId);
    plan.outcomes.push({ line: row.line, action: 'updated', contactId: matchedId, notes });
    return true;
  };

  for (const row of rows) {
    const { company, created } = resolveCompany(row);
    if (planRow(row, company)) adopt(created);
  }
  plan.contacts = [...touched.values()];
  return plan;
}

function stored(lookups: BatchLookups, id: string): ContactSnapshot {
  const snapshot = lookups.contacts.get(id);
  // The caller reads the owner of every address it passes; a gap is a bug, not bad input.
  if (!snapshot) throw new Error(`contact ${id} owns an address of the batch but was not read`);
  return snapshot;
}

function createdSnapshot(row: ImportedContact, company: CompanyRef | null, source: string): ContactSnapshot {
  return {
    firstName: row.firstName,
    lastName: row.lastName,
    emails: row.emails.map((email) => email.value),
    phones: row.phones.map((phone) => phone.value),
    company,
    ownerId: null,
    lifecycleStage: row.lifecycleStage ?? 'lead',
    source: row.source ?? source,
    tags: row.tags,
    timeZone: row.timeZone,
    country: row.country,
    customFields: row.customFields,
    consent: {},
  };
}

type ScalarField = 'firstName' | 'lastName' | 'lifecycleStage' | 'source' | 'timeZone' | 'country';

/**
 * A matched row applied under the policy: `overwrite` replaces any value the row has,
 * `update_blanks` fills only what the contact lacks (the lifecycle stage is never blank).
 * Tags and addresses are only ever added; under `overwrite` the row's first address becomes
 * the primary one.
 */
export function applyRow(current: ContactSnapshot, row: ImportedContact, company: CompanyRef | null, options: Pick<PlanOptions, 'policy' | 'source'>): { after: ContactSnapshot; fields: string[] } {
  const overwrite = options.policy === 'overwrite';
  const after: ContactSnapshot = {
    ...current,
    emails: [...current.emails],
    phones: [...current.phones],
    tags: [...current.tags],
    customFields: { ...current.customFields },
    consent: { ...current.consent },
  };
  const fields: string[] = [];
  const scalar = (field: ScalarField, value: string | null) => {
    if (value === null || value === current[field]) return;
    if (overwrite || current[field] === null || current[field] === '') {
      (after as Record<ScalarField, string | null>)[field] = value;
      fields.push(field);
    }
  };
  scalar('firstName', row.firstName);
  scalar('lastName', row.lastName);
  if (overwrite) scalar('lifecycleStage', row.lifecycleStage);
  scalar('source', row.source);
  if (after.source === null) {
    after.source = options.source;
    fields.push('source');
  }
  scalar('timeZone', row.timeZone);
  scalar('country', row.country);
  if (company && company.ref !== current.company?.ref && (overwrite || current.company === null)) {
    after.company = company;
    fields.push('company');
  }
  const newTags = row.tags.filter((tag) => !after.tags.includes(tag));
  if (newTags.length > 0) {
    after.tags.push(...newTags);
    fields.push('tags');
  }
  for (const [key, value] of Object.entries(row.customFields)) {
    const existing = current.customFields[key];
    if (existing === value) continue;
    if (overwrite || existing === undefined || existing === null || existing === '') {
      after.customFields[key] = value;
      fields.push(`customFields.${key}`);
    }
  }
  for (const kind of ['emails', 'phones'] as const) {
    const incoming = row[kind].map((address) => address.value);
    const added = incoming.filter((value) => !after[kind].includes(value));
    after[kind].push(...added);
    const primary = incoming[0];
    if (overwrite && primary !== undefined && after[kind][0] !== primary) after[kind] = [primary, ...after[kind].filter((value) => value !== primary)];
    if (added.length > 0 || after[kind][0] !== current[kind][0]) fields.push(kind);
  }
  return { after, fields };
}

/**
 * Grants the import's consent on each channel the contact has an address for. A contact who
 * withdrew consent is never opted in again by an import: only the person can do that.
 */
function consentGranted(snapshot: ContactSnapshot, consent: ImportConsent | null, grants: ConsentGrant[], contactId: string, line: number, notes: RowProblem[]): ContactSnapshot {
  if (!consent) return snapshot;
  const after = { ...snapshot, consent: { ...snapshot.consent } };
  for (const channel of consent.channels) {
    const hasAddress = channel === 'email' ? after.emails.length > 0 : after.phones.length > 0;
    if (!hasAddress || after.consent[channel] === 'granted') continue;
    if (after.consent[channel] === 'revoked') {
      notes.push({ column: null, reason: `${channel} consent was withdrawn earlier and is not granted again by an import`, value: null });
      continue;
    }
    after.consent[channel] = 'granted';
    grants.push({ contactId, channel, line });
  }
  return after;
}

/** The fields a new contact has a value in, as a created change names them. */
function filledFields(snapshot: ContactSnapshot): string[] {
  const fields: string[] = [];
  const filled = (field: string, value: unknown) => {
    if (value !== null && !(Array.isArray(value) && value.length === 0)) fields.push(field);
  };
  filled('firstName', snapshot.firstName);
  filled('lastName', snapshot.lastName);
  filled('emails', snapshot.emails);
  filled('phones', snapshot.phones);
  filled('company', snapshot.company);
  filled('lifecycleStage', snapshot.lifecycleStage);
  filled('source', snapshot.source);
  filled('tags', snapshot.tags);
  filled('timeZone', snapshot.timeZone);
  filled('country', snapshot.country);
  for (const key in snapshot.customFields) fields.push(`customFields.${key}`);
  for (const channel in snapshot.consent) fields.push(`consent.${channel}`);
  return fields;
}
