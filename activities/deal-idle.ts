import { addBusinessDays } from '../domain/business-time';
import { idleTaskDescription, idleTaskTitle } from '../domain/deal-idle';
import { dealWorkflowId } from '../workflows/workflow-ids';
import { firstActiveUser } from './assignees';
import type { ActivityDeps } from './deps';
import { createTaskActivities } from './tasks';

/** What the deal workflow starts from. */
export type DealStartFacts =
  | { exists: false }
  | {
      exists: true;
      /** Won or lost by its status, or by the stage it is in. */
      status: 'open' | 'won' | 'lost';
      stageId: string;
      stageEnteredAt: string;
      lastTouchAt: string;
      rotting: boolean;
      idleLimitDays: number | null;
      /** When the idle clock of the current stage runs out (from the later of entry and last touch); null: never. */
      idleDeadline: string | null;
      /** The DealStageChange that entered the current stage; null for the stage it was created in. */
      stageEntryId: string | null;
    };

export interface IdleEscalationRequest {
  dealId: string;
  level: 1 | 2;
  /** domain/deal-idle.ts idleStepKey: the task's source key. */
  stepKey: string;
  /** How long the deal has been idle, in business days. */
  idleDays: number;
  /** Level 1: the next period runs from here (the deadline that fired) for this many business days. */
  nextPeriod?: { from: string; businessDays: number };
}

export type IdleEscalationOutcome =
  | { status: 'escalated'; ownerId: string; taskId: string | null; assigneeId: string | null; nextDeadline: string | null }
  /** Closed in the database although no stage change said so (yet): nothing is created. */
  | { status: 'closed'; dealStatus: 'won' | 'lost' }
  | { status: 'deleted' };

/**
 * When an idle period that starts at `from` ends: `businessDays` business days later in the
 * owner's zone. Computed in activities, never in the workflow, because business days depend on
 * the zone's tz data; each activity that starts a period returns its deadline, so the workflow
 * needs no extra step for it.
 */
export function idleDeadlineAt(from: string | Date, businessDays: number, ownerTimeZone: string): string {
  return addBusinessDays(new Date(from), businessDays, ownerTimeZone).toISOString();
}

/** The database side of the idle-deal ladder (domain/deal-idle.ts). */
export function createDealIdleActivities(deps: Pick<ActivityDeps, 'prisma'>) {
  const { prisma } = deps;
  const { createFollowUpTask } = createTaskActivities(deps);

  return {
    async loadDealFacts(dealId: string): Promise<DealStartFacts> {
      const deal = await prisma.deal.findUnique({
        where: { id: dealId },
        include: { stage: { select: { idleLimitDays: true, isWon: true, isLost: true } }, owner: { select: { timeZone: true } } },
      });
      if (!deal || deal.deletedAt) return { exists: false };
      const idleFrom = deal.lastTouchAt > deal.stageEnteredAt ? deal.lastTouchAt : deal.stageEnteredAt;
      const entry = await prisma.dealStageChange.findFirst({
        where: { dealId, toStageId: deal.stageId },
        orderBy: [{ changedAt: 'desc' }, { id: 'desc' }],
        select: { id: true, fromStageId: true },
      });
      return {
        exists: true,
        status: deal.status !== 'open' ? deal.status : deal.stage.isWon ? 'won' : deal.stage.isLost ? 'lost' : 'open',
        stageId: deal.stageId,
        stageEnteredAt: deal.stageEnteredAt.toISOString(),
        lastTouchAt: deal.lastTouchAt.toISOString(),
        rotting: deal.rotting,
        idleLimitDays: deal.stage.idleLimitDays,
        idleDeadline: deal.stage.idleLimitDays === null ? null : idleDeadlineAt(idleFrom, deal.stage.idleLimitDays, deal.owner.timeZone),
        // A creation record (no from-stage) is the creation itself, not a move into the stage.
        stageEntryId: entry?.fromStageId ? entry.id : null,
      };
    },

    /** A touch: a new idle period from `from` (none without a limit), and the rotting flag goes when `clearRotting`. Returns its deadline. */
    async restartIdleClock(request: { dealId: string; from: string; businessDays: number | null; clearRotting: boolean }): Promise<string | null> {
      if (request.clearRotting) await prisma.deal.updateMany({ where: { id: request.dealId, rotting: true }, data: { rotting: false } });
      if (request.businessDays === null) return null;
      const deal = await prisma.deal.findUnique({ where: { id: request.dealId }, select: { owner: { select: { timeZone: true } } } });
      return idleDeadlineAt(request.from, request.businessDays, deal?.owner.timeZone ?? 'UTC');
    },

    /** One rung: level 1 a task for the owner; level 2 a task for the owner's manager and the rotting flag. */
    async escalateIdleDeal(request: IdleEscalationRequest): Promise<IdleEscalationOutcome> {
      const deal = await prisma.deal.findUnique({
        where: { id: request.dealId },
        select: { name: true, status: true, deletedAt: true, contactId: true, stage: { select: { name: true } }, owner: { select: { id: true, name: true, managerId: true, timeZone: true } } },
      });
      if (!deal || deal.deletedAt) return { status: 'deleted' };
      if (deal.status !== 'open') return { status: 'closed', dealStatus: deal.status };
      // A deactivated owner's or manager's rung goes to the first active manager above them.
      const assigneeId = await firstActiveUser(prisma, request.level === 1 ? deal.owner.id : deal.owner.managerId);
      let taskId: string | null = null;
      if (assigneeId) {
        ({ taskId } = await createFollowUpTask({
          contactId: deal.contactId,
          dealId: request.dealId,
          assigneeId,
          sourceKey: request.stepKey,
          sourceRef: dealWorkflowId(request.dealId),
          title: idleTaskTitle(request.level, request.idleDays, deal.stage.name, deal.owner.name),
          description: idleTaskDescription(request.level, deal.name, request.idleDays),
          businessDaysDue: 0,
          type: request.level === 1 ? 'follow_up' : 'review',
          priority: request.level === 1 ? 'normal' : 'high',
        }));
      }
      if (request.level === 2) await prisma.deal.update({ where: { id: request.dealId }, data: { rotting: true } });
      const { nextPeriod } = request;
      return { status: 'escalated', ownerId: deal.owner.id, taskId, assigneeId, nextDeadline: nextPeriod ? idleDeadlineAt(nextPeriod.from, nextPeriod.businessDays, deal.owner.timeZone) : null };
    },

    /** A stage change clears the flag the second rung set. */
    async clearDealRotting(dealId: string): Promise<void> {
      await prisma.deal.updateMany({ where: { id: dealId, rotting: true }, data: { rotting: false } });
    },
  };
}
