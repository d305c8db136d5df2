import type { PrismaClient } from '../../runtime/prisma';
import type { Cursor } from '../pagination';
import type { TimelineEntry } from './timeline';

/**
 * Everything that happened to a deal, newest first: its stage changes (who moved it, from
 * where, to where, when), its activities and the contact's activities that belong to no other
 * deal, its tasks, and the messages of its contact. One keyset-paginated UNION, read straight
 * from the tables, so a move is visible to every reader as soon as it is committed.
 */
export async function dealTimeline(prisma: PrismaClient, deal: { id: string; contactId: string | null }, take: number, cursor: Cursor | undefined): Promise<TimelineEntry[]> {
  const cursorAt = cursor?.at ?? null;
  const cursorId = cursor?.id ?? null;
  const rows = await prisma.$queryRaw<{ kind: TimelineEntry['kind']; id: string; at: Date; summary: string; data: Record<string, unknown> }[]>`
    SELECT * FROM (
      SELECT 'stage_change' AS kind, c.id, c.changed_at AS at,
             CASE WHEN c.from_stage_id IS NULL
                  THEN COALESCE(u.name, 'An automation') || ' created the deal in ' || t.name
                  ELSE COALESCE(u.name, 'An automation') || ' moved the deal from ' || f.name || ' to ' || t.name END AS summary,
             jsonb_build_object('fromStageId', c.from_stage_id, 'fromStage', f.name, 'toStageId', c.to_stage_id, 'toStage', t.name,
                                'changedById', c.changed_by_id, 'changedBy', u.name) AS data
        FROM deal_stage_changes c
        JOIN stages t ON t.id = c.to_stage_id
        LEFT JOIN stages f ON f.id = c.from_stage_id
        LEFT JOIN users u ON u.id = c.changed_by_id
       WHERE c.deal_id = ${deal.id}::uuid
      UNION ALL
      SELECT 'activity', a.id, a.occurred_at, COALESCE(a.subject, a.type::text),
             jsonb_build_object('type', a.type, 'dealId', a.deal_id, 'contactId', a.contact_id, 'actorUserId', a.actor_user_id) || a.data
        FROM activities a
       WHERE a.deal_id = ${deal.id}::uuid OR (a.deal_id IS NULL AND a.contact_id = ${deal.contactId}::uuid)
      UNION ALL
      SELECT 'task', k.id, k.created_at, 'Task: ' || k.title,
             jsonb_build_object('type', k.type, 'status', k.status, 'dueAt', k.due_at, 'assigneeId', k.assignee_id, 'outcome', k.outcome)
        FROM tasks k WHERE k.deal_id = ${deal.id}::uuid
      UNION ALL
      SELECT 'message', m.id, m.created_at, m.channel::text || ': ' || COALESCE(m.subject, m.template_key, ''),
             jsonb_build_object('channel', m.channel, 'status', m.status, 'to', m.to_address, 'templateKey', m.template_key)
        FROM messages m WHERE m.contact_id = ${deal.contactId}::uuid
    ) entries
    WHERE ${cursorAt}::timestamptz IS NULL OR (at, id) < (${cursorAt}::timestamptz, ${cursorId}::uuid)
    ORDER BY at DESC, id DESC
    LIMIT ${take}`;
  return rows.map((row) => ({ ...row, at: row.at.toISOString() }));
}
