import { randomUUID } from 'node:crypto';
import { TemplateRenderer, templatesRoot } from '../../activities/templates';
import { createTrigger } from '../../api/services/triggers';
import { triggerDefinitionSchema } from '../../domain/schemas/trigger';
import type { PrismaClient } from '../../runtime/prisma';
import type { DealStageChanged } from '../../workflows/deal-messages';

/** A deal of the demo pipeline `Sales`, owned by Rita (Europe/Berlin, managed by Maria), with a contact. */
export async function createDeal(prisma: PrismaClient, options: { stage: string; at: Date; name?: string; amount?: number; withContact?: boolean }) {
  const stage = await prisma.stage.findFirstOrThrow({ where: { name: options.stage, pipeline: { name: 'Sales' } } });
  const rita = await prisma.user.findUniqueOrThrow({ where: { email: 'rita.rep@example.com' } });
  const contact = options.withContact === false
    ? null
    : await prisma.contact.create({
        data: { firstName: 'Ada', lastName: 'Lovelace', lifecycleStage: 'sql', emails: { create: { address: `ada-${randomUUID().slice(0, 8)}@example.com`, isPrimary: true } } },
      });
  return prisma.deal.create({
    data: {
      name: options.name ?? 'Acme renewal',
      amount: options.amount ?? 12_000,
      currency: 'EUR',
      pipelineId: stage.pipelineId,
      stageId: stage.id,
      ownerId: rita.id,
      contactId: contact?.id ?? null,
      stageEnteredAt: options.at,
      lastTouchAt: options.at,
    },
  });
}

/**
 * What PATCH /v1/deals/{id} records for a stage move, for tests that drive the workflow by
 * signal: the DealStageChange row and the deal's new stage, and the signal payload.
 */
export async function recordStageChange(prisma: PrismaClient, dealId: string, toStage: string, at: Date): Promise<DealStageChanged> {
  const deal = await prisma.deal.findUniqueOrThrow({ where: { id: dealId } });
  const stage = await prisma.stage.findFirstOrThrow({ where: { name: toStage, pipelineId: deal.pipelineId } });
  const status = stage.isWon ? 'won' : stage.isLost ? 'lost' : 'open';
  const change = await prisma.dealStageChange.create({ data: { dealId, fromStageId: deal.stageId, toStageId: stage.id, changedAt: at } });
  await prisma.deal.update({ where: { id: dealId }, data: { stageId: stage.id, stageEnteredAt: at, status, ...(status === 'open' ? {} : { closedAt: at }) } });
  return { stageChangeId: change.id, fromStageId: deal.stageId, toStageId: stage.id, at: at.toISOString(), byUserId: null };
}

export async function stageId(prisma: PrismaClient, name: string): Promise<string> {
  return (await prisma.stage.findFirstOrThrow({ where: { name, pipeline: { name: 'Sales' } } })).id;
}

/** A published, active trigger created through the service (the API's own checks); webhooks may use http to 127.0.0.1 (the test fakes' loopback). */
export async function createPublishedTrigger(prisma: PrismaClient, definition: unknown, name = 'test trigger') {
  const audit = { actorId: 'test', requestId: 'test', userId: null };
  return createTrigger(
    { prisma, renderer: new TemplateRenderer(templatesRoot, prisma) },
    { name, definition: triggerDefinitionSchema({ httpAllowedHosts: ['127.0.0.1'], allowPrivateNetworks: true }).parse(definition), publish: true, active: true },
    audit,
  );
}
