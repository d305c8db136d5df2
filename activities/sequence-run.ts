import { ApplicationFailure } from '@temporalio/activity';
import { evaluateCondition, messageFactsFrom, messageStepsOf, type MessageFacts } from '../domain/conditions';
import type { LifecycleStage } from '../domain/schemas/common';
import type { taskPriorities, taskTypes } from '../domain/schemas/task';
import { SequenceDefinitionSchema, type Condition, type SequenceSettings, type Step, type StopReason } from '../domain/schemas/sequence';
import { compileSequence, SequenceProgramError, stepKeyAt, type SequenceProgram } from '../domain/sequence-program';
import type { StepMapping } from '../domain/sequence-migration';
import { chooseVariant, type SplitVariant } from '../domain/split-cohort';
import { pinnedTemplate, TemplatePinsSchema } from '../domain/template-pins';
import type { Prisma } from '../runtime/prisma';
import { announceStageChange } from './contact-signals';
import type { ActivityDeps } from './deps';
import { recordStageChange } from './lifecycle';
import { createTaskActivities } from './tasks';

/**
 * The database side of the enrollment workflow (workflows/sequence-enrollment.ts): short reads
 * and writes it runs as local activities (sequence-timing.ts has the time computations). Every
 * one is safe to repeat: rows are keyed by (enrollment, step key, visit), and updates only move
 * a live enrollment. Recorded times are the workflow's (its deterministic clock, which is also
 * what the time-skipping test server advances).
 */

/** What the workflow needs of its sequence's settings. */
export type EnrollmentSettings = Pick<SequenceSettings, 'exitOn' | 'exitLifecycleStage' | 'convertedOn' | 'sendWindow' | 'limits'>;

export interface LoadedEnrollment {
  status: 'active' | 'paused' | 'completed' | 'exited';
  sequenceId: string;
  version: number;
  contactId: string;
  /** The pinned version compiled, with each message step's pinned template version in it. */
  program: SequenceProgram;
  settings: EnrollmentSettings;
  /** Split step key -> variant, as decided so far. */
  variants: Record<string, string>;
}

/** A migration's target version, compiled, and where each step key of the old version continues. */
export interface MigratedVersion extends Pick<LoadedEnrollment, 'version' | 'program' | 'settings'> {
  mapping: StepMapping;
}

export type StepOutcome = 'sent' | 'skipped' | 'failed' | 'waited' | 'then' | 'else' | 'variant' | 'task_created' | 'task_completed' | 'updated' | 'goto' | 'ended';

export interface StepRecord {
  enrollmentId: string;
  sequenceId: string;
  version: number;
  stepKey: string;
  stepType: Step['type'];
  visit: number;
  outcome: StepOutcome;
  variant?: string | null;
  messageId?: string | null;
  taskId?: string | null;
  /** Small facts only (a skip reason, the facts a branch read, until when it waited). */
  detail?: Record<string, unknown>;
  /** Workflow time the step finished. */
  at: string;
  /** Where the enrollment stands next, for Enrollment.currentStepKey; null at the end. */
  nextStepKey: string | null;
}

export interface SequenceTaskRequest {
  enrollmentId: string;
  workflowId: string;
  contactId: string;
  stepKey: string;
  visit: number;
  title: string;
  description?: string | undefined;
  taskType: (typeof taskTypes)[number];
  priority: (typeof taskPriorities)[number];
  dueInBusinessDays: number;
}

export type SequenceTaskOutcome =
  | { status: 'created'; taskId: string; taskStatus: 'open' | 'completed' | 'cancelled' }
  | { status: 'skipped'; reason: 'no_owner' | 'contact_deleted' };

export interface ContactUpdateRequest {
  contactId: string;
  enrollmentId: string;
  stepKey: string;
  /** The step's visit: with the enrollment and step, it names a stage change for the enrollments told of it. */
  visit: number;
  lifecycleStage?: LifecycleStage | undefined;
  addTags?: string[] | undefined;
  removeTags?: string[] | undefined;
  fields?: Record<string, string | number | boolean | null> | undefined;
}

export interface FinishRequest {
  enrollmentId: string;
  status: 'completed' | 'exited';
  stopReason: StopReason;
  stopDetail: string | null;
  converted: boolean;
  at: string;
}

const liveStatuses = ['active', 'paused'] as const;

export function createSequenceRunActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  const { createFollowUpTask } = createTaskActivities({ prisma });

  /** A published version compiled, with each message step's pinned template version. */
  async function loadVersion(sequenceId: string, version: number): Promise<Pick<LoadedEnrollment, 'program' | 'settings'>> {
    const row = await prisma.sequenceVersion.findUniqueOrThrow({ where: { sequenceId_version: { sequenceId, version } }, select: { definition: true, templatePins: true } });
    const definition = SequenceDefinitionSchema.safeParse(row.definition);
    const pins = TemplatePinsSchema.safeParse(row.templatePins);
    if (!definition.success || !pins.success) throw ApplicationFailure.nonRetryable(`Sequence ${sequenceId} v${version} is not a valid definition`, 'InvalidSequenceDefinition');
    let program: SequenceProgram;
    try {
      program = compileSequence(definition.data.steps, {
        templateVersion: (channel, template) => {
          const pin = pinnedTemplate(pins.data, channel, template);
          return typeof pin === 'number' ? pin : undefined;
        },
      });
    } catch (error) {
      // Publish validation refuses such definitions; one that slipped through fails for good, not on every retry.
      if (error instanceof SequenceProgramError) throw ApplicationFailure.nonRetryable(error.message, 'InvalidSequenceDefinition');
      throw error;
    }
    const { exitOn, exitLifecycleStage, convertedOn, sendWindow, limits } = definition.data.settings;
    return { program, settings: { exitOn, exitLifecycleStage, convertedOn, sendWindow, limits } };
  }

  return {
    /** The enrollment and its pinned version, compiled. Sets the first step as current on a fresh enrollment. */
    async loadEnrollment({ enrollmentId }: { enrollmentId: string }): Promise<LoadedEnrollment> {
      const enrollment = await prisma.enrollment.findUnique({ where: { id: enrollmentId } });
      if (!enrollment) throw ApplicationFailure.nonRetryable(`Enrollment ${enrollmentId} does not exist`, 'EnrollmentNotFound');
      const { program, settings } = await loadVersion(enrollment.sequenceId, enrollment.version);
      if (enrollment.currentStepKey === null && enrollment.status === 'active') {
        await prisma.enrollment.updateMany({ where: { id: enrollmentId, currentStepKey: null, status: 'active' }, data: { currentStepKey: stepKeyAt(program, 0) } });
      }
      return {
        status: enrollment.status,
        sequenceId: enrollment.sequenceId,
        version: enrollment.version,
        contactId: enrollment.contactId,
        program,
        settings,
        variants: enrollment.variants as Record<string, string>,
      };
    },

    /**
     * Moves a live enrollment to the migration's version (the row first, so a run that continues
     * as new loads the new one) and answers with that version compiled and the step mapping.
     * `fromVersion` is the version the workflow runs, or will run once an earlier migration it
     * has not applied yet lands: a retry finds the row already moved and answers the same.
     */
    async migrateEnrollment({ enrollmentId, migrationId, fromVersion }: { enrollmentId: string; migrationId: string; fromVersion: number }): Promise<MigratedVersion> {
      const migration = await prisma.sequenceMigration.findUniqueOrThrow({ where: { id: migrationId } });
      if (migration.fromVersion !== fromVersion) {
        throw ApplicationFailure.nonRetryable(`The enrollment runs v${fromVersion}; migration ${migrationId} moves v${migration.fromVersion}`, 'VersionMismatch');
      }
      const mapping = migration.mapping as StepMapping;
      const enrollment = await prisma.enrollment.findUniqueOrThrow({ where: { id: enrollmentId }, select: { version: true, currentStepKey: true } });
      if (enrollment.version === migration.fromVersion) {
        await prisma.enrollment.updateMany({
          where: { id: enrollmentId, status: { in: [...liveStatuses] }, version: migration.fromVersion },
          data: { version: migration.toVersion, migrationId, currentStepKey: enrollment.currentStepKey === null ? null : (mapping[enrollment.currentStepKey] ?? null) },
        });
      }
      return { version: migration.toVersion, ...(await loadVersion(migration.sequenceId, migration.toVersion)), mapping };
    },

    /** The step's row, once per visit, and the enrollment's new position. */
    async recordStep(record: StepRecord): Promise<void> {
      await prisma.$transaction([
        prisma.enrollmentStep.createMany({
          data: [
            {
              enrollmentId: record.enrollmentId,
              sequenceId: record.sequenceId,
              version: record.version,
              stepKey: record.stepKey,
              stepType: record.stepType,
              visit: record.visit,
              outcome: record.outcome,
              variant: record.variant ?? null,
              messageId: record.messageId ?? null,
              taskId: record.taskId ?? null,
              detail: (record.detail ?? {}) as Prisma.InputJsonObject,
              at: new Date(record.at),
            },
          ],
          skipDuplicates: true,
        }),
        prisma.enrollment.updateMany({ where: { id: record.enrollmentId, status: { in: [...liveStatuses] } }, data: { currentStepKey: record.nextStepKey } }),
      ]);
    },

    async setEnrollmentStatus({ enrollmentId, status }: { enrollmentId: string; status: 'active' | 'paused' }): Promise<void> {
      await prisma.enrollment.updateMany({ where: { id: enrollmentId, status: { in: [...liveStatuses] } }, data: { status } });
    },

    /** A branch decided from what is recorded: the earlier steps' messages and the contact as it is now. */
    async evaluateBranch({ enrollmentId, contactId, condition }: { enrollmentId: string; contactId: string; condition: Condition }): Promise<{ result: boolean; messages: Record<string, MessageFacts | null> }> {
      const contact = await prisma.contact.findUnique({ where: { id: contactId }, select: { lifecycleStage: true, tags: true, score: true, customFields: true } });
      const messages: Record<string, MessageFacts | null> = {};
      for (const stepKey of messageStepsOf(condition)) messages[stepKey] = await messageFactsOfStep(prisma, enrollmentId, stepKey);
      const result = evaluateCondition(condition, {
        messages: Object.fromEntries(Object.entries(messages).map(([key, facts]) => [key, facts ?? undefined])),
        lifecycleStage: contact?.lifecycleStage ?? 'lead',
        tags: contact?.tags ?? [],
        score: contact?.score ?? 0,
        customFields: (contact?.customFields ?? {}) as Record<string, unknown>,
      });
      return { result, messages };
    },

    /** The enrollment's variant at a split: decided once (a goto back to the split finds it) and kept on the enrollment. */
    async chooseSplitVariant({ enrollmentId, stepKey, variants }: { enrollmentId: string; stepKey: string; variants: SplitVariant[] }): Promise<{ variant: string }> {
      const chosen = chooseVariant(enrollmentId, stepKey, variants);
      await prisma.$executeRaw`
        UPDATE enrollments SET variants = variants || jsonb_build_object(${stepKey}::text, ${chosen}::text), updated_at = now()
         WHERE id = ${enrollmentId}::uuid AND NOT jsonb_exists(variants, ${stepKey}::text)`;
      const [row] = await prisma.$queryRaw<{ variant: string | null }[]>`SELECT variants ->> ${stepKey}::text AS variant FROM enrollments WHERE id = ${enrollmentId}::uuid`;
      return { variant: row?.variant ?? chosen };
    },

    /** A task for the contact's owner, once per step visit (its source key); none when the contact has no owner. */
    async createSequenceTask(request: SequenceTaskRequest): Promise<SequenceTaskOutcome> {
      const contact = await prisma.contact.findUnique({ where: { id: request.contactId }, select: { ownerId: true, deletedAt: true } });
      if (!contact || contact.deletedAt) return { status: 'skipped', reason: 'contact_deleted' };
      if (!contact.ownerId) return { status: 'skipped', reason: 'no_owner' };
      const { taskId } = await createFollowUpTask({
        contactId: request.contactId,
        assigneeId: contact.ownerId,
        sourceType: 'sequence',
        sourceRef: request.workflowId,
        sourceKey: `enrollment:${request.enrollmentId}:${request.stepKey}:${request.visit}`,
        title: request.title,
        description: request.description ?? null,
        type: request.taskType,
        priority: request.priority,
        businessDaysDue: request.dueInBusinessDays,
      });
      const task = await prisma.task.findUniqueOrThrow({ where: { id: taskId }, select: { status: true } });
      return { status: 'created', taskId, taskStatus: task.status };
    },

    async taskStatus({ taskId }: { taskId: string }): Promise<{ status: 'open' | 'completed' | 'cancelled' | 'missing' }> {
      const task = await prisma.task.findUnique({ where: { id: taskId }, select: { status: true } });
      return { status: task?.status ?? 'missing' };
    },

    /**
     * Stage, tags and custom fields (null removes a field) in one locked transaction. Setting
     * values is naturally repeatable; the timeline entry of a stage change is written only
     * when the stage actually changes, so a retry adds none.
     */
    async applyContactUpdate(request: ContactUpdateRequest): Promise<{ changed: string[] } | { skipped: 'contact_deleted' }> {
      const result = await prisma.$transaction(async (tx) => {
        const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM contacts WHERE id = ${request.contactId}::uuid AND deleted_at IS NULL FOR UPDATE`;
        if (!locked) return { skipped: 'contact_deleted' as const };
        const contact = await tx.contact.findUniqueOrThrow({ where: { id: request.contactId }, select: { lifecycleStage: true, tags: true, customFields: true } });
        const data: Prisma.ContactUpdateInput = {};
        const changed: string[] = [];
        // The stage is written by recordStageChange below, with its timeline entry and audit row.
        const newStage = request.lifecycleStage && request.lifecycleStage !== contact.lifecycleStage ? request.lifecycleStage : null;
        if (newStage) changed.push('lifecycleStage');
        const tags = [...new Set([...contact.tags, ...(request.addTags ?? [])])].filter((tag) => !(request.removeTags ?? []).includes(tag));
        if (tags.length !== contact.tags.length || tags.some((tag, index) => tag !== contact.tags[index])) {
          data.tags = tags;
          changed.push('tags');
        }
        if (request.fields) {
          const fields: Record<string, unknown> = { ...(contact.customFields as Record<string, unknown>) };
          for (const [name, value] of Object.entries(request.fields)) {
            if (value === null) delete fields[name];
            else fields[name] = value;
          }
          if (JSON.stringify(fields) !== JSON.stringify(contact.customFields)) {
            data.customFields = fields as Prisma.InputJsonObject;
            changed.push('customFields');
          }
        }
        if (Object.keys(data).length > 0) await tx.contact.update({ where: { id: request.contactId }, data });
        if (newStage) {
          await recordStageChange(tx, {
            contactId: request.contactId,
            from: contact.lifecycleStage,
            move: { to: newStage, reason: 'sequence_step', enrollmentId: request.enrollmentId, stepKey: request.stepKey },
            source: 'sequence',
            actorId: `enrollment:${request.enrollmentId}`,
          });
        }
        return { changed };
      });
      // Announced on every attempt, changed now or by an earlier one: the contact's workflow and
      // enrollments follow the stage (and ignore a stage they already have).
      if (request.lifecycleStage && !('skipped' in result)) {
        await announceStageChange(request.contactId, { changeId: `enrollment:${request.enrollmentId}:${request.stepKey}:${request.visit}`, stage: request.lifecycleStage });
      }
      return result;
    },

    /** Ends a live enrollment: its active key is freed, so the contact may be enrolled again (as the sequence's re-enrollment policy allows). */
    async finishEnrollment(request: FinishRequest): Promise<void> {
      await prisma.enrollment.updateMany({
        where: { id: request.enrollmentId, status: { in: [...liveStatuses] } },
        data: {
          status: request.status,
          activeKey: null,
          stopReason: request.stopReason,
          stopDetail: request.stopDetail,
          converted: request.converted,
          endedAt: new Date(request.at),
        },
      });
    },
  };
}

/** Facts of the message the latest visit of `stepKey` sent; null when it sent none. */
async function messageFactsOfStep(prisma: ActivityDeps['prisma'], enrollmentId: string, stepKey: string): Promise<MessageFacts | null> {
  const step = await prisma.enrollmentStep.findFirst({ where: { enrollmentId, stepKey, messageId: { not: null } }, orderBy: { visit: 'desc' }, select: { messageId: true } });
  if (!step?.messageId) return null;
  const messageId = step.messageId;
  const message = await prisma.message.findUnique({ where: { id: messageId }, select: { contactId: true, statusHistory: true, events: { select: { event: true } } } });
  if (!message) return null;
  // A reply on the message's contact that answers this message; out-of-office notes do not count.
  const [reply] = await prisma.$queryRaw<{ found: number }[]>`
    SELECT 1 AS found FROM activities
     WHERE contact_id = ${message.contactId}::uuid AND type = 'email'
       AND data ->> 'direction' = 'inbound' AND data ->> 'messageId' = ${messageId}
       AND COALESCE((data ->> 'autoReply')::boolean, false) = false
     LIMIT 1`;
  const history = Array.isArray(message.statusHistory) ? (message.statusHistory as Array<{ status?: unknown }>) : [];
  return messageFactsFrom({
    statuses: history.flatMap((entry) => (typeof entry?.status === 'string' ? [entry.status] : [])),
    events: message.events.map((event) => event.event),
    replied: reply !== undefined,
  });
}
