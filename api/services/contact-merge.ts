import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../../domain/errors';
import { decideMerge, mergePickErrors, type MergeImage, type MergedContact } from '../../domain/merge';
import type { MergeRequest, MergeResult } from '../../domain/schemas/duplicates';
import type { ContactsMerged } from '../../workflows/contact-lifecycle';
import { enrollmentWorkflowId } from '../../workflows/workflow-ids';
import { Prisma, type PrismaClient } from '../../runtime/prisma';
import type { WorkflowGateway } from '../workflow-gateway';
import { contactInclude, scoreClock, toContactView, type AuditContext, type ContactRow, type ScoreClock } from './contacts';

/** What Temporal must hear once the merge has committed (or again, when a merge is repeated). */
export interface MergeSignals {
  /** Merged contacts whose lifecycle workflow ends (contactDeleted). */
  deletedContactIds: string[];
  /** Enrollment workflows to tell (contactMerged): keep goes on for the survivor, the others end. */
  enrollments: Array<{ workflowId: string; survivorContactId: string; keep: boolean }>;
  /** The survivor's lifecycle workflow and the merged facts its timers follow (contactsMerged); none when nothing was merged. */
  survivor: { contactId: string; merged: ContactsMerged } | null;
}

export type MergeOutcome =
  | { kind: 'merged'; result: MergeResult; signals: MergeSignals }
  /** Nothing changed; the signals of the earlier merge are sent again in case it was interrupted before sending them. */
  | { kind: 'refused'; error: ConflictError; signals: MergeSignals };

type Tx = Prisma.TransactionClient;

/**
 * Merges contacts into a survivor in one transaction: survivorship by domain/merge.ts, then
 * every row that belongs to a merged contact moves to the survivor, the merged contacts are
 * soft-deleted with merged_into_id, and the audit log keeps every before image. The caller
 * sends the returned signals after the commit.
 */
export async function mergeContacts(prisma: PrismaClient, survivorId: string, request: MergeRequest, audit: AuditContext): Promise<MergeOutcome> {
  const ids = [survivorId, ...request.mergeIds];
  const errors: FieldError[] = request.mergeIds.flatMap((id, index) => (id === survivorId ? [{ field: `mergeIds/${index}`, message: 'is the surviving contact itself' }] : []));
  errors.push(...mergePickErrors(request.pick, ids));
  if (errors.length > 0) throw new ValidationError(errors);

  return prisma.$transaction(
    async (tx) => {
      const refusal = await lockAndCheck(tx, survivorId, request.mergeIds);
      if (refusal) return refusal;
      const rows = await tx.contact.findMany({ where: { id: { in: ids } }, include: contactInclude });
      const survivor = rows.find((row) => row.id === survivorId)!;
      const losers = request.mergeIds.map((id) => rows.find((row) => row.id === id)!);
      const merged = decideMerge(imageOf(survivor), losers.map(imageOf), request.pick);
      const moved = await moveRecords(tx, survivorId, request.mergeIds, merged);
      const signals: MergeSignals = {
        deletedContactIds: request.mergeIds,
        enrollments: await moveEnrollments(tx, survivorId, request.mergeIds),
        survivor: { contactId: survivorId, merged: mergedFacts(request.mergeIds, merged) },
      };
      await mergeConsent(tx, survivor, merged);
      await resolveDuplicatePairs(tx, ids, request.mergeIds, audit);

      const now = new Date();
      await tx.contact.update({
        where: { id: survivorId },
        data: {
          firstName: merged.firstName,
          lastName: merged.lastName,
          ownerId: merged.ownerId,
          companyId: merged.companyId,
          source: merged.source,
          timeZone: merged.timeZone,
          country: merged.country,
          lifecycleStage: merged.lifecycleStage,
          score: merged.score,
          scoreAsOf: merged.scoreAsOf,
          lastPurchaseAt: merged.lastPurchaseAt,
          tags: merged.tags,
          customFields: merged.customFields as Prisma.InputJsonObject,
        },
      });
      await tx.contact.updateMany({ where: { id: { in: request.mergeIds } }, data: { deletedAt: now, mergedIntoId: survivorId } });

      const clock = await scoreClock(tx);
      const view = toContactView(await tx.contact.findUniqueOrThrow({ where: { id: survivorId }, include: contactInclude }), clock);
      const result: MergeResult = {
        survivor: view,
        mergedIds: request.mergeIds,
        decisions: merged.decisions,
        moved: {
          ...moved,
          enrollmentsContinued: signals.enrollments.filter((signal) => signal.keep).length,
          enrollmentsEnded: signals.enrollments.filter((signal) => !signal.keep).length,
        },
      };
      const actor = { actorType: 'api_key', actorId: audit.actorId, requestId: audit.requestId };
      await tx.auditLog.create({
        data: {
          ...actor, action: 'contact.merged', entityType: 'contact', entityId: survivorId,
          before: { survivor: beforeImage(survivor, clock), merged: losers.map((loser) => beforeImage(loser, clock)) } as Prisma.InputJsonObject,
          after: { contact: view, decisions: merged.decisions, moved: result.moved, enrollments: signals.enrollments } as unknown as Prisma.InputJsonObject,
        },
      });
      await tx.auditLog.createMany({
        data: losers.map((loser) => ({
          ...actor, action: 'contact.merged_into', entityType: 'contact', entityId: loser.id,
          before: beforeImage(loser, clock) as Prisma.InputJsonObject, after: { mergedIntoId: survivorId },
        })),
      });
      return { kind: 'merged' as const, result, signals };
    },
    // Moving a long-lived contact's history touches many rows; the default 5 s is for small writes.
    { timeout: 60_000, maxWait: 10_000 },
  );
}

/**
 * Locks every contact involved, in id order (two merges of overlapping contacts wait for each
 * other instead of deadlocking), and refuses a merge that cannot happen.
 */
async function lockAndCheck(tx: Tx, survivorId: string, mergeIds: readonly string[]): Promise<MergeOutcome | null> {
  const rows = await tx.$queryRaw<Array<{ id: string; deleted_at: Date | null; merged_into_id: string | null }>>`
    SELECT id, deleted_at, merged_into_id FROM contacts WHERE id = ANY(${[survivorId, ...mergeIds]}::uuid[]) ORDER BY id FOR UPDATE`;
  const state = new Map(rows.map((row) => [row.id, row]));
  const survivor = state.get(survivorId);
  if (survivor?.merged_into_id) {
    throw new ConflictError(`Contact ${survivorId} was itself merged into ${survivor.merged_into_id}; merge into that contact instead.`, [
      { field: 'id', message: `was merged into ${survivor.merged_into_id}` },
    ]);
  }
  if (!survivor || survivor.deleted_at) throw new NotFoundError('Contact', survivorId);

  const conflicts: FieldError[] = [];
  const missing: FieldError[] = [];
  const repeated: string[] = [];
  mergeIds.forEach((id, index) => {
    const row = state.get(id);
    if (row?.merged_into_id) {
      conflicts.push({ field: `mergeIds/${index}`, message: `was already merged into ${row.merged_into_id}` });
      if (row.merged_into_id === survivorId) repeated.push(id);
    } else if (!row || row.deleted_at) {
      missing.push({ field: `mergeIds/${index}`, message: 'is not an existing contact' });
    }
  });
  if (conflicts.length > 0) {
    const error = new ConflictError(
      conflicts.length === 1
        ? `Contact ${mergeIds[Number(conflicts[0]!.field.split('/')[1])]} ${conflicts[0]!.message}; nothing was changed.`
        : `${conflicts.length} of the contacts were already merged; nothing was changed.`,
      conflicts,
    );
    return { kind: 'refused', error, signals: await earlierMergeSignals(tx, survivorId, repeated) };
  }
  if (missing.length > 0) throw new ValidationError(missing);
  return null;
}

/**
 * The signals an earlier merge of these contacts into the survivor sent, rebuilt from the rows:
 * a moved enrollment keeps the workflow id of the contact it started for.
 */
async function earlierMergeSignals(tx: Tx, survivorId: string, mergedIds: readonly string[]): Promise<MergeSignals> {
  if (mergedIds.length === 0) return { deletedContactIds: [], enrollments: [], survivor: null };
  const enrollments = await tx.enrollment.findMany({ where: { contactId: survivorId }, select: { sequenceId: true, workflowId: true, activeKey: true, stopReason: true } });
  const survivor = await tx.contact.findUniqueOrThrow({ where: { id: survivorId }, select: { lifecycleStage: true, ownerId: true, lastPurchaseAt: true } });
  return {
    deletedContactIds: [...mergedIds],
    survivor: { contactId: survivorId, merged: mergedFacts([...mergedIds], survivor) },
    enrollments: enrollments
      .filter((enrollment) => mergedIds.some((id) => enrollment.workflowId === enrollmentWorkflowId(enrollment.sequenceId, id)))
      .filter((enrollment) => enrollment.activeKey !== null || enrollment.stopReason === 'merged')
      .map((enrollment) => ({ workflowId: enrollment.workflowId, survivorContactId: survivorId, keep: enrollment.activeKey !== null })),
  };
}

/** What the survivor's workflow acts on, as the merge left the contact. */
function mergedFacts(mergedIds: string[], contact: Pick<MergedContact, 'lifecycleStage' | 'ownerId' | 'lastPurchaseAt'>): ContactsMerged {
  return { mergedIds, lifecycleStage: contact.lifecycleStage, ownerId: contact.ownerId, lastPurchaseAt: contact.lastPurchaseAt?.toISOString() ?? null };
}

/**
 * After the commit: the merged contacts' workflows end, their enrollments go on for the survivor
 * or end, and the survivor's workflow takes the merged facts, started first if only a merged
 * contact had automation running.
 */
export async function sendMergeSignals(gateway: WorkflowGateway, signals: MergeSignals): Promise<void> {
  let automated = false;
  for (const contactId of signals.deletedContactIds) if (await gateway.signalContactDeleted(contactId)) automated = true;
  for (const { workflowId, survivorContactId, keep } of signals.enrollments) await gateway.signalContactMerged(workflowId, { survivorContactId, keep });
  if (signals.survivor) await gateway.signalContactsMerged(signals.survivor.contactId, signals.survivor.merged, automated);
}

async function moveRecords(tx: Tx, survivorId: string, loserIds: string[], merged: MergedContact) {
  const from = { contactId: { in: loserIds } };
  const to = { contactId: survivorId };
  const emails = await tx.contactEmail.updateMany({ where: from, data: { ...to, isPrimary: false } });
  const phones = await tx.contactPhone.updateMany({ where: from, data: { ...to, isPrimary: false } });
  if (merged.primaryEmail) {
    await tx.contactEmail.updateMany({ where: { contactId: survivorId }, data: { isPrimary: false } });
    await tx.contactEmail.update({ where: { address: merged.primaryEmail }, data: { isPrimary: true } });
  }
  if (merged.primaryPhone) {
    await tx.contactPhone.updateMany({ where: { contactId: survivorId }, data: { isPrimary: false } });
    await tx.contactPhone.update({ where: { e164: merged.primaryPhone }, data: { isPrimary: true } });
  }
  const activities = await tx.activity.updateMany({ where: from, data: to });
  const tasks = await tx.task.updateMany({ where: from, data: to });
  const deals = await tx.deal.updateMany({ where: from, data: to });
  const messages = await tx.message.updateMany({ where: from, data: to });
  const consentEvents = await tx.consentEvent.updateMany({ where: from, data: to });
  // Not counted, but they must follow: bounce history and the idempotency of inbound events (a
  // resent form submission finds the survivor).
  await tx.emailBounce.updateMany({ where: from, data: to });
  await tx.inboundEvent.updateMany({ where: from, data: to });
  return {
    emails: emails.count, phones: phones.count, activities: activities.count, tasks: tasks.count,
    deals: deals.count, messages: messages.count, consentEvents: consentEvents.count,
  };
}

/**
 * Every enrollment moves to the survivor. A running one goes on for the survivor, unless the
 * survivor already runs that sequence (or an earlier merged contact's run was kept): then it
 * ends with stop reason `merged`, so one person never runs one sequence twice.
 */
async function moveEnrollments(tx: Tx, survivorId: string, loserIds: string[]): Promise<MergeSignals['enrollments']> {
  const running = new Set((await tx.enrollment.findMany({ where: { contactId: survivorId, activeKey: { not: null } }, select: { sequenceId: true } })).map((row) => row.sequenceId));
  const enrollments = await tx.enrollment.findMany({ where: { contactId: { in: loserIds } }, orderBy: [{ enrolledAt: 'asc' }, { id: 'asc' }] });
  const signals: MergeSignals['enrollments'] = [];
  const now = new Date();
  for (const enrollment of enrollments) {
    if (enrollment.activeKey === null) continue;
    const keep = !running.has(enrollment.sequenceId);
    await tx.enrollment.update({
      where: { id: enrollment.id },
      data: keep
        ? { contactId: survivorId, activeKey: `${enrollment.sequenceId}:${survivorId}` }
        : { contactId: survivorId, status: 'exited', activeKey: null, stopReason: 'merged', stopDetail: survivorId, endedAt: now },
    });
    running.add(enrollment.sequenceId);
    signals.push({ workflowId: enrollment.workflowId, survivorContactId: survivorId, keep });
  }
  await tx.enrollment.updateMany({ where: { contactId: { in: loserIds } }, data: { contactId: survivorId } });
  return signals;
}

/**
 * The survivor's current consent becomes the most restrictive state of all records. When that
 * changes its state, a ledger entry (method `merge`) says so, so the ledger alone still
 * explains the current state; the carried state keeps its original source and time. The
 * merged contacts keep their own current-state rows, as part of their soft-deleted record.
 */
async function mergeConsent(tx: Tx, survivor: ContactRow, merged: MergedContact): Promise<void> {
  const now = new Date();
  for (const consent of merged.consents) {
    const current = survivor.consents.find((row) => row.channel === consent.channel);
    if (current && current.status === consent.status && current.source === consent.source && current.at.getTime() === consent.at.getTime()) continue;
    await tx.contactConsent.upsert({
      where: { contactId_channel: { contactId: survivor.id, channel: consent.channel } },
      create: { contactId: survivor.id, channel: consent.channel, status: consent.status, source: consent.source, at: consent.at },
      update: { status: consent.status, source: consent.source, at: consent.at },
    });
    if (current?.status !== consent.status) {
      await tx.consentEvent.create({
        data: {
          contactId: survivor.id, channel: consent.channel, status: consent.status, source: consent.source, method: 'merge', at: now,
          evidence: { mergedFromContactId: consent.fromContactId, expressedAt: consent.at.toISOString() },
        },
      });
    }
  }
}

/** Pairs among the merged contacts are resolved; the merged contacts' other pairs go (the next audit pairs the survivor afresh). */
async function resolveDuplicatePairs(tx: Tx, ids: string[], loserIds: string[], audit: AuditContext): Promise<void> {
  await tx.duplicateCandidate.updateMany({
    where: { contactAId: { in: ids }, contactBId: { in: ids } },
    data: { status: 'merged', resolvedAt: new Date(), resolvedById: audit.actorId },
  });
  await tx.duplicateCandidate.deleteMany({ where: { status: { not: 'merged' }, OR: [{ contactAId: { in: loserIds } }, { contactBId: { in: loserIds } }] } });
  await tx.contactMatchKey.deleteMany({ where: { contactId: { in: loserIds } } });
}

function imageOf(row: ContactRow): MergeImage {
  return {
    id: row.id,
    firstName: row.firstName,
    lastName: row.lastName,
    ownerId: row.ownerId,
    companyId: row.companyId,
    source: row.source,
    timeZone: row.timeZone,
    country: row.country,
    lifecycleStage: row.lifecycleStage,
    score: row.score,
    scoreAsOf: row.scoreAsOf,
    lastPurchaseAt: row.lastPurchaseAt,
    tags: row.tags,
    customFields: row.customFields as Record<string, unknown>,
    emails: row.emails,
    phones: row.phones,
    consents: row.consents,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The contact as the API shows it plus what the view leaves out, so the log can explain every merged value. */
function beforeImage(row: ContactRow, clock: ScoreClock) {
  // The stored score with its moment, which the merge added up, next to the shown (decayed) one.
  return { ...toContactView(row, clock), storedScore: row.score, scoreAsOf: row.scoreAsOf?.toISOString() ?? null, lastPurchaseAt: row.lastPurchaseAt?.toISOString() ?? null };
}
