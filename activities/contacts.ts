import type { ActivityDeps } from './deps';

export function createContactActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    /** Small facts the lifecycle workflow needs to start deciding; never whole records. */
    async getContactFacts(contactId: string): Promise<{ exists: boolean; lifecycleStage: string; ownerId: string | null; lastPurchaseAt: string | null }> {
      const contact = await prisma.contact.findUnique({
        where: { id: contactId },
        select: { lifecycleStage: true, ownerId: true, lastPurchaseAt: true, deletedAt: true },
      });
      if (!contact || contact.deletedAt) return { exists: false, lifecycleStage: 'lead', ownerId: null, lastPurchaseAt: null };
      return { exists: true, lifecycleStage: contact.lifecycleStage, ownerId: contact.ownerId, lastPurchaseAt: contact.lastPurchaseAt?.toISOString() ?? null };
    },
  };
}
