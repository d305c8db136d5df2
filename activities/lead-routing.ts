import { leadTerritory } from '../domain/lead-territory';
import { defaultRoutingPool, routeLead, ruleRoutingPool, type RoutingCandidate, type RoutingRuleKind } from '../domain/routing';
import type { ActivityDeps } from './deps';

export interface AssignedOwner {
  ownerId: string;
  /** False when the contact already had an owner (a retry, a replay or a manual assignment). */
  newlyAssigned: boolean;
}

/**
 * Applies sales ops' routing rules in position order (domain/routing.ts `routeLead`), falling
 * back to round robin among all active reps, always within each user's lead capacity.
 *
 * Every assignment first locks the fallback pool's cursor row: it is the one routing lock, so
 * concurrent leads never both take a rep's last free slot, whichever rules chose them. Rule
 * cursors (`rule:{id}`) are locked under it. An owner already on the contact is kept, which
 * makes the activity safe to retry.
 */
export function createLeadRoutingActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    async assignOwner(contactId: string): Promise<AssignedOwner | null> {
      return prisma.$transaction(async (tx) => {
        await tx.$executeRaw`INSERT INTO routing_cursors (pool, updated_at) VALUES (${defaultRoutingPool}, now()) ON CONFLICT (pool) DO NOTHING`;
        await tx.$queryRaw`SELECT pool FROM routing_cursors WHERE pool = ${defaultRoutingPool} FOR UPDATE`;
        const contact = await tx.contact.findUniqueOrThrow({
          where: { id: contactId },
          select: {
            ownerId: true,
            country: true,
            customFields: true,
            company: { select: { ownerId: true } },
            phones: { where: { status: 'valid' }, select: { e164: true }, orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }] },
          },
        });
        if (contact.ownerId) return { ownerId: contact.ownerId, newlyAssigned: false };

        const rules = (await tx.routingRule.findMany({ where: { active: true }, orderBy: { position: 'asc' } })).map((rule) => ({ ...rule, kind: rule.kind as RoutingRuleKind }));
        const pools = [defaultRoutingPool, ...rules.filter((rule) => rule.kind !== 'company_owner').map((rule) => ruleRoutingPool(rule.id))];
        await tx.$executeRaw`
          INSERT INTO routing_cursors (pool, updated_at) SELECT unnest(${pools}::text[]), now() ON CONFLICT (pool) DO NOTHING`;
        const cursorRows = await tx.$queryRaw<{ pool: string; last_user_id: string | null }[]>`
          SELECT pool, last_user_id FROM routing_cursors WHERE pool = ANY(${pools}::text[]) ORDER BY pool FOR UPDATE`;

        const companyOwnerId = contact.company?.ownerId ?? null;
        const named = [...new Set([...rules.flatMap((rule) => rule.userIds), ...(companyOwnerId ? [companyOwnerId] : [])])];
        const users = await tx.$queryRaw<{ id: string; role: string; lead_capacity: number | null; open_leads: bigint }[]>`
          SELECT u.id, u.role::text AS role, u.lead_capacity,
                 (SELECT count(*) FROM contacts c
                   WHERE c.owner_id = u.id AND c.deleted_at IS NULL AND c.lifecycle_stage IN ('lead', 'mql')) AS open_leads
            FROM users u
           WHERE u.active AND (u.role = 'rep' OR u.id = ANY(${named}::uuid[]))`;

        const decision = routeLead({
          lead: { ...leadTerritory({ country: contact.country, customFields: contact.customFields, phones: contact.phones.map((phone) => phone.e164) }), companyOwnerId },
          rules,
          users: new Map(users.map((row): [string, RoutingCandidate] => [row.id, { id: row.id, leadCapacity: row.lead_capacity, openLeads: Number(row.open_leads) }])),
          defaultPool: users.filter((row) => row.role === 'rep').map((row) => row.id),
          cursors: Object.fromEntries(cursorRows.map((row) => [row.pool, row.last_user_id])),
        });
        if (!decision) return null;
        await tx.contact.update({ where: { id: contactId }, data: { ownerId: decision.ownerId } });
        if (decision.pool) await tx.routingCursor.update({ where: { pool: decision.pool }, data: { lastUserId: decision.ownerId } });
        await tx.auditLog.create({
          data: {
            actorType: 'workflow',
            actorId: `contact:${contactId}`,
            action: 'contact.owner_assigned',
            entityType: 'contact',
            entityId: contactId,
            before: { ownerId: null },
            after: { ownerId: decision.ownerId, rule: decision.rule ?? { id: null, name: 'all active reps', kind: 'round_robin' }, pool: decision.pool },
          },
        });
        return { ownerId: decision.ownerId, newlyAssigned: true };
      });
    },
  };
}
