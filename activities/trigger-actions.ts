import { ApplicationFailure } from '@temporalio/common';
import type { LifecycleStage } from '../domain/schemas/common';
import { NotFoundError, ValidationError } from '../domain/errors';
import type { TriggerAction, TriggerEvent, TriggerWebhookEvent } from '../domain/schemas/trigger';
import { customFieldName } from '../domain/trigger-validation';
import { Prisma } from '../runtime/prisma';
import { contactTemplateVariables } from '../domain/template-variables';
import type { DealStageChanged } from '../workflows/deal-messages';
import { firstActiveUser } from './assignees';
import { announceStageChange } from './contact-signals';
import type { ActivityDeps } from './deps';
import { dealAmount, dealTemplateVariables, liveContact, loadDealContext, type DealContext } from './deal-context';
import { createEmailSendingActivities } from './email-sending';
import { createEnrollmentActivities } from './enrollments';
import type { MessagingDeps } from './providers';
import { createTaskActivities } from './tasks';
import { renderTriggerJson, renderTriggerText, type TriggerTextContext } from './trigger-texts';
import { createUserEmailActivities } from './user-email';
import { createWebhookDelivery, type WebhookDeps } from './webhooks';

/** One action of one trigger version, fired by one stage change. */
export interface TriggerActionInput {
  triggerId: string;
  triggerName: string;
  version: number;
  /** The trigger's event: whether the deal entered or left its stage. */
  event: TriggerEvent;
  dealId: string;
  change: DealStageChanged;
  actionIndex: number;
  action: TriggerAction;
}

export type FinalActionOutcome = { status: 'done' | 'skipped' | 'failed'; detail: Record<string, unknown> };
/** A marketing email the send policy holds back (quiet hours, frequency cap): ask again at `until` with the same key. */
export type TriggerActionOutcome = FinalActionOutcome | { status: 'deferred'; until: string; detail: Record<string, unknown> };

/** The business key of an action's effect: its task, message, enrollment or webhook delivery. */
export function triggerActionKey(input: Pick<TriggerActionInput, 'triggerId' | 'change' | 'actionIndex'>): string {
  return `trigger:${input.triggerId}:${input.change.stageChangeId}:${input.actionIndex}`;
}

const done = (detail: Record<string, unknown>): FinalActionOutcome => ({ status: 'done', detail });
const skipped = (reason: string, detail: Record<string, unknown> = {}): FinalActionOutcome => ({ status: 'skipped', detail: { reason, ...detail } });
const failed = (reason: string, detail: Record<string, unknown> = {}): FinalActionOutcome => ({ status: 'failed', detail: { reason, ...detail } });

/**
 * What each action type does. Every effect is keyed by triggerActionKey, so an attempt that
 * repeats one after a crash finds it (task source_key, message and webhook idempotency keys,
 * enrollment source_key); update_field writes its ledger row in the same transaction as the
 * field (`recordInTx`). Outcomes that retrying cannot change (no contact, a template that does not
 * render, a refused enrollment) are returned, not thrown, so the workflow goes on.
 */
export function createTriggerActionExecutors(
  deps: ActivityDeps & MessagingDeps & WebhookDeps,
  recordInTx: (tx: Prisma.TransactionClient, input: TriggerActionInput, outcome: FinalActionOutcome) => Promise<boolean>,
) {
  const { prisma } = deps;
  const { createFollowUpTask } = createTaskActivities(deps);
  const { sendTemplatedEmail } = createEmailSendingActivities(deps);
  const { sendDealNotification } = createUserEmailActivities(deps);
  const { enrollInSequence } = createEnrollmentActivities(deps);
  const webhooks = createWebhookDelivery(prisma, deps);

  async function textContext(deal: DealContext, change: DealStageChanged): Promise<TriggerTextContext> {
    const stageIds = [change.toStageId, ...(change.fromStageId ? [change.fromStageId] : [])];
    const [stages, mover] = await Promise.all([
      prisma.stage.findMany({ where: { id: { in: stageIds } }, select: { id: true, name: true } }),
      change.byUserId ? prisma.user.findUnique({ where: { id: change.byUserId }, select: { name: true } }) : null,
    ]);
    const stageName = (id: string | null) => stages.find((stage) => stage.id === id)?.name ?? null;
    return {
      deal: { id: deal.id, ...dealTemplateVariables(deal) },
      contact: contactVariables(deal),
      owner: { name: deal.owner.name, email: deal.owner.email },
      stageChange: { from: stageName(change.fromStageId), to: stageName(change.toStageId) ?? '', at: change.at, by: mover?.name ?? null },
    };
  }

  function webhookEvent(input: TriggerActionInput, deal: DealContext, deliveryId: string): TriggerWebhookEvent {
    const contact = liveContact(deal);
    return {
      id: deliveryId,
      type: eventName(input),
      createdAt: new Date().toISOString(),
      trigger: { id: input.triggerId, name: input.triggerName, version: input.version },
      stageChange: { id: input.change.stageChangeId, fromStageId: input.change.fromStageId, toStageId: input.change.toStageId, at: input.change.at, byUserId: input.change.byUserId },
      deal: {
        id: deal.id, name: deal.name, amount: dealAmount(deal), currency: deal.currency, pipelineId: deal.pipelineId,
        stageId: deal.stageId, status: deal.status, ownerId: deal.ownerId, contactId: contact?.id ?? null,
      },
      contact: contact ? { id: contact.id, firstName: contact.firstName, lastName: contact.lastName, email: (contactVariables(deal)?.email as string | null) ?? null } : null,
      owner: { id: deal.owner.id, name: deal.owner.name, email: deal.owner.email },
    };
  }

  async function webhook(input: TriggerActionInput, deal: DealContext | null, action: Extract<TriggerAction, { type: 'webhook' }>): Promise<FinalActionOutcome> {
    const key = triggerActionKey(input);
    // A delivery already written is finished even if the deal has been deleted since.
    let delivery = await webhooks.find(key);
    if (!delivery) {
      if (!deal) return skipped('the deal was deleted');
      const body = action.body ? renderTriggerJson(action.body, await textContext(deal, input.change)) : null;
      delivery = await webhooks.prepare({
        idempotencyKey: key,
        url: action.url,
        event: eventName(input),
        triggerId: input.triggerId,
        dealId: deal.id,
        buildPayload: (id) => (body ?? webhookEvent(input, deal, id)) as Prisma.InputJsonValue,
      });
    }
    const result = await webhooks.attempt(delivery.id);
    return result.status === 'delivered'
      ? done({ deliveryId: delivery.id, statusCode: result.statusCode })
      : failed(result.reason, { deliveryId: delivery.id, statusCode: result.statusCode });
  }

  async function updateField(input: TriggerActionInput, deal: DealContext, action: Extract<TriggerAction, { type: 'update_field' }>): Promise<FinalActionOutcome> {
    const entityId = action.target === 'deal' ? deal.id : deal.contactId;
    if (!entityId) return skipped('the deal has no contact');
    if (action.field === 'ownerId') {
      const user = await prisma.user.findUnique({ where: { id: String(action.value) }, select: { active: true } });
      if (!user?.active) return failed(`user ${String(action.value)} is not an active user`);
    }
    const outcome = done({ target: action.target, field: action.field, value: action.value });
    await prisma.$transaction(async (tx) => {
      // The ledger row first: when it exists, an earlier attempt already wrote the field.
      if (!(await recordInTx(tx, input, outcome))) return;
      const before = await writeField(tx, action.target, entityId, action.field, action.value);
      await tx.auditLog.create({
        data: {
          actorType: 'trigger',
          actorId: input.triggerId,
          action: `${action.target}.field_updated`,
          entityType: action.target,
          entityId,
          before: { [action.field]: before as Prisma.InputJsonValue },
          after: { [action.field]: action.value as Prisma.InputJsonValue, stageChangeId: input.change.stageChangeId },
        },
      });
    });
    // Also when an earlier attempt wrote it: announcing twice is harmless, never announcing is not.
    if (action.target === 'contact' && action.field === 'lifecycleStage') {
      await announceStageChange(entityId, { changeId: triggerActionKey(input), stage: action.value as LifecycleStage });
    }
    return outcome;
  }

  async function execute(input: TriggerActionInput): Promise<TriggerActionOutcome> {
    const key = triggerActionKey(input);
    const { action } = input;
    const deal = await loadDealContext(prisma, input.dealId);
    if (action.type === 'webhook') return webhook(input, deal, action);
    if (!deal) return skipped('the deal was deleted');
    try {
      switch (action.type) {
        case 'create_task': {
          let assigneeId: string | null;
          if (action.assignee.type === 'user') {
            // A named user is the rule's choice: nobody stands in for them.
            assigneeId = action.assignee.userId;
            const assignee = await prisma.user.findUnique({ where: { id: assigneeId }, select: { active: true } });
            if (!assignee?.active) return skipped('the assignee is not an active user', { assigneeId });
          } else {
            assigneeId = await firstActiveUser(prisma, action.assignee.type === 'owner' ? deal.ownerId : deal.owner.managerId);
            if (!assigneeId) return skipped(action.assignee.type === 'owner' ? 'neither the owner nor a manager above them is active' : 'the owner has no active manager');
          }
          const context = await textContext(deal, input.change);
          const { taskId } = await createFollowUpTask({
            contactId: deal.contactId,
            dealId: deal.id,
            assigneeId,
            sourceKey: key,
            sourceRef: `trigger:${input.triggerId}`,
            sourceType: 'trigger',
            title: renderTriggerText(action.title, context).trim().slice(0, 200) || `Follow up on ${deal.name}`,
            description: action.description ? renderTriggerText(action.description, context).trim() : null,
            businessDaysDue: action.dueInBusinessDays,
            type: action.taskType,
            priority: action.priority,
          });
          return done({ taskId, assigneeId });
        }
        case 'send_email': {
          if (!deal.contactId) return skipped('the deal has no contact');
          const outcome = await sendTemplatedEmail({ idempotencyKey: key, contactId: deal.contactId, templateKey: action.template, transactional: action.transactional, deal: dealTemplateVariables(deal) });
          if (outcome.status === 'deferred') return { status: 'deferred', until: outcome.until, detail: { reason: outcome.reason } };
          if (outcome.status === 'skipped') return skipped(outcome.reason);
          if (outcome.status === 'failed') return failed(outcome.reason, { messageId: outcome.messageId });
          return done({ messageId: outcome.messageId });
        }
        case 'notify_owner': {
          const outcome = await sendDealNotification({ idempotencyKey: key, userId: deal.ownerId, dealId: deal.id, templateKey: action.template });
          if (outcome.status === 'skipped') return skipped(outcome.reason);
          if (outcome.status === 'failed') return failed(outcome.reason, { messageId: outcome.messageId });
          return done({ messageId: outcome.messageId });
        }
        case 'enroll_in_sequence': {
          if (!deal.contactId) return skipped('the deal has no contact');
          const outcome = await enrollInSequence({ sequenceId: action.sequenceId, contactId: deal.contactId, source: 'trigger', sourceRef: `trigger:${input.triggerId}`, sourceKey: key });
          if (outcome.status === 'rejected') return skipped(outcome.reason, { detail: outcome.detail });
          return done({ enrollmentId: outcome.enrollmentId, enrollment: outcome.status });
        }
        case 'update_field':
          return await updateField(input, deal, action);
        default: {
          const unhandled: never = action;
          throw new Error(`Unhandled trigger action ${JSON.stringify(unhandled)}`);
        }
      }
    } catch (error) {
      const permanent = permanentFailure(error);
      if (permanent) return failed(permanent);
      throw error;
    }
  }

  return { execute };
}

function contactVariables(deal: DealContext): Record<string, unknown> | null {
  const contact = liveContact(deal);
  return contact ? contactTemplateVariables(contact).contact : null;
}

function eventName(input: TriggerActionInput): TriggerWebhookEvent['type'] {
  return input.event === 'leave' ? 'deal.stage_left' : 'deal.stage_entered';
}

/**
 * Errors that another attempt would meet again: a template that no longer exists or does not
 * render, a sequence that was deleted. They fail the action, not the workflow.
 */
function permanentFailure(error: unknown): string | null {
  if (error instanceof ValidationError || error instanceof NotFoundError) return error.message;
  if (error instanceof ApplicationFailure && error.nonRetryable) return error.message;
  return null;
}

/** Writes one whitelisted field (domain/trigger-validation.ts) and returns its value before. */
async function writeField(tx: Prisma.TransactionClient, target: 'deal' | 'contact', id: string, field: string, value: unknown): Promise<unknown> {
  const custom = customFieldName(field);
  if (target === 'contact' && custom) {
    const contact = await tx.contact.findUniqueOrThrow({ where: { id }, select: { customFields: true } });
    const fields = { ...(contact.customFields as Record<string, unknown>) };
    const before = fields[custom] ?? null;
    // null removes the field, as in PATCH /v1/contacts.
    if (value === null) delete fields[custom];
    else fields[custom] = value;
    await tx.contact.update({ where: { id }, data: { customFields: fields as Prisma.InputJsonValue } });
    return before;
  }
  const data = { [field]: field === 'expectedCloseDate' && typeof value === 'string' ? new Date(`${value}T00:00:00Z`) : value };
  if (target === 'deal') {
    const before = await tx.deal.findUniqueOrThrow({ where: { id } });
    await tx.deal.update({ where: { id }, data });
    return jsonValue(before[field as keyof typeof before]);
  }
  const before = await tx.contact.findUniqueOrThrow({ where: { id } });
  await tx.contact.update({ where: { id }, data });
  return jsonValue(before[field as keyof typeof before]);
}

function jsonValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Prisma.Decimal) return value.toNumber();
  return value ?? null;
}
