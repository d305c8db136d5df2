import type { PrismaClient } from '../../runtime/prisma';
import type { Cursor } from '../pagination';

export interface TimelineEntry {
  kind: 'activity' | 'message' | 'task' | 'stage_change';
  id: string;
  at: string;
  summary: string;
  data: Record<string, unknown>;
}

/**
 * One keyset-paginated stream over everything that happened to a contact. A UNION in SQL
 * (rather than four queries merged in memory) keeps each page a single indexed read.
 */
export async function contactTimeline(prisma: PrismaClient, contactId: string, take: number, cursor: Cursor | undefined): Promise<TimelineEntry[]> {
  const cursorAt = cursor?.at ?? null;
  const cursorId = cursor?.id ?? null;
  const rows = await prisma.$queryRaw<{ kind: TimelineEntry['kind']; id: string; at: Date; summary: string; data: Record<string, unknown> }[]>`
    SELECT * FROM (
      SELECT 'activity' AS kind, a.id, a.occurred_at AS at, COALESCE(a.subject, a.type::text) AS summary,
             jsonb_build_object('type', a.type, 'dealId', a.deal_id, 'actorUserId', a.actor_user_id) || a.data AS data
        FROM activities a WHERE a.contact_id = ${contactId}::uuid
      UNION ALL
      SELECT 'message', m.id, m.created_at, m.channel::text || ': ' || COALESCE(m.subject, m.template_key, ''),
             jsonb_build_object('channel', m.channel, 'status', m.status, 'to', m.to_address, 'templateKey', m.template_key)
        FROM messages m WHERE m.contact_id = ${contactId}::uuid
      UNION ALL
      SELECT 'task', t.id, t.created_at, 'Task: ' || t.title,
             jsonb_build_object('type', t.type, 'status', t.status, 'dueAt', t.due_at, 'assigneeId', t.assignee_id, 'outcome', t.outcome)
        FROM tasks t WHERE t.contact_id = ${contactId}::uuid
      UNION ALL
      SELECT 'stage_change', c.id, c.changed_at, 'Deal ' || d.name || ' moved to ' || s.name,
             jsonb_build_object('dealId', d.id, 'fromStageId', c.from_stage_id, 'toStageId', c.to_stage_id, 'changedById', c.changed_by_id)
        FROM deal_stage_changes c JOIN deals d ON d.id = c.deal_id JOIN stages s ON s.id = c.to_stage_id
       WHERE d.contact_id = ${contactId}::uuid
    ) entries
    WHERE ${cursorAt}::timestamptz IS NULL OR (at, id) < (${cursorAt}::timestamptz, ${cursorId}::uuid)
    ORDER BY at DESC, id DESC
    LIMIT ${take}`;
  return rows.map((row) => ({ ...row, at: row.at.toISOString() }));
}
