import { addBusinessDays } from '../domain/business-time';
import { runDuplicateAuditPlan, type DuplicateAuditOptions, type DuplicateAuditSteps, type DuplicateAuditSummary } from '../domain/duplicate-audit-plan';
import { blockingKeys, matchProfile, maxBlockSize, scoreBlock, type MatchInput, type MatchProfile } from '../domain/matching';
import { Prisma, type PrismaClient } from '../runtime/prisma';
import type { ActivityDeps } from './deps';

/**
 * The duplicate audit's steps (domain/duplicate-audit-plan.ts). Each is safe to retry: keys
 * are rewritten per page in one transaction, candidates are upserted on their pair, and a
 * review task is created together with its pairs' assignment, under a business key.
 */

interface ContactRow {
  id: string;
  first_name: string | null;
  last_name: string | null;
  custom_fields: Record<string, unknown>;
  company_id: string | null;
  company_name: string | null;
  company_domain: string | null;
  country: string | null;
  deleted: boolean;
}

/**
 * What matching reads of a page of contacts. Three plain queries rather than one with
 * correlated subqueries: the planner prices those so high on a freshly imported table (no
 * statistics yet) that it JIT-compiles them, which took longer than the page itself.
 */
async function matchInputs(prisma: PrismaClient, where: Prisma.Sql, limit: number): Promise<Array<{ input: MatchInput; deleted: boolean }>> {
  const rows = await prisma.$queryRaw<ContactRow[]>`
    SELECT c.id, c.first_name, c.last_name, c.custom_fields, c.company_id, co.name AS company_name, co.domain AS company_domain, c.country,
           c.deleted_at IS NOT NULL AS deleted
    FROM contacts c LEFT JOIN companies co ON co.id = c.company_id
    WHERE ${where}
    ORDER BY c.id
    LIMIT ${limit}`;
  const ids = rows.map((row) => row.id);
  const [emails, phones] = await Promise.all([
    prisma.$queryRaw<Array<{ contact_id: string; value: string }>>`
      SELECT contact_id, address AS value FROM contact_emails WHERE contact_id = ANY(${ids}::uuid[]) ORDER BY is_primary DESC, created_at`,
    prisma.$queryRaw<Array<{ contact_id: string; value: string }>>`
      SELECT contact_id, e164 AS value FROM contact_phones WHERE contact_id = ANY(${ids}::uuid[]) ORDER BY is_primary DESC, created_at`,
  ]);
  const byContact = (values: Array<{ contact_id: string; value: string }>) => {
    const map = new Map<string, string[]>();
    for (const { contact_id: contactId, value } of values) map.set(contactId, [...(map.get(contactId) ?? []), value]);
    return map;
  };
  const emailsOf = byContact(emails);
  const phonesOf = byContact(phones);
  return rows.map((row) => ({
    deleted: row.deleted,
    input: {
      id: row.id,
      firstName: row.first_name,
      lastName: row.last_name,
      emails: emailsOf.get(row.id) ?? [],
      phones: phonesOf.get(row.id) ?? [],
      companyId: row.company_id,
      companyName: row.company_name,
      companyDomain: row.company_domain,
      country: row.country,
      customFields: row.custom_fields,
    },
  }));
}

export function createDuplicateAuditActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    /**
     * Brings the blocking keys of one page of contacts up to date; deleted and merged contacts
     * lose theirs. Only the difference is written: on a nightly run almost nothing changed, and
     * rewriting every key would only bloat the table.
     */
    async indexContactMatchKeys({ afterId, limit }: { afterId: string | null; limit: number }) {
      const rows = await matchInputs(prisma, afterId ? Prisma.sql`c.id > ${afterId}::uuid` : Prisma.sql`TRUE`, limit);
      const ids = rows.map((row) => row.input.id);
      const wanted = new Set<string>();
      for (const { input, deleted } of rows) {
        if (!deleted) for (const key of blockingKeys(matchProfile(input))) wanted.add(`${input.id} ${key}`);
      }
      const stored = await prisma.$queryRaw<Array<{ entry: string }>>`
        SELECT contact_id || ' ' || key AS entry FROM contact_match_keys WHERE contact_id = ANY(${ids}::uuid[])`;
      const have = new Set(stored.map((row) => row.entry));
      const split = (entries: string[]) => ({ owners: entries.map((entry) => entry.slice(0, 36)), keys: entries.map((entry) => entry.slice(37)) });
      const gone = split([...have].filter((entry) => !wanted.has(entry)));
      const added = split([...wanted].filter((entry) => !have.has(entry)));
      if (gone.keys.length + added.keys.length > 0) {
        await prisma.$transaction([
          prisma.$executeRaw`DELETE FROM contact_match_keys WHERE (contact_id, key) IN (SELECT * FROM unnest(${gone.owners}::uuid[], ${gone.keys}::text[]))`,
          prisma.$executeRaw`INSERT INTO contact_match_keys (contact_id, key) SELECT * FROM unnest(${added.owners}::uuid[], ${added.keys}::text[]) ON CONFLICT DO NOTHING`,
        ]);
      }
      return { contacts: rows.length, keys: wanted.size, nextAfterId: rows.length === limit ? ids[ids.length - 1]! : null };
    },

    /** Scores the pairs of one page of shared keys (blocks) and upserts them as this audit's candidates. */
    async scoreDuplicateBlocks({ auditKey, afterKey, limit }: { auditKey: string; afterKey: string | null; limit: number }) {
      const blocks = await prisma.$queryRaw<Array<{ key: string; size: number; ids: string[] }>>`
        SELECT key, count(*)::int AS size, (array_agg(contact_id ORDER BY contact_id))[1:${maxBlockSize + 1}::int] AS ids
        FROM contact_match_keys
        WHERE key > ${afterKey ?? ''}
        GROUP BY key
        HAVING count(*) > 1
        ORDER BY key
        LIMIT ${limit}`;
      const scored = blocks.filter((block) => block.size <= maxBlockSize);
      const ids = [...new Set(scored.flatMap((block) => block.ids))];
      const profiles = new Map<string, MatchProfile>();
      for (const { input } of await matchInputs(prisma, Prisma.sql`c.id = ANY(${ids}::uuid[]) AND c.deleted_at IS NULL`, ids.length)) profiles.set(input.id, matchProfile(input));

      // One pair often shares several keys (name and email): score it once.
      const pairs = new Map<string, { a: string; b: string; score: number; reasons: string[] }>();
      for (const block of scored) {
        const members = block.ids.map((id) => profiles.get(id)).filter((profile): profile is MatchProfile => profile !== undefined);
        for (const pair of scoreBlock(members)) {
          pairs.set(`${pair.contactAId}|${pair.contactBId}`, { a: pair.contactAId, b: pair.contactBId, score: pair.score, reasons: pair.reasons });
        }
      }
      if (pairs.size > 0) {
        // A dismissed or merged pair keeps its status; only what the audit measures is refreshed.
        await prisma.$executeRaw`
          INSERT INTO duplicate_candidates (id, contact_a_id, contact_b_id, score, reasons, audit_key)
          SELECT gen_random_uuid(), x.a, x.b, x.score, x.reasons, ${auditKey}
          FROM jsonb_to_recordset(${JSON.stringify([...pairs.values()])}::jsonb) AS x(a uuid, b uuid, score float8, reasons text[])
          ON CONFLICT (contact_a_id, contact_b_id) DO UPDATE
            SET score = EXCLUDED.score, reasons = EXCLUDED.reasons, audit_key = EXCLUDED.audit_key, last_seen_at = now()`;
      }
      return {
        blocks: blocks.length,
        oversizedBlocks: blocks.length - scored.length,
        pairs: pairs.size,
        nextAfterKey: blocks.length === limit ? blocks[blocks.length - 1]!.key : null,
      };
    },

    /**
     * Open candidates this audit did not find again no longer look alike: they leave the review
     * list. Also counts the pairs this audit found (a pair in several blocks counts once).
     */
    async retireUnseenDuplicateCandidates({ auditKey }: { auditKey: string }) {
      const retired = await prisma.duplicateCandidate.deleteMany({ where: { status: 'open', auditKey: { not: auditKey } } });
      return { retired: retired.count, found: await prisma.duplicateCandidate.count({ where: { auditKey } }) };
    },

    /**
     * One review task for up to `batchSize` open pairs that no task holds yet, highest scores
     * first, assigned to sales ops (an admin when there is none). The task and the assignment of
     * its pairs commit together under the key `duplicate-review:{auditKey}:{batch}`, so a retry
     * finds the task, and a later audit finds no unassigned pair to hand out twice.
     */
    async createDuplicateReviewTask({ auditKey, batch, batchSize }: { auditKey: string; batch: number; batchSize: number }) {
      const sourceKey = `duplicate-review:${auditKey}:${batch}`;
      return prisma.$transaction(async (tx) => {
        const existing = await tx.task.findUnique({ where: { sourceKey }, select: { id: true } });
        if (existing) return { taskId: existing.id, pairs: await tx.duplicateCandidate.count({ where: { reviewTaskId: existing.id } }) };
        const reviewer = await findReviewer(tx);
        if (!reviewer) return null;
        const pairs = await tx.$queryRaw<Array<{ id: string }>>`
          SELECT id FROM duplicate_candidates WHERE status = 'open' AND review_task_id IS NULL
          ORDER BY score DESC, id LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`;
        if (pairs.length === 0) return null;
        const task = await tx.task.create({
          data: {
            type: 'review',
            title: `Review ${pairs.length} possible duplicate pair${pairs.length === 1 ? '' : 's'} of contacts`,
            description: 'Each pair is listed by GET /v1/contacts/duplicates?reviewTaskId=<this task id>, with its score and reasons. Merge a pair with POST /v1/contacts/{id}/merge, or dismiss it with POST /v1/contacts/duplicates/{pairId}/dismiss when they are different people.',
            dueAt: addBusinessDays(new Date(), 2, reviewer.timeZone),
            assigneeId: reviewer.id,
            sourceType: 'workflow',
            sourceRef: auditKey,
            sourceKey,
          },
        });
        await tx.duplicateCandidate.updateMany({ where: { id: { in: pairs.map((pair) => pair.id) } }, data: { reviewTaskId: task.id } });
        return { taskId: task.id, pairs: pairs.length };
      });
    },
  } satisfies DuplicateAuditSteps;
}

/** The longest-standing active sales ops user, else the longest-standing admin. */
async function findReviewer(tx: Prisma.TransactionClient): Promise<{ id: string; timeZone: string } | null> {
  for (const role of ['sales_ops', 'admin'] as const) {
    const user = await tx.user.findFirst({ where: { role, active: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: { id: true, timeZone: true } });
    if (user) return user;
  }
  return null;
}

/**
 * The whole audit over the contacts table without Temporal, through the same steps the
 * workflow runs: for the import benchmark, which times it over the table an import produced.
 */
export function runDuplicateAudit(prisma: PrismaClient, options: Partial<DuplicateAuditOptions> = {}): Promise<DuplicateAuditSummary> {
  return runDuplicateAuditPlan(createDuplicateAuditActivities({ prisma }), { auditKey: `direct:${new Date().toISOString()}`, ...options });
}
