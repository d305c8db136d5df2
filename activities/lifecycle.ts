import { describeStageMove, stageMoveFor, type BehaviourRuleFacts, type StageMove } from '../domain/lifecycle';
import { addPoints, pointsFor } from '../domain/scoring';
import type { LifecycleStage } from '../domain/schemas/common';
import type { ReengagementSettings } from '../domain/schemas/lifecycle';
import type { EventMatch } from '../domain/schemas/scoring';
import type { TrackedEventFact } from '../domain/schemas/tracked-event';
import type { Prisma } from '../runtime/prisma';
import { readAutomationSetting } from './automation-settings';
import type { ActivityDeps } from './deps';

type Tx = Prisma.TransactionClient;

/** Where a contact stands after an activity of this module; the workflow mirrors it in its state. */
export interface LifecycleOutcome {
  /** False when the contact is gone (deleted or never existed): nothing was changed. */
  exists: boolean;
  stage: LifecycleStage;
  ownerId: string | null;
  lastPurchaseAt: string | null;
  /** Set when this step changed the stage; `activityId` is the lifecycle_changed Activity, the event id of the enrollment signal. */
  stageChange: { activityId: string; from: LifecycleStage; move: StageMove } | null;
}

export interface ApplyTrackedEventRequest {
  contactId: string;
  event: TrackedEventFact;
  /** Workflow time of the step: the score decays to it, and a retry computes exactly the same score. */
  appliedAt: string;
  /** Id for the lifecycle_changed Activity should the event change the stage; chosen by the workflow, so a retry writes the same row. */
  stageActivityId: string;
}

export interface ChangeStageRequest {
  contactId: string;
  /** The move happens only from one of these stages (a person may have moved the contact since). */
  fromStages: LifecycleStage[];
  move: StageMove;
  stageActivityId: string;
}

/** Marks an event as applied to the contact, in the same transaction as the score change. */
const appliedEventSource = 'lifecycle';

/**
 * The contact's lifecycle bookkeeping: an event's points (with decay), behaviour rules, the MQL
 * threshold and purchases in one transaction per event, and the timer-driven moves to at_risk
 * and churned. Both are safe to retry and answer a retry exactly as they answered the first
 * attempt, so a workflow task that is replayed after a crash repeats its signals to enrollments
 * rather than losing them.
 */
export function createLifecycleActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    async applyTrackedEvent({ contactId, event, appliedAt, stageActivityId }: ApplyTrackedEventRequest): Promise<LifecycleOutcome> {
      return prisma.$transaction(async (tx) => {
        const { count: firstTime } = await tx.inboundEvent.createMany({
          data: [{ source: appliedEventSource, externalId: event.eventId, contactId, activityId: event.activityId }],
          skipDuplicates: true,
        });
        const contact = await lockContact(tx, contactId);
        if (!contact) return gone;
        if (!firstTime) return outcomeOf(tx, contact, stageActivityId);

        const facts = { type: event.type, properties: event.properties };
        const scoring = await readAutomationSetting(tx, 'scoring');
        const ruleQuery = { where: { eventType: event.type, active: true }, orderBy: [{ createdAt: 'asc' as const }, { id: 'asc' as const }] };
        const scoringRules = await tx.scoringRule.findMany(ruleQuery);
        const behaviourRules = await tx.lifecycleRule.findMany(ruleQuery);
        const { points } = pointsFor(scoringRules.map((rule) => ({ ...rule, match: rule.match as EventMatch })), facts);
        const score = points === 0
          ? null
          : addPoints({ score: contact.score, asOf: contact.scoreAsOf }, points, { occurredAt: new Date(event.occurredAt), now: new Date(appliedAt) }, scoring.halfLifeDays);
        if (score) await tx.contact.update({ where: { id: contactId }, data: { score: score.snapshot.score, scoreAsOf: score.snapshot.asOf } });

        const move = stageMoveFor({
          stage: contact.stage,
          event: facts,
          rules: behaviourRules.map((rule): BehaviourRuleFacts => ({ ...rule, match: rule.match as EventMatch })),
          score,
          mqlThreshold: scoring.mqlThreshold,
        });
        if (!move) return { ...outcomeBase(contact), stageChange: null };
        await recordStageChange(tx, { contactId, from: contact.stage, move, activityId: stageActivityId, eventId: event.eventId, source: 'lifecycle', actorId: `contact:${contactId}` });
        return { ...outcomeBase(contact), stage: move.to, stageChange: { activityId: stageActivityId, from: contact.stage, move } };
      });
    },

    async changeLifecycleStage({ contactId, fromStages, move, stageActivityId }: ChangeStageRequest): Promise<LifecycleOutcome> {
      return prisma.$transaction(async (tx) => {
        const contact = await lockContact(tx, contactId);
        if (!contact) return gone;
        const done = await tx.activity.findUnique({ where: { id: stageActivityId }, select: { id: true } });
        if (done || !fromStages.includes(contact.stage)) return outcomeOf(tx, contact, stageActivityId);
        await recordStageChange(tx, { contactId, from: contact.stage, move, activityId: stageActivityId, source: 'lifecycle', actorId: `contact:${contactId}` });
        return { ...outcomeBase(contact), stage: move.to, stageChange: { activityId: stageActivityId, from: contact.stage, move } };
      });
    },

    /** Read when the quiet-customer timer is armed and again when it fires. */
    async loadReengagementSettings(): Promise<ReengagementSettings> {
      return readAutomationSetting(prisma, 'reengagement');
    },
  };
}

interface LockedContact {
  stage: LifecycleStage;
  score: number;
  scoreAsOf: Date | null;
  ownerId: string | null;
  lastPurchaseAt: Date | null;
}

const gone: LifecycleOutcome = { exists: false, stage: 'lead', ownerId: null, lastPurchaseAt: null, stageChange: null };

/** The row lock serialises this with API edits of the same contact (a PATCH of its stage, a purchase's lastPurchaseAt). */
async function lockContact(tx: Tx, contactId: string): Promise<LockedContact | null> {
  const [row] = await tx.$queryRaw<{ lifecycle_stage: LifecycleStage; score: number; score_as_of: Date | null; owner_id: string | null; last_purchase_at: Date | null }[]>`
    SELECT lifecycle_stage::text AS lifecycle_stage, score, score_as_of, owner_id, last_purchase_at
      FROM contacts WHERE id = ${contactId}::uuid AND deleted_at IS NULL FOR UPDATE`;
  return row ? { stage: row.lifecycle_stage, score: row.score, scoreAsOf: row.score_as_of, ownerId: row.owner_id, lastPurchaseAt: row.last_purchase_at } : null;
}

function outcomeBase(contact: LockedContact): Omit<LifecycleOutcome, 'stageChange'> {
  return { exists: true, stage: contact.stage, ownerId: contact.ownerId, lastPurchaseAt: contact.lastPurchaseAt?.toISOString() ?? null };
}

/** The answer to a retry: the contact as it is, and the stage change the first attempt recorded, if it did. */
async function outcomeOf(tx: Tx, contact: LockedContact, stageActivityId: string): Promise<LifecycleOutcome> {
  const recorded = await tx.activity.findUnique({ where: { id: stageActivityId }, select: { data: true } });
  if (!recorded) return { ...outcomeBase(contact), stageChange: null };
  const { from, eventId: _eventId, source: _source, ...move } = recorded.data as StageChangeData;
  return { ...outcomeBase(contact), stageChange: { activityId: stageActivityId, from, move } };
}

/** What started a stage change: the contact's own workflow, or a step of one of its sequences. */
type StageChangeSource = 'lifecycle' | 'sequence';
type StageChangeData = StageMove & { from: LifecycleStage; source: StageChangeSource; eventId?: string };

/**
 * The one way automation changes a contact's stage: the contact row, a lifecycle_changed Activity
 * (its timeline entry, `activityId` chosen by the caller so a retry finds it) and the audit log,
 * in the caller's transaction with the contact locked.
 */
export async function recordStageChange(
  tx: Tx,
  change: { contactId: string; from: LifecycleStage; move: StageMove; activityId?: string; eventId?: string | null; source: StageChangeSource; actorId: string },
): Promise<void> {
  const { contactId, from, move, eventId, source } = change;
  await tx.contact.update({ where: { id: contactId }, data: { lifecycleStage: move.to } });
  const data: StageChangeData = { from, ...move, source, ...(eventId ? { eventId } : {}) };
  await tx.activity.create({ data: { ...(change.activityId ? { id: change.activityId } : {}), contactId, type: 'lifecycle_changed', subject: describeStageMove(from, move), data } });
  await tx.auditLog.create({
    data: {
      actorType: 'workflow',
      actorId: change.actorId,
      action: 'contact.lifecycle_changed',
      entityType: 'contact',
      entityId: contactId,
      before: { lifecycleStage: from },
      after: { lifecycleStage: move.to, reason: move.reason },
    },
  });
}
