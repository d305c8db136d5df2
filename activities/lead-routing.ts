import { pickNextRep } from '../domain/routing';
import type { ActivityDeps } from './deps';

export interface AssignedOwner {
  ownerId: string;
  /** False when the contact already had an owner (a retry, a replay or a manual assignment). */
  newlyAssigned: boolean;
}

const defaultPool = 'reps';

/**
 * Round-robin among active reps, skipping those at capacity. The cursor row is locked for
 * the whole choice so concurrent leads never pick the same "next" rep, and an owner already
 * on the contact is kept, which makes the activity safe to retry.
 */
export function createLeadRoutingActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    async assignOwner(contactId: string): Promise<AssignedOwner | null> {
      return prisma.$transaction(async (tx) => {
        await tx.$executeRaw`INSERT INTO routing_cursors (pool, updated_at) VALUES (${defaultPool}, now()) ON CONFLICT (pool) DO NOTHING`;
        const [cursor] = await tx.$queryRaw<{ last_user_id: string | null }[]>`
          SELECT last_user_id FROM routing_cursors WHERE pool = ${defaultPool} FOR UPDATE`;
        const contact = await tx.contact.findUniqueOrThrow({ where: { id: contactId }, select: { ownerId: true } });
        if (contact.ownerId) return { ownerId: contact.ownerId, newlyAssigned: false };

        const candidates = await tx.$queryRaw<{ id: string; lead_capacity: number | null; open_leads: bigint }[]>`
          SELECT u.id, u.lead_capacity,
                 (SELECT count(*) FROM contacts c
                   WHERE c.owner_id = u.id AND c.deleted_at IS NULL AND c.lifecycle_stage IN ('lead', 'mql')) AS open_leads
            FROM users u
           WHERE u.role = 'rep' AND u.active`;
        const chosen = pickNextRep(
          candidates.map((row) => ({ id: row.id, leadCapacity: row.lead_capacity, openLeads: Number(row.open_leads) })),
          cursor?.last_user_id ?? null,
        );
        if (!chosen) return null;
        await tx.contact.update({ where: { id: contactId }, data: { ownerId: chosen.id } });
        await tx.routingCursor.update({ where: { pool: defaultPool }, data: { lastUserId: chosen.id } });
        await tx.auditLog.create({
          data: {
            actorType: 'workflow',
            actorId: `contact:${contactId}`,
            action: 'contact.owner_assigned',
            entityType: 'contact',
            entityId: contactId,
            before: { ownerId: null },
            after: { ownerId: chosen.id, rule: 'round_robin' },
          },
        });
        return { ownerId: chosen.id, newlyAssigned: true };
      });
    },
  };
}
