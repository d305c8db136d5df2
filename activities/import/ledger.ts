import { consentAuditAction } from '../../domain/consent';
import type { CompanyRef, ConsentGrant, ContactChange, ContactSnapshot, ImportConsent } from '../../domain/import/plan';
import { uuidv7 } from './ids';
import { sql, type SqlClient } from './database';

/**
 * The records that explain an import's changes: consent grants in the consent ledger and the
 * audit log's before and after images, one statement each per batch.
 */

type Tx = SqlClient;

/**
 * The import's consent grants, by the rules of api/services/consent.ts recordConsentChange
 * (append to the ledger, make current unless a newer expression is, one audit row each) for a
 * whole batch at once; that function writes one contact at a time, three statements each. The
 * batch holds the contacts' locks, and the plan never grants over a withdrawal (the guard below
 * holds that even so).
 */
export async function recordImportConsent(db: Tx, grants: readonly ConsentGrant[], context: { importId: string; consent: ImportConsent | null; at: Date }): Promise<void> {
  if (grants.length === 0 || !context.consent) return;
  const rows = JSON.stringify(grants.map((grant) => ({ contact_id: grant.contactId, channel: grant.channel, line: grant.line })));
  const action = consentAuditAction('granted');
  await db.run(sql`
    WITH grants AS (
      SELECT * FROM json_to_recordset(${rows}::json) AS x(contact_id uuid, channel text, line int)
    ), events AS (
      INSERT INTO consent_events (id, contact_id, channel, status, source, method, evidence, at)
      SELECT gen_random_uuid(), g.contact_id, g.channel::"Channel", 'granted', 'import', 'import',
             jsonb_build_object('importId', ${context.importId}::text, 'line', g.line, 'basis', ${context.consent.basis}::text), ${context.at}
      FROM grants g
      RETURNING id, contact_id, channel
    ), current AS (
      INSERT INTO contact_consents (id, contact_id, channel, status, source, at)
      SELECT gen_random_uuid(), g.contact_id, g.channel::"Channel", 'granted', 'import', ${context.at} FROM grants g
      ON CONFLICT (contact_id, channel) DO UPDATE SET status = EXCLUDED.status, source = EXCLUDED.source, at = EXCLUDED.at
        WHERE contact_consents.status <> 'revoked' AND contact_consents.at <= EXCLUDED.at
      RETURNING contact_id, channel
    )
    INSERT INTO audit_log (id, actor_type, actor_id, action, entity_type, entity_id, after, at)
    SELECT gen_random_uuid(), 'import', ${context.importId}, ${action}, 'contact', c.contact_id::text,
           jsonb_build_object('channel', c.channel, 'status', 'granted', 'source', 'import', 'method', 'import', 'at', ${context.at}::timestamptz, 'consentEventId', e.id),
           ${context.at}
    FROM current c JOIN events e ON e.contact_id = c.contact_id AND e.channel = c.channel`);
}

/**
 * By actor `import` (the import id): one `import.contacts_created` entry per batch on the import,
 * listing the contacts it created with their lines (their values are the contacts' own, and the
 * import keeps its options), and one `contact.updated` per changed contact with the changed
 * fields before and after. Consent changes have their own rows (above).
 */
export async function recordImportAudit(db: Tx, changes: readonly ContactChange[], context: { importId: string; at: Date; companyId(company: CompanyRef | null): string | null }): Promise<void> {
  const image = (snapshot: ContactSnapshot, fields: readonly string[]) => {
    const { consent: _consent, company, customFields, ...plain } = snapshot;
    const full: Record<string, unknown> = { ...plain, company: company ? { id: context.companyId(company), name: company.name } : null };
    const picked: Record<string, unknown> = {};
    for (const field of fields) {
      if (field.startsWith('customFields.')) {
        const key = field.slice('customFields.'.length);
        picked.customFields = { ...(picked.customFields as Record<string, unknown> | undefined), [key]: customFields[key] ?? null };
      } else if (!field.startsWith('consent.')) {
        picked[field] = full[field];
      }
    }
    return picked;
  };
  type AuditRow = { id: string; action: string; entity_type: string; entity_id: string; before: Record<string, unknown> | null; after: Record<string, unknown> };
  const rows: AuditRow[] = [];
  const created = changes.filter((change) => change.action === 'created').map((change) => ({ line: change.line, contactId: change.contactId }));
  if (created.length > 0) rows.push({ id: uuidv7(), action: 'import.contacts_created', entity_type: 'import', entity_id: context.importId, before: null, after: { contacts: created } });
  for (const change of changes) {
    const fields = change.action === 'updated' ? change.fields.filter((field) => !field.startsWith('consent.')) : [];
    if (fields.length === 0) continue;
    rows.push({ id: uuidv7(), action: 'contact.updated', entity_type: 'contact', entity_id: change.contactId, before: image(change.before!, fields), after: image(change.after, fields) });
  }
  if (rows.length === 0) return;
  await db.run(sql`
    INSERT INTO audit_log (id, actor_type, actor_id, action, entity_type, entity_id, before, after, at)
    SELECT x.id, 'import', ${context.importId}, x.action, x.entity_type, x.entity_id, x.before, x.after, ${context.at}
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(id uuid, action text, entity_type text, entity_id text, before jsonb, after jsonb)`);
}
