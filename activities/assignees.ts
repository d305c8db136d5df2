import type { ActivityDeps } from './deps';

const maxManagerHops = 20;

/**
 * The user if active, else the nearest active manager up the chain; null when there is none.
 * Work meant for a deactivated owner or manager (an idle-deal rung, a trigger's task) reaches
 * someone who can act on it instead of an inbox nobody reads.
 */
export async function firstActiveUser(prisma: ActivityDeps['prisma'], userId: string | null): Promise<string | null> {
  // The users API refuses manager cycles; the bound keeps bad data from looping anyway.
  for (let id = userId, hops = 0; id !== null && hops < maxManagerHops; hops += 1) {
    const user = await prisma.user.findUnique({ where: { id }, select: { active: true, managerId: true } });
    if (!user) return null;
    if (user.active) return id;
    id = user.managerId;
  }
  return null;
}
