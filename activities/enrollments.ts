import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { enrollmentDecision, type EnrollmentRejection } from '../domain/enrollment-policy';
import { NotFoundError } from '../domain/errors';
import { SequenceSettingsSchema, type SequenceSettings, type enrollmentSources } from '../domain/schemas/sequence';
import type { Prisma, PrismaClient } from '../runtime/prisma';
import { sequenceEnrollmentWorkflowType, type SequenceEnrollmentInput } from '../workflows/enrollment-messages';
import { ContactIdAttribute } from '../workflows/search-attributes';
import { enrollmentWorkflowId } from '../workflows/workflow-ids';
import type { ActivityDeps } from './deps';

/**
 * Getting a contact into a sequence: the one place that decides whether it may enroll, writes
 * the Enrollment row and starts its workflow. The API (single enrollments), the bulk job and
 * the contact workflow (re-engagement, forms) all come through here.
 */
export interface EnrollDeps {
  prisma: PrismaClient;
  temporal: Client;
  taskQueue: string;
}

export interface EnrollRequest {
  sequenceId: string;
  contactId: string;
  source: (typeof enrollmentSources)[number];
  /** Readable link to what enrolled it: bulk job id, form key, workflow id. */
  sourceRef?: string | null;
  /** Business key of the enrolling step: a retry with the same key finds the first enrollment. */
  sourceKey?: string | null;
  enrolledById?: string | null;
}

export type EnrollResult =
  | { status: 'enrolled'; enrollmentId: string; version: number; workflowId: string }
  /** The sourceKey was seen before: this is a retry of an enrollment that happened. */
  | { status: 'already_enrolled'; enrollmentId: string }
  /** `enrollmentId` is the running enrollment when the reason is `active`. */
  | { status: 'rejected'; reason: EnrollmentRejection; detail: string; enrollmentId?: string };

/** The sequence as an enrollment needs it; the bulk job loads it once per page. */
export interface EnrollmentTarget {
  sequence: { id: string; name: string; archivedAt: Date | null; publishedVersion: number | null };
  /** Of the published version; null while nothing is published. */
  settings: Pick<SequenceSettings, 'reenrollment' | 'suppression'> | null;
}

/** The previous run of the workflow id is still open although its enrollment ended; see `startEnrollmentWorkflow`. */
export class PreviousRunOpenError extends Error {
  constructor(readonly workflowId: string) {
    super(`The previous run of ${workflowId} has not closed yet although its enrollment ended; try again shortly.`);
    this.name = 'PreviousRunOpenError';
  }
}

export async function loadEnrollmentTarget(prisma: PrismaClient, sequenceId: string): Promise<EnrollmentTarget> {
  const sequence = await prisma.sequence.findUnique({ where: { id: sequenceId }, select: { id: true, name: true, archivedAt: true, publishedVersion: true } });
  if (!sequence) throw new NotFoundError('Sequence', sequenceId);
  if (sequence.publishedVersion === null) return { sequence, settings: null };
  const version = await prisma.sequenceVersion.findUniqueOrThrow({
    where: { sequenceId_version: { sequenceId, version: sequence.publishedVersion } },
    select: { definition: true },
  });
  // Stored definitions were validated (defaults included) when saved; only the settings matter here.
  return { sequence, settings: SequenceSettingsSchema.parse((version.definition as { settings?: unknown }).settings ?? {}) };
}

const liveStatuses = ['active', 'paused'] as const;

export async function enrollContact(deps: EnrollDeps, request: EnrollRequest): Promise<EnrollResult> {
  const [outcome] = await enrollContacts(deps, await loadEnrollmentTarget(deps.prisma, request.sequenceId), [request]);
  if (outcome!.status === 'rejected') throw outcome!.reason;
  return outcome!.value;
}

/**
 * Enrolls contacts of one sequence: what they did before is read for all of them at once (a
 * bulk page is a few queries, not a few per contact), then each is decided, written and
 * started on its own, `concurrency` at a time. One contact's failure is its own settled result.
 */
export async function enrollContacts(
  deps: EnrollDeps,
  target: EnrollmentTarget,
  requests: readonly EnrollRequest[],
  options: { concurrency?: number; onSettled?: () => void } = {},
): Promise<Array<PromiseSettledResult<EnrollResult>>> {
  const { prisma } = deps;
  const sequenceId = target.sequence.id;
  if (requests.some((request) => request.sequenceId !== sequenceId)) throw new Error('enrollContacts takes requests of one sequence');
  const sourceKeys = requests.flatMap((request) => (request.sourceKey ? [request.sourceKey] : []));
  const contactIds = [...new Set(requests.map((request) => request.contactId))];
  const suppressing = target.settings?.suppression.activeInSequences.filter((id) => id !== sequenceId) ?? [];
  const [earlierByKey, contacts, enrollments] = await Promise.all([
    sourceKeys.length > 0 ? prisma.enrollment.findMany({ where: { sourceKey: { in: sourceKeys } } }) : [],
    prisma.contact.findMany({ where: { id: { in: contactIds } }, select: { id: true, deletedAt: true, tags: true, lifecycleStage: true } }),
    prisma.enrollment.findMany({
      where: {
        contactId: { in: contactIds },
        OR: [{ sequenceId }, ...(suppressing.length > 0 ? [{ sequenceId: { in: suppressing }, status: { in: [...liveStatuses] } }] : [])],
      },
      select: { id: true, sequenceId: true, contactId: true, status: true, endedAt: true, workflowId: true },
    }),
  ]);
  const now = new Date();
  const bySourceKey = new Map(earlierByKey.map((row) => [row.sourceKey, row]));
  const contactById = new Map(contacts.map((contact) => [contact.id, contact]));
  const enrollmentsOf = new Map<string, typeof enrollments>();
  for (const enrollment of enrollments) enrollmentsOf.set(enrollment.contactId, [...(enrollmentsOf.get(enrollment.contactId) ?? []), enrollment]);

  type Plan = { kind: 'earlier'; row: (typeof earlierByKey)[number] } | { kind: 'refused'; result: EnrollResult; blocking?: (typeof enrollments)[number] } | { kind: 'insert'; id: string };
  const plans = requests.map((request): Plan => {
    const earlier = request.sourceKey ? bySourceKey.get(request.sourceKey) : undefined;
    if (earlier) return { kind: 'earlier', row: earlier };
    const own = enrollmentsOf.get(request.contactId) ?? [];
    const decision = enrollmentDecision({
      sequence: target.sequence,
      settings: target.settings,
      contact: contactById.get(request.contactId) ?? null,
      earlier: own.filter((enrollment) => enrollment.sequenceId === sequenceId),
      activeInSuppressing: own.filter((enrollment) => enrollment.sequenceId !== sequenceId).map((enrollment) => enrollment.sequenceId),
      now,
    });
    if (decision.enroll) return { kind: 'insert', id: randomUUID() };
    const { reason, detail, enrollmentId } = decision;
    const blocking = own.find((enrollment) => enrollment.id === enrollmentId);
    return { kind: 'refused', result: { status: 'rejected', reason, detail, ...(enrollmentId ? { enrollmentId } : {}) }, ...(blocking ? { blocking } : {}) };
  });

  // One insert for every row to write, with ids chosen here: what is back afterwards went in;
  // a row the unique keys refused (another request got there first) is sorted out on its own.
  const version = target.sequence.publishedVersion!;
  const rows = requests.flatMap((request, index) => {
    const plan = plans[index]!;
    return plan.kind === 'insert' ? [{ id: plan.id, ...rowFor(request, version) }] : [];
  });
  const written = rows.length === 0 ? new Set<string>() : await insertEnrollments(prisma, rows);

  const enrollOne = async (request: EnrollRequest, plan: Plan): Promise<EnrollResult> => {
    switch (plan.kind) {
      case 'earlier':
        await ensureEnrollmentWorkflow(deps, plan.row);
        return { status: 'already_enrolled', enrollmentId: plan.row.id };
      case 'refused':
        // The running enrollment may be one whose workflow never started (a crash between its
        // row and its start); whoever finds it blocking a new one starts it.
        if (plan.blocking) await ensureEnrollmentWorkflow(deps, plan.blocking);
        return plan.result;
      case 'insert': {
        if (!written.has(plan.id)) return lostRace(deps, request);
        const workflowId = enrollmentWorkflowId(request.sequenceId, request.contactId);
        await startEnrollmentWorkflow(deps, { id: plan.id, workflowId, contactId: request.contactId });
        return { status: 'enrolled', enrollmentId: plan.id, version, workflowId };
      }
      default: {
        const unhandled: never = plan;
        throw new Error(`Unhandled plan ${JSON.stringify(unhandled)}`);
      }
    }
  };

  const results: Array<PromiseSettledResult<EnrollResult>> = new Array(requests.length);
  let next = 0;
  const lane = async () => {
    while (next < requests.length) {
      const index = next;
      next += 1;
      results[index] = await enrollOne(requests[index]!, plans[index]!).then(
        (value) => ({ status: 'fulfilled', value }),
        (reason: unknown) => ({ status: 'rejected', reason }),
      );
      options.onSettled?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 1, requests.length) }, lane));
  return results;
}

function rowFor(request: EnrollRequest, version: number) {
  return {
    sequenceId: request.sequenceId,
    version,
    contactId: request.contactId,
    status: 'active' as const,
    activeKey: `${request.sequenceId}:${request.contactId}`,
    source: request.source,
    sourceRef: request.sourceRef ?? null,
    sourceKey: request.sourceKey ?? null,
    enrolledById: request.enrolledById ?? null,
    workflowId: enrollmentWorkflowId(request.sequenceId, request.contactId),
  };
}

/** The ids of the rows that went in; the unique active and source keys skip the others. */
async function insertEnrollments(prisma: PrismaClient, rows: Prisma.EnrollmentCreateManyInput[]): Promise<Set<string>> {
  await prisma.enrollment.createMany({ data: rows, skipDuplicates: true });
  const ids = rows.map((row) => row.id!);
  const found = await prisma.enrollment.findMany({ where: { id: { in: ids } }, select: { id: true } });
  return new Set(found.map((row) => row.id));
}

/** Another request wrote the row first: the same sourceKey (a concurrent retry) or another enrollment of the pair. */
async function lostRace(deps: EnrollDeps, request: EnrollRequest): Promise<EnrollResult> {
  if (request.sourceKey) {
    const same = await deps.prisma.enrollment.findUnique({ where: { sourceKey: request.sourceKey } });
    if (same) {
      await ensureEnrollmentWorkflow(deps, same);
      return { status: 'already_enrolled', enrollmentId: same.id };
    }
  }
  const active = await deps.prisma.enrollment.findUnique({ where: { activeKey: `${request.sequenceId}:${request.contactId}` }, select: { id: true } });
  // Gone again already: it ended between the insert and this read. Let the caller retry.
  if (!active) throw new Error(`Enrollment of contact ${request.contactId} in sequence ${request.sequenceId} collided with one that has ended since; retry.`);
  return { status: 'rejected', reason: 'active', detail: `The contact is already in this sequence (enrollment ${active.id}).`, enrollmentId: active.id };
}

/**
 * Starts the workflow of a running enrollment unless it runs already (or ran: a closed run of
 * this enrollment is never restarted). The memo `enrollmentId` says which enrollment a run of
 * the pair's workflow id belongs to.
 */
export async function ensureEnrollmentWorkflow(deps: EnrollDeps, row: { id: string; status: string; workflowId: string; contactId: string }): Promise<void> {
  if (row.status !== 'active' && row.status !== 'paused') return;
  if ((await runOwner(deps, row.workflowId)) === row.id) return;
  await startEnrollmentWorkflow(deps, row);
}

/** Whose run holds the workflow id now (the latest run, open or closed); null when there is none. */
async function runOwner(deps: EnrollDeps, workflowId: string): Promise<string | null> {
  try {
    const description = await deps.temporal.workflow.getHandle(workflowId).describe();
    const owner = description.memo?.enrollmentId;
    return typeof owner === 'string' ? owner : null;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}

const previousRunWaits = [100, 200, 400, 800, 1_500, 2_000] as const;

/**
 * One workflow per (sequence, contact): the id may be reused once the previous run closed,
 * never while one is open. An open run that belongs to an earlier enrollment can only be one
 * that already ended its row (else the active key would have refused this enrollment) and is
 * finishing its last workflow task, so it is given a few seconds to close; it is never
 * terminated, since it may still be recording its end. If it stays open, the start fails
 * with PreviousRunOpenError and the row stays active: any retry (same sourceKey) or any later
 * attempt to enroll the pair finds the row and starts its workflow then.
 */
export async function startEnrollmentWorkflow(deps: EnrollDeps, row: { id: string; workflowId: string; contactId: string }): Promise<void> {
  for (const wait of [...previousRunWaits, null]) {
    try {
      await deps.temporal.workflow.start<(input: SequenceEnrollmentInput) => Promise<void>>(sequenceEnrollmentWorkflowType, {
        workflowId: row.workflowId,
        taskQueue: deps.taskQueue,
        args: [{ enrollmentId: row.id }],
        memo: { enrollmentId: row.id },
        typedSearchAttributes: [{ key: ContactIdAttribute, value: row.contactId }],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
      });
      return;
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      // The start went through before (a retry after a crash that followed it).
      if ((await runOwner(deps, row.workflowId)) === row.id) return;
      if (wait === null) throw new PreviousRunOpenError(row.workflowId);
      await sleep(wait);
    }
  }
}

export function createEnrollmentActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    /**
     * enrollContact for workflows (re-engagement, form auto-enrollment, triggers): the worker's
     * own client and task queue. Pass a sourceKey derived from the workflow and step so a
     * retried activity enrolls once. A sequence that does not exist is a configuration error
     * and fails the activity for good; every business refusal is a `rejected` result.
     */
    async enrollInSequence(request: EnrollRequest): Promise<EnrollResult> {
      const { client, info } = Context.current();
      try {
        return await enrollContact({ prisma, temporal: client, taskQueue: info.taskQueue }, request);
      } catch (error) {
        if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(error.message, 'NotFoundError');
        throw error;
      }
    },
  };
}
