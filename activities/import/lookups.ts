import { addressKey, type BatchLookups, type ContactSnapshot, type KnownCompany } from '../../domain/import/plan';
import type { StageRequirements } from '../../domain/import/required-fields';
import type { ImportedContact } from '../../domain/import/row';
import type { LifecycleStage } from '../../domain/schemas/common';
import { emptySql, sql, type SqlClient } from './database';

/**
 * What planning a batch needs to know, read in a few set-based queries: who owns the batch's
 * addresses, those contacts as they are, and the companies the batch names. In a real import
 * the matched contacts are locked until the batch commits, so nobody changes them in between.
 * A dry run also reads what its own earlier batches would have written (import_dry_run_entries).
 */

interface SnapshotRow {
  id: string;
  first_name: string | null;
  last_name: string | null;
  lifecycle_stage: LifecycleStage;
  source: string | null;
  time_zone: string | null;
  country: string | null;
  tags: string[] | null;
  custom_fields: Record<string, unknown>;
  company_id: string | null;
  company_name: string | null;
  owner_id: string | null;
  emails: string[];
  phones: string[];
  consent: ContactSnapshot['consent'] | null;
}

export async function readLookups(db: SqlClient, rows: readonly ImportedContact[], dryRunOf: string | null): Promise<BatchLookups> {
  const emails = [...new Set(rows.flatMap((row) => row.emails.map((email) => email.value)))];
  const phones = [...new Set(rows.flatMap((row) => row.phones.map((phone) => phone.value)))];
  const companyKeys = [
    ...new Set(rows.flatMap((row) => [row.companyDomain ? `domain:${row.companyDomain}` : '', row.companyKey ? `name:${row.companyKey}` : ''])),
  ].filter((key) => key !== '');
  const owners = new Map<string, string>();
  const contacts = new Map<string, ContactSnapshot>();
  const companies = await readCompanies(db, companyKeys);

  if (dryRunOf) {
    const keys = [...emails.map((email) => addressKey('email', email)), ...phones.map((phone) => addressKey('phone', phone)), ...companyKeys.map((key) => `company:${key}`)];
    const entries = await db.rows<{ key: string; value: unknown }>(sql`
      SELECT key, value FROM import_dry_run_entries WHERE import_id = ${dryRunOf}::uuid AND key = ANY(${keys}::text[])`);
    for (const { key, value } of entries) {
      if (key.startsWith('company:')) {
        if (!companies.has(key.slice('company:'.length))) companies.set(key.slice('company:'.length), value as KnownCompany);
        continue;
      }
      const { contactId, snapshot } = value as DryRunContact;
      owners.set(key, contactId);
      contacts.set(contactId, snapshot);
    }
  }

  const stored = await db.rows<{ key: string; contact_id: string }>(sql`
    SELECT 'email:' || address AS key, contact_id FROM contact_emails WHERE address = ANY(${emails}::text[])
    UNION ALL
    SELECT 'phone:' || e164, contact_id FROM contact_phones WHERE e164 = ANY(${phones}::text[])`);
  const unread = [...new Set(stored.filter((row) => !owners.has(row.key) && !contacts.has(row.contact_id)).map((row) => row.contact_id))];
  if (unread.length > 0) {
    const lock = dryRunOf ? emptySql : sql`FOR NO KEY UPDATE OF c`;
    const snapshots = await db.rows<SnapshotRow>(sql`
      SELECT c.id, c.first_name, c.last_name, c.lifecycle_stage, c.source, c.time_zone, c.country, c.tags, c.custom_fields,
             c.company_id, co.name AS company_name, c.owner_id,
             ARRAY(SELECT e.address FROM contact_emails e WHERE e.contact_id = c.id ORDER BY e.is_primary DESC, e.created_at, e.address) AS emails,
             ARRAY(SELECT p.e164 FROM contact_phones p WHERE p.contact_id = c.id ORDER BY p.is_primary DESC, p.created_at, p.e164) AS phones,
             (SELECT jsonb_object_agg(k.channel, k.status) FROM contact_consents k WHERE k.contact_id = c.id) AS consent
      FROM contacts c LEFT JOIN companies co ON co.id = c.company_id
      WHERE c.id = ANY(${unread}::uuid[]) AND c.deleted_at IS NULL
      ORDER BY c.id
      ${lock}`);
    for (const row of snapshots) contacts.set(row.id, snapshotOf(row));
  }
  // An address whose contact was deleted meanwhile (deletion releases addresses) matches nobody.
  for (const row of stored) if (!owners.has(row.key) && contacts.has(row.contact_id)) owners.set(row.key, row.contact_id);

  return { owners, contacts, companies };
}

/** How a dry run remembers a contact under each of its address keys. */
export interface DryRunContact {
  contactId: string;
  snapshot: ContactSnapshot;
}

function snapshotOf(row: SnapshotRow): ContactSnapshot {
  return {
    firstName: row.first_name,
    lastName: row.last_name,
    emails: row.emails,
    phones: row.phones,
    company: row.company_id ? { ref: row.company_id, name: row.company_name ?? '' } : null,
    ownerId: row.owner_id,
    lifecycleStage: row.lifecycle_stage,
    source: row.source,
    tags: row.tags ?? [],
    timeZone: row.time_zone,
    country: row.country,
    customFields: row.custom_fields,
    consent: row.consent ?? {},
  };
}

/** The lifecycle stages' required fields (/v1/required-fields), read once per batch for all its rows. */
export async function readStageRequirements(db: SqlClient): Promise<StageRequirements> {
  const rules = await db.rows<{ lifecycle_stage: LifecycleStage; fields: string[] }>(sql`
    SELECT lifecycle_stage::text AS lifecycle_stage, fields FROM required_field_rules WHERE lifecycle_stage IS NOT NULL`);
  return new Map(rules.map((rule) => [rule.lifecycle_stage, rule.fields]));
}

/** Companies by `domain:<domain>` and `name:<match key>`; of several with one name, the oldest. */
async function readCompanies(db: SqlClient, keys: readonly string[]): Promise<Map<string, KnownCompany>> {
  const companies = new Map<string, KnownCompany>();
  if (keys.length === 0) return companies;
  const domains = keys.filter((key) => key.startsWith('domain:')).map((key) => key.slice('domain:'.length));
  const nameKeys = keys.filter((key) => key.startsWith('name:')).map((key) => key.slice('name:'.length));
  const found = await db.rows<{ id: string; name: string; domain: string | null; name_key: string | null }>(sql`
    SELECT id, name, domain, name_key FROM companies
    WHERE deleted_at IS NULL AND (domain = ANY(${domains}::text[]) OR name_key = ANY(${nameKeys}::text[]))
    ORDER BY created_at, id`);
  for (const company of found) {
    const known: KnownCompany = { ref: company.id, name: company.name, domain: company.domain };
    if (company.domain) companies.set(`domain:${company.domain}`, known);
    if (company.name_key && !companies.has(`name:${company.name_key}`)) companies.set(`name:${company.name_key}`, known);
  }
  return companies;
}
