import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Pool } from 'pg';
// What one bulk job runs in parallel: the baseline starts its workflows with the same concurrency.
import { pageConcurrency } from '../../activities/bulk-enrollment';
import { closedLoop, type PassResult } from '../lib/load';
import { envInt, type Scenario, type ScenarioContext, type ScenarioResult } from '../lib/scenario';
import { apiCaller, mib } from '../lib/api';
import { sleep, startBenchStack, type BenchStack } from '../lib/stack';
import { round } from '../lib/stats';
import { printTable } from '../lib/table';
import { sampleWorkerRss } from '../lib/worker-rss';
import { benchNoop } from '../workflows/noop';

/**
 * Bulk enrollment: N contacts of a segment into a published 3-step sequence (email, a one-minute
 * wait, SMS) through POST /v1/sequences/{id}/bulk-enrollments on the stack's own worker; the
 * enrollment rate, the time until every enrollment has run all its steps, history events per
 * step and the worker's memory. Baseline, same run and stack: starting no-op workflows with the
 * client concurrency one bulk job uses.
 */
export const scenario: Scenario = {
  name: 'enroll',
  description: 'bulk-enroll N contacts into email -> wait PT1M -> sms: enrollment rate, time to all steps done, history per step, worker RSS, against starting no-op workflows',
  run,
};

const targets = { ratio: 0.5, workerRssBytes: 1024 ** 3 };
const baselineTaskQueue = 'bench-enroll-baseline';

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { env, log } = ctx;
  const n = envInt(env, 'BENCH_N', 10_000, 10, 200_000);
  const baselineConcurrency = envInt(env, 'BENCH_BASELINE_CONCURRENCY', pageConcurrency, 1, 256);
  const timeoutMs = envInt(env, 'BENCH_MAX_SECONDS', 1800, 60, 7200) * 1000;
  // V8 grows a heap lazily up to its limit (here a quarter of the machine's memory) before it
  // collects in earnest, and the worker has two: its own and its workflow thread's. The limit
  // also sizes the SDK's workflow cache (about 600 workflows per GiB).
  const heapMiB = envInt(env, 'BENCH_WORKER_HEAP_MIB', 512, 128, 16_384);
  const runId = randomBytes(3).toString('hex');
  const machine = { cpus: os.availableParallelism(), node: process.version, loadAverage1m: round(os.loadavg()[0] ?? 0, 2) };

  const stack = await startBenchStack({
    env,
    log,
    // Sends at any hour and no weekly cap, so the figures do not depend on the clock or on earlier runs.
    stackEnv: {
      QUIET_HOURS_ENABLED: 'false',
      FREQUENCY_CAP_PER_7_DAYS: '0',
      NODE_OPTIONS: [env.NODE_OPTIONS, `--max-old-space-size=${heapMiB}`].filter(Boolean).join(' '),
      ...(env.BULK_ENROLLMENT_PAGE_SIZE ? { BULK_ENROLLMENT_PAGE_SIZE: env.BULK_ENROLLMENT_PAGE_SIZE } : {}),
    },
  });
  ctx.defer(stack.stop);
  const apiKey = stack.adminApiKey;
  if (!apiKey) throw new Error('the enroll scenario writes a sequence through the API: set BENCH_ADMIN_API_KEY for an external stack');
  const db = new Pool({ connectionString: stack.databaseUrl, max: 2 });
  ctx.defer(() => db.end());
  const tag = `bench-enroll-${runId}`;

  log(`bench: seeding ${n} contacts with an email, a phone and consent on both (tag ${tag})`);
  await seedContacts(db, n, tag, runId);

  log(`bench: baseline, ${n} starts of a no-op workflow at concurrency ${baselineConcurrency}`);
  const baseline = await runBaseline(stack, runId, n, baselineConcurrency, timeoutMs, ctx);

  const api = apiCaller(stack, apiKey, ctx, 30_000);

  const sequence = await api<{ id: string }>('POST', '/v1/sequences', {
    name: `bench enroll ${runId}`,
    publish: true,
    definition: {
      steps: [
        { key: 'hello', type: 'email', template: 'welcome' },
        { key: 'pause', type: 'wait', duration: 'PT1M' },
        { key: 'nudge', type: 'sms', template: 'welcome' },
      ],
    },
  });

  const rss = sampleWorkerRss(stack.workerMetricsUrl, ctx);
  log(`bench: bulk enrollment of the segment (${n} contacts)`);
  const startedAt = performance.now();
  const job = await api<{ id: string; matched: number }>('POST', `/v1/sequences/${sequence.id}/bulk-enrollments`, { filter: { tags: { any: [tag] } } });
  const deadline = Date.now() + timeoutMs;
  let lastLog = Date.now();
  let progress = await api<{ status: string; enrolled: number; skipped: number; failed: number; processed: number }>('GET', `/v1/bulk-enrollments/${job.id}`);
  while (progress.status === 'running' && Date.now() < deadline) {
    ctx.signal.throwIfAborted();
    await sleep(250);
    progress = await api('GET', `/v1/bulk-enrollments/${job.id}`);
    if (Date.now() - lastLog >= 5_000) {
      lastLog = Date.now();
      log(`bench:   ${progress.processed}/${job.matched} processed, ${progress.enrolled} enrolled`);
    }
  }
  const enrollSeconds = (performance.now() - startedAt) / 1000;
  const enrollRate = progress.enrolled / enrollSeconds;
  log(`bench: job ${progress.status}: ${progress.enrolled} enrolled in ${round(enrollSeconds)} s (${round(enrollRate)}/s); waiting for every enrollment to finish its steps`);

  let finished = { completed: 0, live: 0, exited: 0 };
  while (Date.now() < deadline) {
    ctx.signal.throwIfAborted();
    const { rows } = await db.query<{ completed: number; live: number; exited: number }>(
      `SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed, count(*) FILTER (WHERE status IN ('active', 'paused'))::int AS live,
              count(*) FILTER (WHERE status = 'exited')::int AS exited
         FROM enrollments WHERE sequence_id = $1`,
      [sequence.id],
    );
    finished = rows[0] ?? finished;
    if (finished.live === 0 && finished.completed + finished.exited >= progress.enrolled) break;
    if (Date.now() - lastLog >= 5_000) {
      lastLog = Date.now();
      log(`bench:   ${finished.completed}/${progress.enrolled} enrollments completed, ${finished.live} running`);
    }
    await sleep(1_000);
  }
  const allDone = finished.live === 0;
  const finishSeconds = (performance.now() - startedAt) / 1000;
  const workerRss = await rss.stop();

  const { rows: sent } = await db.query<{ channel: string; status: string; n: number }>(
    `SELECT m.channel::text AS channel, m.status::text AS status, count(*)::int AS n
       FROM enrollment_steps s JOIN messages m ON m.id = s.message_id WHERE s.sequence_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
    [sequence.id],
  );
  const history = await historyPerStep(stack, db, sequence.id);

  const ratio = baseline.rate > 0 ? enrollRate / baseline.rate : Number.NaN;
  process.stdout.write('\n');
  printTable(
    ['figure', 'value'],
    [
      [`enrollment rate (${progress.enrolled} enrolled, ${progress.skipped} skipped, ${progress.failed} failed)`, `${round(enrollRate)}/s`],
      [`baseline: no-op workflow starts (concurrency ${baselineConcurrency})`, `${round(baseline.rate)}/s`],
      ['ratio enrollment / baseline', `${round(ratio, 2)} (target >= ${targets.ratio})`],
      ['time to enroll the segment', `${round(enrollSeconds)} s`],
      [allDone ? 'time until every enrollment ran all 3 steps (one is a 1-minute wait)' : 'NOT all enrollments finished in time', `${round(finishSeconds)} s`],
      ['history events per executed step (enrollment workflows, sample)', `${round(history.eventsPerStep, 2)} (${round(history.eventsPerEnrollment, 1)} per enrollment of ${round(history.stepsPerEnrollment, 1)} steps)`],
      [`worker RSS: peak / last (${stack.owned ? `--max-old-space-size=${heapMiB}` : 'external worker'})`, `${mib(workerRss.peak)} / ${mib(workerRss.last)} MiB (target < ${mib(targets.workerRssBytes)} MiB)`],
      ['messages sent by the steps', sent.map((row) => `${row.channel} ${row.status} ${row.n}`).join(', ') || 'none'],
    ],
  );
  process.stdout.write(`(load average ${machine.loadAverage1m} -> ${round(os.loadavg()[0] ?? 0, 2)} on ${machine.cpus} CPUs)\n`);

  return {
    scenario: 'enroll',
    n,
    enrolled: progress.enrolled,
    skipped: progress.skipped,
    failed: progress.failed,
    jobStatus: progress.status,
    enrollmentsPerSecond: round(enrollRate),
    enrollSeconds: round(enrollSeconds),
    allStepsDoneSeconds: allDone ? round(finishSeconds) : null,
    enrollmentsFinished: finished,
    historyEventsPerStep: round(history.eventsPerStep, 2),
    historyEventsPerEnrollment: round(history.eventsPerEnrollment, 1),
    historySample: history.sample,
    workerRssPeakMiB: workerRss.peak === null ? null : round(workerRss.peak / 1024 ** 2),
    workerHeapLimitMiB: stack.owned ? heapMiB : null,
    messages: Object.fromEntries(sent.map((row) => [`${row.channel}:${row.status}`, row.n])),
    baseline: { workflowStartsPerSecond: round(baseline.rate), concurrency: baselineConcurrency, p99Ms: round(baseline.latency.p99Ms), errors: baseline.errors },
    ratio: round(ratio, 3),
    targets: { ratio: targets.ratio, workerRssMiB: mib(targets.workerRssBytes) },
    targetsMet: { ratio: ratio >= targets.ratio, workerRss: workerRss.peak !== null && workerRss.peak < targets.workerRssBytes },
    stack: { owned: stack.owned, database: stack.database },
    machine: { ...machine, loadAverage1mAtEnd: round(os.loadavg()[0] ?? 0, 2) },
  };
}


/** Contacts written straight into the tables (the API is not what this measures), in batches. */
async function seedContacts(db: Pool, n: number, tag: string, runId: string): Promise<void> {
  const batch = 5_000;
  for (let from = 0; from < n; from += batch) {
    const count = Math.min(batch, n - from);
    await db.query(
      `WITH made AS (
         INSERT INTO contacts (id, first_name, last_name, tags, source, created_at, updated_at)
         SELECT gen_random_uuid(), 'Bench', 'Contact ' || (g + $2::int), ARRAY[$3::text], 'bench', now(), now() FROM generate_series(1, $1::int) g
         RETURNING id, last_name),
       emails AS (
         INSERT INTO contact_emails (id, contact_id, address, is_primary, created_at, updated_at)
         SELECT gen_random_uuid(), id, 'enroll-' || $4::text || '-' || replace(last_name, 'Contact ', '') || '@example.com', true, now(), now() FROM made),
       phones AS (
         INSERT INTO contact_phones (id, contact_id, e164, is_primary, created_at, updated_at)
         SELECT gen_random_uuid(), id, '+1' || (200 + floor(random() * 700))::int || lpad((floor(random() * 10000000))::int::text, 7, '0'), true, now(), now() FROM made
         ON CONFLICT (e164) DO NOTHING)
       INSERT INTO contact_consents (id, contact_id, channel, status, source, at)
       SELECT gen_random_uuid(), made.id, channel::"Channel", 'granted', 'bench', now() FROM made CROSS JOIN unnest(ARRAY['email', 'sms']) AS channel`,
      [count, from, tag, runId],
    );
  }
}

/** History events of a sample of finished enrollment workflows, per step they executed. */
async function historyPerStep(stack: BenchStack, db: Pool, sequenceId: string) {
  const { rows } = await db.query<{ workflow_id: string; steps: number }>(
    `SELECT e.workflow_id, (SELECT count(*) FROM enrollment_steps s WHERE s.enrollment_id = e.id)::int AS steps
       FROM enrollments e WHERE e.sequence_id = $1 AND e.status = 'completed' ORDER BY random() LIMIT 20`,
    [sequenceId],
  );
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    const client = new Client({ connection, namespace: stack.temporalNamespace });
    let events = 0;
    let steps = 0;
    for (const row of rows) {
      events += (await client.workflow.getHandle(row.workflow_id).fetchHistory()).events?.length ?? 0;
      steps += row.steps;
    }
    return {
      sample: rows.length,
      eventsPerStep: steps > 0 ? events / steps : Number.NaN,
      eventsPerEnrollment: rows.length > 0 ? events / rows.length : Number.NaN,
      stepsPerEnrollment: rows.length > 0 ? steps / rows.length : Number.NaN,
    };
  } finally {
    await connection.close();
  }
}

/** Starts of a workflow that completes in its first task, on a worker of its own task queue, at `concurrency`. */
async function runBaseline(stack: BenchStack, runId: string, n: number, concurrency: number, deadlineMs: number, { log, signal }: ScenarioContext): Promise<PassResult> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const worker = await Worker.create({ connection: nativeConnection, namespace: stack.temporalNamespace, taskQueue: baselineTaskQueue, workflowsPath: require.resolve('../workflows/noop') });
  const workerRun = worker.run();
  try {
    const client = new Client({ connection, namespace: stack.temporalNamespace });
    const start = (tag: string) => async (index: number) => {
      await client.workflow.start(benchNoop, { workflowId: `bench-enroll-noop-${runId}-${tag}${index}`, taskQueue: baselineTaskQueue });
      return null;
    };
    await closedLoop({ count: Math.min(200, n), concurrency, deadlineMs, operation: start('w'), signal });
    const result = await closedLoop({ count: n, concurrency, deadlineMs, operation: start('p'), signal });
    log(`bench: baseline ${round(result.rate)}/s, p99 ${round(result.latency.p99Ms)} ms, ${result.errors} errors`);
    return result;
  } finally {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun.catch((error: unknown) => log(`bench: baseline worker: ${error instanceof Error ? error.message : String(error)}`));
    await nativeConnection.close();
    await connection.close();
  }
}
