import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { LoadedEnrollment, MigratedVersion, StepOutcome } from '../activities/sequence-run';
import { exitReasonFor } from '../domain/enrollment-exits';
import { composeMappings } from '../domain/sequence-migration';
import type { StopReason } from '../domain/schemas/sequence';
import { asLocal, quickStepOptions, sendOptions, templateFailureTypes } from './activity-options';
import { stepKeyAt, type Instruction, type MessageInstruction } from '../domain/sequence-program';
import {
  contactMergedSignal,
  enrollmentEventSignal,
  migrateUpdate,
  pauseUpdate,
  progressQuery,
  resumeUpdate,
  taskCompletedSignal,
  unenrollSignal,
  type EnrollmentProgress,
  type EnrollmentStepRecord,
  type SequenceEnrollmentInput,
} from './enrollment-messages';

/** Where an enrollment stands between runs: all that continue-as-new carries (the program is reloaded). */
export interface EnrollmentRunState {
  /** Changes when the contact is merged into a survivor that keeps this enrollment. */
  contactId: string;
  /** Index of the next instruction to run in the compiled program. */
  pc: number;
  /** Step key -> times it ran: the visit number in enrollment_steps and in idempotency keys. */
  visits: Record<string, number>;
  variants: Record<string, string>;
  paused: boolean;
  handledEventIds: string[];
  /** Tasks completed while (or before) a call step waits for them. */
  completedTaskIds: string[];
  history: EnrollmentStepRecord[];
}

export interface SequenceEnrollmentRunInput extends SequenceEnrollmentInput {
  /** The previous run's position; absent on the first run. */
  carried?: EnrollmentRunState;
  /** Steps one run executes before it continues as new (default 100); tests make it small. */
  continueAsNewAfterSteps?: number;
}

interface Stop {
  reason: StopReason;
  detail: string | null;
}

/** Shared by the step functions: the run's fixed facts and its mutable position. */
interface Run {
  enrollmentId: string;
  workflowId: string;
  loaded: LoadedEnrollment;
  state: EnrollmentRunState;
  stop: Stop | null;
  finished: boolean;
  waitingUntil: string | null;
  /** A migration accepted but not applied yet: it applies between steps. */
  migration: MigratedVersion | null;
}

const stepsPerRun = 100;
const historyKept = 20;
const idsKept = 50;
/** A deferred send waits at least this long, so a clock skew between worker and server cannot spin. */
const minimumDeferralMs = 60_000;
/** A call step also reads its task this often, in case the completion signal was lost. */
const taskRecheckInterval = '1 day';
const quick = proxyLocalActivities<Activities>(asLocal(quickStepOptions));

/**
 * Sends are regular activities with the contact workflow's send options: the outbox makes them
 * exactly-once by the business key whatever the retries, and their own task queue slot keeps a
 * slow provider from holding a workflow task.
 */
const sends = proxyActivities<Activities>({
  ...sendOptions,
  // A template that cannot render fails its step, and the sequence goes on.
  retry: { ...sendOptions.retry, nonRetryableErrorTypes: templateFailureTypes },
});

/**
 * One contact's run through one pinned sequence version (`enrollment:{sequenceId}:{contactId}`).
 * It walks the compiled program with one program counter; every step is an activity or a
 * durable timer, and an exit event, an unenroll or a merge ends it at once, mid-wait included.
 * A paused enrollment runs no step; its timers keep counting, and a wait that ended during the
 * pause continues on resume.
 */
export async function sequenceEnrollment(input: SequenceEnrollmentRunInput): Promise<void> {
  const { enrollmentId } = input;
  // Answerable from the first moment (the API may ask right after the start); the rest waits for the load.
  let current: Run | null = null;
  setHandler(progressQuery, () => (current ? progressOf(current) : { enrollmentId, status: 'active', currentStepKey: null, waitingUntil: null, stopReason: null, history: [] }));
  const loaded = await quick.loadEnrollment({ enrollmentId });
  if (loaded.status !== 'active' && loaded.status !== 'paused') return;
  const run: Run = {
    enrollmentId,
    workflowId: workflowInfo().workflowId,
    loaded,
    state: input.carried ?? {
      contactId: loaded.contactId,
      pc: 0,
      visits: {},
      variants: loaded.variants,
      paused: loaded.status === 'paused',
      handledEventIds: [],
      completedTaskIds: [],
      history: [],
    },
    stop: null,
    finished: false,
    waitingUntil: null,
    migration: null,
  };
  current = run;
  const requestStop = (reason: StopReason, detail: string | null): void => {
    run.stop ??= { reason, detail };
  };

  setHandler(enrollmentEventSignal, (event) => {
    if (run.state.handledEventIds.includes(event.eventId)) return;
    run.state.handledEventIds = [...run.state.handledEventIds, event.eventId].slice(-idsKept);
    const reason = exitReasonFor(event, run.loaded.settings);
    if (reason) requestStop(reason, null);
  });
  setHandler(unenrollSignal, ({ reason }) => requestStop('unenrolled', reason));
  setHandler(contactMergedSignal, ({ survivorContactId, keep }) => {
    if (keep) run.state.contactId = survivorContactId;
    else requestStop('merged', survivorContactId);
  });
  setHandler(taskCompletedSignal, ({ taskId }) => {
    run.state.completedTaskIds = [...run.state.completedTaskIds, taskId].slice(-idsKept);
  });

  // Status writes are chained so the row always ends with the latest decision, whatever order they finish in.
  let statusWrite: Promise<void> = Promise.resolve();
  const setPaused = async (paused: boolean): Promise<EnrollmentProgress> => {
    run.state.paused = paused;
    statusWrite = statusWrite.then(() => quick.setEnrollmentStatus({ enrollmentId, status: run.state.paused ? 'paused' : 'active' }));
    await statusWrite;
    return progressOf(run);
  };
  // Who paused or resumed is the API's audit log entry; the workflow only needs the decision.
  const rejectWhenEnded = (): void => {
    if (run.stop) throw ApplicationFailure.nonRetryable(`The enrollment has ended (${run.stop.reason}).`, 'EnrollmentEnded');
  };
  setHandler(pauseUpdate, (_request) => setPaused(true), { validator: (_request) => rejectWhenEnded() });
  setHandler(resumeUpdate, (_request) => setPaused(false), { validator: (_request) => rejectWhenEnded() });
  setHandler(
    migrateUpdate,
    async ({ migrationId, fromVersion }) => {
      const target = await quick.migrateEnrollment({ enrollmentId, migrationId, fromVersion });
      const pending = run.migration;
      run.migration = pending ? { ...target, mapping: composeMappings(pending.mapping, target.mapping) } : target;
      return progressOf(run);
    },
    {
      validator: ({ fromVersion, toVersion }) => {
        rejectWhenEnded();
        const runs = run.migration?.version ?? run.loaded.version;
        if (runs === toVersion) throw ApplicationFailure.nonRetryable(`The enrollment already runs v${toVersion}.`, 'AlreadyMigrated');
        if (runs !== fromVersion) throw ApplicationFailure.nonRetryable(`The enrollment runs v${runs}, not v${fromVersion}.`, 'VersionMismatch');
      },
    },
  );

  const limit = input.continueAsNewAfterSteps ?? stepsPerRun;
  let executed = 0;
  while (!run.stop) {
    applyMigration(run);
    if (run.state.pc >= run.loaded.program.instructions.length) {
      requestStop('completed', null);
      break;
    }
    if (executed >= limit || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (run.stop) break;
      // The next run loads the enrollment's version from its row, which a migration has already moved.
      if (run.migration) continue;
      await continueAsNew<typeof sequenceEnrollment>({ enrollmentId, carried: run.state, ...(input.continueAsNewAfterSteps ? { continueAsNewAfterSteps: input.continueAsNewAfterSteps } : {}) });
    }
    if (!(await unlessPaused(run))) break;
    // A migration accepted during a pause applies before the next step.
    if (run.migration) continue;
    const instruction = run.loaded.program.instructions[run.state.pc]!;
    const next = await execute(run, instruction);
    if (next === null) break;
    run.state.pc = next;
    if (instruction.type !== 'jump') executed += 1;
  }

  const stop = run.stop ?? { reason: 'completed', detail: null };
  await quick.finishEnrollment({
    enrollmentId,
    status: stop.reason === 'completed' ? 'completed' : 'exited',
    stopReason: stop.reason,
    stopDetail: stop.detail,
    converted: run.loaded.settings.convertedOn.includes(stop.reason),
    at: new Date().toISOString(),
  });
  run.finished = true;
  await condition(allHandlersFinished);
}

/**
 * Switches to a migrated version between steps: the position moves to the new version's step
 * the mapping names for the step the enrollment was about to run (at the end, it stays at the end).
 */
function applyMigration(run: Run): void {
  const migration = run.migration;
  if (!migration) return;
  run.migration = null;
  const key = stepKeyAt(run.loaded.program, run.state.pc);
  run.loaded = { ...run.loaded, version: migration.version, program: migration.program, settings: migration.settings };
  run.state.pc = key === null ? migration.program.instructions.length : migration.program.keyIndex[migration.mapping[key]!]!;
}

/** Runs one instruction; the next pc, or null when the enrollment stops (run.stop says why). */
async function execute(run: Run, instruction: Instruction): Promise<number | null> {
  const pc = run.state.pc;
  if (instruction.type === 'jump') return instruction.targetAt;
  const visit = (run.state.visits[instruction.key] ?? 0) + 1;
  run.state.visits[instruction.key] = visit;
  const record = recorder(run, instruction, visit);
  const { enrollmentId } = run;
  const contactId = run.state.contactId;

  switch (instruction.type) {
    case 'email':
    case 'sms':
      return sendMessage(run, instruction, visit, record);
    case 'wait': {
      const { until } = await quick.waitUntil({ enrollmentId, contactId, now: new Date().toISOString(), duration: instruction.duration, until: instruction.until, sendWindow: run.loaded.settings.sendWindow });
      if (!(await waitUntil(run, until))) return null;
      return record('waited', pc + 1, { detail: { until } });
    }
    case 'branch': {
      const { result, messages } = await quick.evaluateBranch({ enrollmentId, contactId, condition: instruction.condition });
      return record(result ? 'then' : 'else', result ? pc + 1 : instruction.elseAt, { detail: { messages } });
    }
    case 'split': {
      const { variant } = await quick.chooseSplitVariant({ enrollmentId, stepKey: instruction.key, variants: instruction.variants.map(({ key, percent }) => ({ key, percent })) });
      run.state.variants[instruction.key] = variant;
      const arm = instruction.variants.find((candidate) => candidate.key === variant) ?? instruction.variants[0]!;
      return record('variant', arm.startAt, { variant: arm.key });
    }
    case 'task': {
      const { key, title, description, taskType, priority, dueInBusinessDays } = instruction;
      const task = await quick.createSequenceTask({ enrollmentId, workflowId: run.workflowId, contactId, stepKey: key, visit, title, description, taskType, priority, dueInBusinessDays });
      if (task.status === 'skipped') return skip(run, record, task.reason, pc + 1);
      if (!instruction.waitForCompletion) return record('task_created', pc + 1, { taskId: task.taskId });
      if (task.taskStatus === 'open' && !(await waitForTask(run, task.taskId))) return null;
      return record('task_completed', pc + 1, { taskId: task.taskId });
    }
    case 'update': {
      const { lifecycleStage, addTags, removeTags, fields } = instruction;
      const result = await quick.applyContactUpdate({ contactId, enrollmentId, stepKey: instruction.key, visit, lifecycleStage, addTags, removeTags, fields });
      if ('skipped' in result) return skip(run, record, result.skipped, pc + 1);
      return record('updated', pc + 1, { detail: { changed: result.changed } });
    }
    case 'goto':
      return record('goto', instruction.targetAt);
    case 'end':
      await record('ended', null);
      run.stop ??= { reason: 'completed', detail: null };
      return null;
    default: {
      const unhandled: never = instruction;
      throw new Error(`Unhandled instruction ${JSON.stringify(unhandled)}`);
    }
  }
}

type Recorder = (outcome: StepOutcome, next: number | null, extra?: { variant?: string; messageId?: string; taskId?: string; detail?: Record<string, unknown> }) => Promise<number | null>;

/**
 * Writes the step's row (once per visit) with where the enrollment goes next, and returns that.
 * `at` is workflow time, which stands still within one workflow task; it is nudged a millisecond
 * past the previous step's so an enrollment's steps always sort in the order they ran.
 */
function recorder(run: Run, instruction: Exclude<Instruction, { type: 'jump' }>, visit: number): Recorder {
  return async (outcome, next, extra = {}) => {
    const previous = run.state.history.at(-1);
    const at = new Date(Math.max(Date.now(), previous ? Date.parse(previous.at) + 1 : 0)).toISOString();
    await quick.recordStep({
      enrollmentId: run.enrollmentId,
      sequenceId: run.loaded.sequenceId,
      version: run.loaded.version,
      stepKey: instruction.key,
      stepType: instruction.type,
      visit,
      outcome,
      ...extra,
      at,
      nextStepKey: next === null ? null : nextStepKeyOf(run, next),
    });
    run.state.history = [...run.state.history, { stepKey: instruction.key, outcome, at }].slice(-historyKept);
    return next;
  };
}

/** The key of the step at `pc`, as the enrollment will know it: under a pending migration, the new version's. */
function nextStepKeyOf(run: Run, pc: number): string | null {
  const key = stepKeyAt(run.loaded.program, pc);
  return key === null || !run.migration ? key : (run.migration.mapping[key] ?? key);
}

/** A step that could not act: recorded as skipped; a deleted contact ends the enrollment. */
async function skip(run: Run, record: Recorder, reason: string, next: number): Promise<number | null> {
  await record('skipped', next, { detail: { reason } });
  if (reason !== 'contact_deleted') return next;
  run.stop ??= { reason: 'contact_deleted', detail: null };
  return null;
}

/**
 * A marketing send with one idempotency key per step visit: the send window and daily limits
 * first, then the messaging activity; a deferral (quiet hours, frequency cap) waits on a timer
 * and asks again with the same key, so the message exists at most once.
 */
async function sendMessage(run: Run, step: MessageInstruction, visit: number, record: Recorder): Promise<number | null> {
  const next = run.state.pc + 1;
  const idempotencyKey = `enrollment:${run.enrollmentId}:${step.key}:${visit}`;
  const detail = step.templateVersion === undefined ? {} : { templateVersion: step.templateVersion };
  for (;;) {
    const slot = await quick.sendSlot({
      enrollmentId: run.enrollmentId,
      sequenceId: run.loaded.sequenceId,
      contactId: run.state.contactId,
      now: new Date().toISOString(),
      sendWindow: run.loaded.settings.sendWindow,
      limits: run.loaded.settings.limits,
    });
    if (slot.until !== null) {
      if (!(await waitUntil(run, slot.until))) return null;
      continue;
    }
    if (run.stop) return null;
    const request = {
      idempotencyKey,
      contactId: run.state.contactId,
      templateKey: step.template,
      transactional: false,
      ...(step.templateVersion === undefined ? {} : { templateVersion: step.templateVersion }),
    };
    let outcome: Awaited<ReturnType<Activities['sendTemplatedEmail'] | Activities['sendTemplatedSms']>>;
    try {
      outcome = step.type === 'email' ? await sends.sendTemplatedEmail(request) : await sends.sendTemplatedSms(request);
    } catch (error) {
      if (!(error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && templateFailureTypes.includes(error.cause.type ?? ''))) throw error;
      return record('failed', next, { detail: { ...detail, reason: error.cause.message } });
    }
    switch (outcome.status) {
      case 'deferred': {
        const until = new Date(Math.max(Date.parse(outcome.until), Date.now() + minimumDeferralMs)).toISOString();
        if (!(await waitUntil(run, until))) return null;
        continue;
      }
      case 'accepted':
      case 'already_sent':
        return record('sent', next, { messageId: outcome.messageId, detail });
      case 'failed':
        return record('failed', next, { messageId: outcome.messageId, detail: { ...detail, reason: outcome.reason } });
      case 'skipped':
        return skip(run, record, outcome.reason, next);
      default: {
        const unhandled: never = outcome;
        throw new Error(`Unhandled send outcome ${JSON.stringify(unhandled)}`);
      }
    }
  }
}

/**
 * A durable timer until `until` (workflow time) that a stop cuts short; when it ends during a
 * pause, the step goes on only after the resume. False when the enrollment stopped.
 */
async function waitUntil(run: Run, until: string): Promise<boolean> {
  const untilMs = Date.parse(until);
  run.waitingUntil = until;
  for (let remaining = untilMs - Date.now(); remaining > 0 && !run.stop; remaining = untilMs - Date.now()) {
    await condition(() => run.stop !== null, remaining);
  }
  run.waitingUntil = null;
  return unlessPaused(run);
}

/** Holds while paused; false when the enrollment stopped instead. */
async function unlessPaused(run: Run): Promise<boolean> {
  await condition(() => run.stop !== null || !run.state.paused);
  return run.stop === null;
}

/** A call step: until the task is completed (signal from the tasks API, or found on the daily re-read). */
async function waitForTask(run: Run, taskId: string): Promise<boolean> {
  for (;;) {
    if (await condition(() => run.stop !== null || run.state.completedTaskIds.includes(taskId), taskRecheckInterval)) break;
    if ((await quick.taskStatus({ taskId })).status !== 'open') break;
  }
  if (run.stop) return false;
  return unlessPaused(run);
}

function progressOf(run: Run): EnrollmentProgress {
  const ended = run.finished && run.stop ? run.stop : null;
  return {
    enrollmentId: run.enrollmentId,
    status: ended ? (ended.reason === 'completed' ? 'completed' : 'exited') : run.state.paused ? 'paused' : 'active',
    currentStepKey: stepKeyAt(run.loaded.program, run.state.pc),
    waitingUntil: run.waitingUntil,
    stopReason: run.stop?.reason ?? null,
    history: run.state.history,
  };
}
