import { snapshotKeys, type BatchPlan, type CompanyRef, type ImportConsent, type KnownCompany, type NewCompany, type PlannedContact } from '../../domain/import/plan';
import { uuidv7 } from './ids';
import { sql, type SqlClient } from './database';
import { recordImportAudit, recordImportConsent } from './ledger';
import type { DryRunContact } from './lookups';

/**
 * A batch's plan written set-based: a handful of statements per batch whatever its size, each
 * over a JSON array of rows (json_to_recordset: read once, the plain `json` type skips building
 * the binary `jsonb` that `jsonb_to_recordset` would parse the megabyte into first, a third
 * faster per statement on these machines). New addresses go in with ON CONFLICT DO
 * NOTHING and are counted: an address someone else stored since the batch read its lookups
 * fails the batch, and its retry matches that contact instead of creating a second one.
 */

/** Retryable: the next attempt reads the lookups again and sees the other writer's rows. */
export class ConcurrentImportWrite extends Error {
  constructor(what: string) {
    super(`${what} was stored by someone else while the batch ran; the batch is retried`);
    this.name = 'ConcurrentImportWrite';
  }
}

type Tx = SqlClient;

export interface WriteContext {
  importId: string;
  consent: ImportConsent | null;
  at: Date;
}

export async function writePlan(db: Tx, plan: BatchPlan, context: WriteContext): Promise<void> {
  const companyIds = await insertCompanies(db, plan.companies);
  const companyId = (company: CompanyRef | null) => (company ? (companyIds.get(company.ref) ?? company.ref) : null);
  const created = plan.contacts.filter((contact) => contact.isNew);
  const changed = plan.contacts.filter((contact) => !contact.isNew);
  if (created.length > 0) {
    await db.run(sql`
      INSERT INTO contacts (id, first_name, last_name, lifecycle_stage, company_id, source, time_zone, country, tags, custom_fields, created_at, updated_at)
      SELECT x.id, x.first_name, x.last_name, x.lifecycle_stage::"LifecycleStage", x.company_id, x.source, x.time_zone, x.country,
             ARRAY(SELECT jsonb_array_elements_text(x.tags)), x.custom_fields, ${context.at}, ${context.at}
      FROM json_to_recordset(${contactRows(created, companyId)}::json) AS x(
        id uuid, first_name text, last_name text, lifecycle_stage text, company_id uuid, source text, time_zone text, country text, tags jsonb, custom_fields jsonb)`);
  }
  if (changed.length > 0) {
    await db.run(sql`
      UPDATE contacts c
      SET first_name = x.first_name, last_name = x.last_name, lifecycle_stage = x.lifecycle_stage::"LifecycleStage", company_id = x.company_id,
          source = x.source, time_zone = x.time_zone, country = x.country, tags = ARRAY(SELECT jsonb_array_elements_text(x.tags)),
          custom_fields = x.custom_fields, updated_at = ${context.at}
      FROM json_to_recordset(${contactRows(changed, companyId)}::json) AS x(
        id uuid, first_name text, last_name text, lifecycle_stage text, company_id uuid, source text, time_zone text, country text, tags jsonb, custom_fields jsonb)
      WHERE c.id = x.id`);
  }
  await addAddresses(db, plan.contacts, context.at);
  await recordImportConsent(db, plan.consentGrants, context);
  await recordImportAudit(db, plan.changes, { importId: context.importId, at: context.at, companyId });
}

/** New companies; returns their ids by plan ref. */
async function insertCompanies(db: Tx, companies: readonly NewCompany[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (companies.length === 0) return ids;
  const rows = companies.map((company) => ({ id: uuidv7(), name: company.name, domain: company.domain, name_key: company.nameKey }));
  rows.forEach((row, index) => ids.set(companies[index]!.ref, row.id));
  const inserted = await db.run(sql`
    INSERT INTO companies (id, name, domain, name_key, created_at, updated_at)
    SELECT x.id, x.name, x.domain, x.name_key, now(), now()
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(id uuid, name text, domain text, name_key text)
    ON CONFLICT (domain) DO NOTHING`);
  if (inserted < rows.length) throw new ConcurrentImportWrite('a company domain');
  return ids;
}

function contactRows(contacts: readonly PlannedContact[], companyId: (company: CompanyRef | null) => string | null): string {
  return JSON.stringify(
    contacts.map(({ id, after }) => ({
      id,
      first_name: after.firstName,
      last_name: after.lastName,
      lifecycle_stage: after.lifecycleStage,
      company_id: companyId(after.company),
      source: after.source,
      time_zone: after.timeZone,
      country: after.country,
      tags: after.tags,
      custom_fields: after.customFields,
    })),
  );
}

/** Addresses a contact gained, and the primary flags of those whose primary changed. */
async function addAddresses(db: Tx, contacts: readonly PlannedContact[], at: Date): Promise<void> {
  for (const kind of ['emails', 'phones'] as const) {
    const added: Array<{ id: string; contact_id: string; value: string; is_primary: boolean }> = [];
    const primaries: Array<{ contact_id: string; value: string }> = [];
    for (const { id, before, after } of contacts) {
      const known = new Set(before?.[kind] ?? []);
      for (const value of after[kind]) if (!known.has(value)) added.push({ id: uuidv7(), contact_id: id, value, is_primary: !before && value === after[kind][0] });
      if (before && after[kind][0] !== undefined && after[kind][0] !== before[kind][0]) primaries.push({ contact_id: id, value: after[kind][0]! });
    }
    if (added.length > 0) {
      const json = JSON.stringify(added);
      const inserted = kind === 'emails'
        ? await db.run(sql`
            INSERT INTO contact_emails (id, contact_id, address, is_primary, created_at, updated_at)
            SELECT x.id, x.contact_id, x.value, x.is_primary, ${at}, ${at}
            FROM json_to_recordset(${json}::json) AS x(id uuid, contact_id uuid, value text, is_primary boolean)
            ON CONFLICT (address) DO NOTHING`)
        : await db.run(sql`
            INSERT INTO contact_phones (id, contact_id, e164, is_primary, created_at, updated_at)
            SELECT x.id, x.contact_id, x.value, x.is_primary, ${at}, ${at}
            FROM json_to_recordset(${json}::json) AS x(id uuid, contact_id uuid, value text, is_primary boolean)
            ON CONFLICT (e164) DO NOTHING`);
      if (inserted < added.length) throw new ConcurrentImportWrite(kind === 'emails' ? 'an email address' : 'a phone number');
    }
    if (primaries.length > 0) {
      const json = JSON.stringify(primaries);
      if (kind === 'emails') {
        await db.run(sql`
          UPDATE contact_emails e SET is_primary = (e.address = x.value), updated_at = ${at}
          FROM json_to_recordset(${json}::json) AS x(contact_id uuid, value text)
          WHERE e.contact_id = x.contact_id AND e.is_primary <> (e.address = x.value)`);
      } else {
        await db.run(sql`
          UPDATE contact_phones p SET is_primary = (p.e164 = x.value), updated_at = ${at}
          FROM json_to_recordset(${json}::json) AS x(contact_id uuid, value text)
          WHERE p.contact_id = x.contact_id AND p.is_primary <> (p.e164 = x.value)`);
      }
    }
  }
}

/**
 * Dry run: what the batch would have written, for the later batches of the same file: each
 * contact it would create or change, as it would be, under every key it would own, and each
 * company it would create under its domain and name keys.
 */
export async function rememberDryRun(db: Tx, importId: string, plan: Pick<BatchPlan, 'contacts' | 'companies'>): Promise<void> {
  const entries = new Map<string, unknown>();
  for (const { id, after } of plan.contacts) for (const key of snapshotKeys(after)) entries.set(key, { contactId: id, snapshot: after } satisfies DryRunContact);
  for (const company of plan.companies) {
    const known: KnownCompany = { ref: company.ref, name: company.name, domain: company.domain };
    for (const key of [company.domain ? `company:domain:${company.domain}` : null, company.nameKey ? `company:name:${company.nameKey}` : null]) {
      if (key && !entries.has(key)) entries.set(key, known);
    }
  }
  if (entries.size === 0) return;
  await db.run(sql`
    INSERT INTO import_dry_run_entries (import_id, key, value)
    SELECT ${importId}::uuid, x.key, x.value
    FROM json_to_recordset(${JSON.stringify([...entries].map(([key, value]) => ({ key, value })))}::json) AS x(key text, value jsonb)
    ON CONFLICT (import_id, key) DO UPDATE SET value = EXCLUDED.value`);
}
