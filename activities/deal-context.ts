import { contactTemplateVariables } from '../domain/template-variables';
import type { LifecycleStage } from '../domain/schemas/common';
import type { Prisma, PrismaClient } from '../runtime/prisma';

/**
 * A deal with what the trigger actions and idle notifications say about it: its stage and
 * pipeline names, its owner (with manager and time zone) and its contact. Loaded fresh by each
 * activity that needs it, so a retried step sees the deal as it is now.
 */
const dealInclude = {
  stage: { select: { name: true } },
  pipeline: { select: { name: true } },
  owner: { select: { id: true, name: true, email: true, timeZone: true, managerId: true, active: true } },
  contact: {
    include: {
      emails: { orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }] },
      phones: { orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }] },
      owner: { select: { name: true, email: true } },
    },
  },
} satisfies Prisma.DealInclude;

export type DealContext = Prisma.DealGetPayload<{ include: typeof dealInclude }>;

/** The deal, or null when it does not exist or was deleted. */
export async function loadDealContext(prisma: PrismaClient, dealId: string): Promise<DealContext | null> {
  const deal = await prisma.deal.findUnique({ where: { id: dealId }, include: dealInclude });
  return deal && !deal.deletedAt ? deal : null;
}

/** The deal's contact, unless it has none or it was deleted. */
export function liveContact(deal: DealContext): NonNullable<DealContext['contact']> | null {
  return deal.contact && !deal.contact.deletedAt ? deal.contact : null;
}

export function dealAmount(deal: Pick<DealContext, 'amount'>): number | null {
  return deal.amount === null ? null : Number(deal.amount);
}

/** The `deal` variables of emails and trigger texts. */
export function dealTemplateVariables(deal: DealContext, extra: { idleDays?: number } = {}) {
  return {
    name: deal.name,
    amount: dealAmount(deal),
    currency: deal.currency,
    stage: deal.stage.name,
    pipeline: deal.pipeline.name,
    expectedCloseDate: deal.expectedCloseDate?.toISOString().slice(0, 10) ?? null,
    idleDays: extra.idleDays ?? null,
  };
}

/**
 * The render context of an email about a deal to one of the team (owner or manager): the deal,
 * its owner, and its contact when it has one (its owner is the deal's owner here, not the
 * contact's).
 */
export function dealEmailContext(deal: DealContext, extra: { idleDays?: number } = {}) {
  const contact = liveContact(deal);
  return {
    ...(contact ? { contact: contactTemplateVariables(contact).contact } : {}),
    owner: { name: deal.owner.name, email: deal.owner.email },
    deal: dealTemplateVariables(deal, extra),
  };
}

export function contactLifecycleOf(deal: DealContext): LifecycleStage | null {
  return liveContact(deal)?.lifecycleStage ?? null;
}
