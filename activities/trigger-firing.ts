import { entryIdleLimit } from '../domain/deal-idle';
import type { TriggerAction, TriggerDefinition, TriggerEvent } from '../domain/schemas/trigger';
import { triggerFires } from '../domain/trigger-matching';
import type { Prisma } from '../runtime/prisma';
import type { DealStageChanged } from '../workflows/deal-messages';
import { contactLifecycleOf, dealAmount, loadDealContext } from './deal-context';
import { idleDeadlineAt } from './deal-idle';
import type { ActivityDeps } from './deps';
import type { MessagingDeps } from './providers';
import { createTriggerActionExecutors, triggerActionKey, type FinalActionOutcome, type TriggerActionInput, type TriggerActionOutcome } from './trigger-actions';
import { createWebhookDelivery, type WebhookDeps } from './webhooks';

export type { TriggerActionInput, TriggerActionOutcome } from './trigger-actions';

/** A published, active trigger that a stage change fires, with the version it fires. */
export interface MatchedTrigger {
  triggerId: string;
  name: string;
  version: number;
  event: TriggerEvent;
  actions: TriggerAction[];
}

export interface StageChangeMatch {
  /** Null when the deal no longer exists: nothing fires and the workflow ends. */
  deal: { status: 'open' | 'won' | 'lost' } | null;
  /**
   * `idleLimitDays`: the limit of this stage entry, a fired enter trigger's (`idleLimitTriggerId`)
   * or the stage's own (domain/deal-idle.ts entryIdleLimit); `idleDeadline`: when it runs out,
   * counted from the request's `idleFrom`.
   */
  toStage: { idleLimitDays: number | null; idleLimitTriggerId: string | null; isWon: boolean; isLost: boolean; idleDeadline: string | null };
  triggers: MatchedTrigger[];
}

interface CandidateRow {
  trigger_id: string;
  name: string;
  version: number;
  definition: TriggerDefinition;
}

/**
 * Stage-move triggers inside the deal workflow: which triggers a change fires, and each of
 * their actions run exactly once. The TriggerRun ledger (unique trigger, stage change, action
 * index) is checked before an action runs and written when it finished, so a retried activity, a
 * replayed history or a redelivered signal finds the row and does nothing; a crash between the
 * effect and the row is covered by the effect's own business key (trigger-actions.ts).
 */
export function createTriggerFiringActivities(deps: ActivityDeps & MessagingDeps & WebhookDeps) {
  const { prisma, logger } = deps;
  const executors = createTriggerActionExecutors(deps, recordInTx);
  const webhooks = createWebhookDelivery(prisma, deps);

  /** Writes the ledger row; false when it was there already (another attempt finished first). */
  async function recordInTx(tx: Prisma.TransactionClient | typeof prisma, input: TriggerActionInput, outcome: FinalActionOutcome): Promise<boolean> {
    const inserted = await tx.$executeRaw`
      INSERT INTO trigger_runs (id, trigger_id, version, deal_id, stage_change_id, action_index, action_type, status, detail, at)
      VALUES (gen_random_uuid(), ${input.triggerId}::uuid, ${input.version}, ${input.dealId}::uuid, ${input.change.stageChangeId}::uuid,
              ${input.actionIndex}, ${input.action.type}, ${outcome.status}, ${JSON.stringify(outcome.detail)}::jsonb, now())
      ON CONFLICT (trigger_id, stage_change_id, action_index) DO NOTHING`;
    return inserted === 1;
  }

  async function recorded(input: TriggerActionInput): Promise<FinalActionOutcome | null> {
    const row = await prisma.triggerRun.findUnique({
      where: { triggerId_stageChangeId_actionIndex: { triggerId: input.triggerId, stageChangeId: input.change.stageChangeId, actionIndex: input.actionIndex } },
      select: { status: true, detail: true },
    });
    return row ? { status: row.status as FinalActionOutcome['status'], detail: row.detail as Record<string, unknown> } : null;
  }

  return {
    /**
     * The triggers this change fires: published, active, not archived, on the right stage edge,
     * with filters matching the deal as it is now. Also the facts the workflow needs next: the
     * deal's status, the new stage's won/lost flags, and the entry's idle limit (set by a fired
     * enter trigger, else the stage's) and idle deadline. The workflow takes the limit from this
     * result, so a replay sees the one chosen then, whatever the triggers say now.
     */
    async matchStageTriggers(request: { dealId: string; change: DealStageChanged; idleFrom: string }): Promise<StageChangeMatch> {
      const { change } = request;
      const [deal, toStage] = await Promise.all([
        loadDealContext(prisma, request.dealId),
        prisma.stage.findUnique({ where: { id: change.toStageId }, select: { idleLimitDays: true, isWon: true, isLost: true } }),
      ]);
      const { idleLimitDays: stageLimitDays, isWon, isLost } = toStage ?? { idleLimitDays: null, isWon: false, isLost: false };
      if (!deal) return { deal: null, toStage: { idleLimitDays: stageLimitDays, idleLimitTriggerId: null, isWon, isLost, idleDeadline: null }, triggers: [] };
      const stageIds = [change.toStageId, ...(change.fromStageId ? [change.fromStageId] : [])];
      const candidates = await prisma.$queryRaw<CandidateRow[]>`
        SELECT t.id AS trigger_id, t.name, v.version, v.definition
          FROM triggers t
          JOIN trigger_versions v ON v.trigger_id = t.id AND v.version = t.published_version
         WHERE t.active AND t.archived_at IS NULL AND v.status = 'published'
           AND v.definition->>'stageId' = ANY(${stageIds}::text[])
         ORDER BY t.created_at, t.id`;
      const facts = { pipelineId: deal.pipelineId, amount: dealAmount(deal), ownerId: deal.ownerId, contactLifecycleStage: contactLifecycleOf(deal) };
      // Stored definitions were validated, defaults included, when they were saved.
      const fired = candidates.filter((row) => triggerFires(row.definition, change, facts));
      const limit = entryIdleLimit(stageLimitDays, fired.map((row) => ({ triggerId: row.trigger_id, event: row.definition.event, idleLimitDays: row.definition.idleLimitDays })));
      const idleDeadline = limit.idleLimitDays !== null && !isWon && !isLost ? idleDeadlineAt(request.idleFrom, limit.idleLimitDays, deal.owner.timeZone) : null;
      return {
        deal: { status: deal.status },
        toStage: { idleLimitDays: limit.idleLimitDays, idleLimitTriggerId: limit.triggerId, isWon, isLost, idleDeadline },
        triggers: fired.map((row) => ({ triggerId: row.trigger_id, name: row.name, version: row.version, event: row.definition.event, actions: row.definition.actions })),
      };
    },

    /** One action, at most once per (trigger, stage change, action index). */
    async runTriggerAction(input: TriggerActionInput): Promise<TriggerActionOutcome> {
      const earlier = await recorded(input);
      if (earlier) return earlier;
      const outcome = await executors.execute(input);
      if (outcome.status === 'deferred') return outcome;
      if (outcome.status !== 'done') logger.info({ triggerId: input.triggerId, stageChangeId: input.change.stageChangeId, actionIndex: input.actionIndex, ...outcome }, 'trigger action not done');
      // Another attempt (a zombie of a timed-out one) may have recorded it first: its row is the answer.
      if (await recordInTx(prisma, input, outcome)) return outcome;
      return (await recorded(input)) ?? outcome;
    },

    /**
     * An action whose activity gave up (a webhook out of retries, or an error no retry cures):
     * the ledger says failed, a webhook delivery shows as failed with its last error, and the
     * workflow goes on with the next action.
     */
    async failTriggerAction(request: { input: TriggerActionInput; reason: string }): Promise<FinalActionOutcome> {
      const { input } = request;
      const earlier = await recorded(input);
      if (earlier) return earlier;
      let detail: Record<string, unknown> = { reason: request.reason.slice(0, 500) };
      if (input.action.type === 'webhook') {
        const delivery = await webhooks.find(triggerActionKey(input));
        if (delivery) {
          await webhooks.markFailed(delivery.id);
          const row = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id }, select: { lastError: true, lastStatusCode: true, attempts: true } });
          detail = { reason: row.lastError ?? detail.reason, deliveryId: delivery.id, statusCode: row.lastStatusCode, attempts: row.attempts };
        }
      }
      await recordInTx(prisma, input, { status: 'failed', detail });
      logger.warn({ triggerId: input.triggerId, stageChangeId: input.change.stageChangeId, actionIndex: input.actionIndex, ...detail }, 'trigger action failed');
      return (await recorded(input)) ?? { status: 'failed', detail };
    },
  };
}
