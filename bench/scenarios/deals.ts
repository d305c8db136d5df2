import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { dealStateQuery, dealWorkflowType, type DealWorkflowInput } from '../../workflows/deal-messages';
import { dealWorkflowId } from '../../workflows/workflow-ids';
import { closedLoop, type Operation, type PassResult } from '../lib/load';
import { envInt, type Scenario, type ScenarioContext, type ScenarioResult } from '../lib/scenario';
import { apiCaller, mib } from '../lib/api';
import { sleep, startBenchStack, type BenchStack } from '../lib/stack';
import { round, summarize } from '../lib/stats';
import { printTable } from '../lib/table';
import { sampleWorkerRss, type RssSampler } from '../lib/worker-rss';
import { benchNoop, benchPingSignal } from '../workflows/noop';

/**
 * Deals: N open deals, each with its deal workflow waiting on an idle timer, then a burst of M
 * stage moves through PATCH /v1/deals/{id} into a stage with a two-action trigger (a task for
 * the owner and an email to the owner). Figures: trigger latency (stage change recorded -> last
 * action done, from the database's own timestamps), trigger tasks created per second, and the
 * worker's memory with N timers and under the burst. Baseline, same run and stack: the raw shape
 * of one move without the product, an indexed insert plus a signalWithStart of a no-op workflow.
 */
export const scenario: Scenario = {
  name: 'deals',
  description: 'N open deals with idle timers, a burst of M stage moves with a two-action trigger: trigger latency p50/p99, tasks/s, worker RSS',
  run,
};

const baselineTaskQueue = 'bench-deals-baseline';
const fromStage = 'New';
const toStage = 'Contacted';

type Deal = { id: string };

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { env, log } = ctx;
  const n = envInt(env, 'BENCH_DEALS', 10_000, 10, 200_000);
  const moves = envInt(env, 'BENCH_MOVES', Math.min(1_000, n), 1, n);
  const concurrency = envInt(env, 'BENCH_CONCURRENCY', 32, 1, 512);
  const deadlineMs = envInt(env, 'BENCH_MAX_SECONDS', 1800, 60, 7200) * 1000;
  const runId = randomBytes(3).toString('hex');
  const machine = { cpus: os.availableParallelism(), node: process.version, loadAverage1m: round(os.loadavg()[0] ?? 0, 2) };

  const stack = await startBenchStack({ env, log });
  ctx.defer(stack.stop);
  const apiKey = stack.adminApiKey;
  if (!apiKey) throw new Error('the deals scenario writes a trigger and moves deals through the API: set BENCH_ADMIN_API_KEY for an external stack');
  const taskQueue = env.BENCH_TASK_QUEUE || 'touchpoint';
  const db = new Pool({ connectionString: stack.databaseUrl, max: 4 });
  ctx.defer(() => db.end());
  const connection = await Connection.connect({ address: stack.temporalAddress });
  ctx.defer(() => connection.close());
  const client = new Client({ connection, namespace: stack.temporalNamespace });
  const api = apiCaller(stack, apiKey, ctx);
  const rss = sampleWorkerRss(stack.workerMetricsUrl, ctx);

  const { rows: stages } = await db.query<{ id: string; name: string; pipeline_id: string }>(
    `SELECT s.id, s.name, s.pipeline_id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE p.name = 'Sales' AND s.name IN ($1, $2)`,
    [fromStage, toStage],
  );
  const stage = (name: string) => stages.find((row) => row.name === name) ?? fail(`the Sales pipeline has no stage ${name}`);
  const trigger = await api<{ id: string }>('POST', '/v1/triggers', {
    name: `bench deals ${runId}`,
    publish: true,
    definition: {
      event: 'enter',
      stageId: stage(toStage).id,
      actions: [
        { type: 'create_task', title: 'Call {{deal.name}} now it is {{stageChange.to}}', taskType: 'call' },
        { type: 'notify_owner', template: 'deal-stage-changed' },
      ],
    },
  });

  const rssAtStart = await firstSample(rss, ctx);
  log(`bench: seeding ${n} open deals in ${fromStage} (pipeline Sales), owned by the reps in turn`);
  const deals = await seedDeals(db, n, stage(fromStage), runId);

  log(`bench: starting ${n} deal workflows at concurrency ${concurrency}`);
  const startTimer = performance.now();
  const starts = await closedLoop({
    count: n,
    concurrency,
    deadlineMs,
    signal: ctx.signal,
    operation: async (index) => {
      const dealId = deals[index]!.id;
      await client.workflow.start(dealWorkflowType, { workflowId: dealWorkflowId(dealId), taskQueue, args: [{ dealId } satisfies DealWorkflowInput] });
      return null;
    },
  });
  const armed = await waitForIdleTimers(client, deals.slice(-Math.min(50, n)), deadlineMs, ctx);
  const armSeconds = (performance.now() - startTimer) / 1000;
  const rssWithTimers = rss.current();
  log(`bench: ${starts.ok} workflows started (${round(starts.rate)}/s); idle timers armed ${round(armSeconds)} s after the first start; worker RSS ${mib(rssWithTimers)} MiB`);

  log(`bench: burst of ${moves} stage moves ${fromStage} -> ${toStage} through PATCH /v1/deals/{id} at concurrency ${concurrency}`);
  const burstStartedAt = Date.now();
  const burst = await closedLoop({
    count: moves,
    concurrency,
    deadlineMs,
    signal: ctx.signal,
    operation: async (index) => {
      await api('PATCH', `/v1/deals/${deals[index]!.id}`, { stageId: stage(toStage).id });
      return null;
    },
  });
  const done = await waitForTriggerRuns(db, trigger.id, burst.ok * 2, deadlineMs, ctx);
  const drainSeconds = (Date.now() - burstStartedAt) / 1000;
  const workerRss = await rss.stop();

  const { rows: latencies } = await db.query<{ ms: number; actions: number }>(
    `SELECT extract(epoch FROM (max(r.at) - c.changed_at)) * 1000 AS ms, count(*)::int AS actions
       FROM trigger_runs r JOIN deal_stage_changes c ON c.id = r.stage_change_id
      WHERE r.trigger_id = $1 GROUP BY c.id, c.changed_at`,
    [trigger.id],
  );
  const complete = latencies.filter((row) => row.actions === 2).map((row) => Number(row.ms));
  const latency = summarize(complete);
  const { rows: [tasks] } = await db.query<{ n: number; seconds: number | null }>(
    `SELECT count(*)::int AS n, extract(epoch FROM (max(created_at) - min(created_at))) AS seconds FROM tasks WHERE source_ref = $1`,
    [`trigger:${trigger.id}`],
  );
  const tasksPerSecond = tasks && tasks.seconds ? tasks.n / Number(tasks.seconds) : Number.NaN;
  const { rows: [runStates] } = await db.query<{ done: number; other: number; notified: number }>(
    `SELECT count(*) FILTER (WHERE status = 'done')::int AS done, count(*) FILTER (WHERE status <> 'done')::int AS other,
            count(*) FILTER (WHERE action_type = 'notify_owner' AND status = 'done')::int AS notified
       FROM trigger_runs WHERE trigger_id = $1`,
    [trigger.id],
  );
  const movesPerSecond = done.seconds ? complete.length / done.seconds : Number.NaN;

  log(`bench: baseline, ${moves} x (insert + signalWithStart of a no-op workflow) at concurrency ${concurrency}`);
  const baseline = await runBaseline(stack, db, runId, moves, concurrency, deadlineMs, ctx);
  const ratio = baseline.rate > 0 ? movesPerSecond / baseline.rate : Number.NaN;

  process.stdout.write('\n');
  printTable(
    ['figure', 'value'],
    [
      [`open deals with an idle timer (workflow starts ${round(starts.rate)}/s, ${starts.errors} errors)`, n],
      ['time until every idle timer was armed', `${round(armSeconds)} s${armed ? '' : ' (NOT all armed in time)'}`],
      [`stage moves via PATCH (concurrency ${concurrency}), ${burst.errors} errors`, `${burst.ok} at ${round(burst.rate)}/s, p50 ${round(burst.latency.p50Ms)} ms, p99 ${round(burst.latency.p99Ms)} ms`],
      [`trigger latency, stage change recorded -> last action done (${complete.length} moves)`, `p50 ${round(latency.p50Ms)} ms, p99 ${round(latency.p99Ms)} ms, max ${round(latency.maxMs)} ms`],
      ['trigger tasks created', `${tasks?.n ?? 0} at ${round(tasksPerSecond)}/s`],
      ['moves with both actions done per second (burst start -> last action)', `${round(movesPerSecond)}/s`],
      ['trigger runs: done / not done; owner emails sent', `${runStates?.done ?? 0} / ${runStates?.other ?? 0}; ${runStates?.notified ?? 0}`],
      [`baseline: insert + signalWithStart no-op (concurrency ${concurrency})`, `${round(baseline.rate)}/s`],
      ['ratio moves / baseline', `${round(ratio, 2)}`],
      ['worker RSS: before the deals / with the idle timers / peak / last', `${mib(rssAtStart)} / ${mib(rssWithTimers)} / ${mib(workerRss.peak)} / ${mib(workerRss.last)} MiB`],
    ],
  );
  if (!done.complete) process.stdout.write(`NOT all trigger actions finished within ${deadlineMs / 1000} s: ${done.count} of ${burst.ok * 2}\n`);
  process.stdout.write(`(all ${burst.ok} moves' actions done ${round(drainSeconds)} s after the burst started; load average ${machine.loadAverage1m} -> ${round(os.loadavg()[0] ?? 0, 2)} on ${machine.cpus} CPUs)\n`);

  return {
    scenario: 'deals',
    deals: n,
    moves,
    concurrency,
    workflowStartsPerSecond: round(starts.rate),
    timersArmedSeconds: round(armSeconds),
    patch: { ok: burst.ok, errors: burst.errors, perSecond: round(burst.rate), p50Ms: round(burst.latency.p50Ms), p99Ms: round(burst.latency.p99Ms), errorKinds: burst.errorKinds },
    triggerLatency: { count: complete.length, p50Ms: round(latency.p50Ms), p90Ms: round(latency.p90Ms), p99Ms: round(latency.p99Ms), maxMs: round(latency.maxMs) },
    tasksCreated: tasks?.n ?? 0,
    tasksPerSecond: round(tasksPerSecond),
    movesCompletedPerSecond: round(movesPerSecond),
    allActionsDoneSeconds: done.complete ? round(drainSeconds) : null,
    triggerRuns: runStates,
    workerRssMiB: { beforeDeals: mib(rssAtStart), withIdleTimers: mib(rssWithTimers), peak: mib(workerRss.peak), last: mib(workerRss.last) },
    baseline: { opsPerSecond: round(baseline.rate), p99Ms: round(baseline.latency.p99Ms), errors: baseline.errors },
    ratio: round(ratio, 3),
    stack: { owned: stack.owned, database: stack.database },
    machine: { ...machine, loadAverage1mAtEnd: round(os.loadavg()[0] ?? 0, 2) },
  };
}

/** The worker's RSS once its metrics answer (it starts just after the API). */
async function firstSample(rss: RssSampler, { signal }: ScenarioContext): Promise<number | null> {
  for (let waited = 0; rss.current() === null && waited < 30_000; waited += 500) {
    signal.throwIfAborted();
    await sleep(500);
  }
  return rss.current();
}

function fail(message: string): never {
  throw new Error(message);
}



/** Deals written straight into the table (creating them is not what this measures), owned by the reps in turn. */
async function seedDeals(db: Pool, n: number, stage: { id: string; pipeline_id: string }, runId: string): Promise<Deal[]> {
  const { rows: reps } = await db.query<{ id: string }>(`SELECT id FROM users WHERE role = 'rep' AND active ORDER BY email`);
  if (reps.length === 0) throw new Error('no active reps to own the deals');
  const deals: Deal[] = [];
  const batch = 5_000;
  for (let from = 0; from < n; from += batch) {
    const ids = Array.from({ length: Math.min(batch, n - from) }, () => randomUUID());
    await db.query(
      `INSERT INTO deals (id, name, amount, currency, pipeline_id, stage_id, owner_id, status, stage_entered_at, last_touch_at, created_at, updated_at)
       SELECT d.id, 'Bench deal ' || $5::text || '-' || (d.n + $4::int), 1000 + (d.n % 50) * 100, 'EUR', $2::uuid, $3::uuid, (ARRAY(SELECT unnest($6::uuid[])))[1 + (d.n + $4::int) % cardinality($6::uuid[])],
              'open', now(), now(), now(), now()
         FROM unnest($1::uuid[]) WITH ORDINALITY AS d(id, n)`,
      [ids, stage.pipeline_id, stage.id, from, runId, reps.map((rep) => rep.id)],
    );
    deals.push(...ids.map((id) => ({ id })));
  }
  return deals;
}

/** Every workflow of the sample has its idle deadline (they are started in order, so the last ones are armed last). */
async function waitForIdleTimers(client: Client, sample: Deal[], deadlineMs: number, { signal }: ScenarioContext): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  for (const deal of sample) {
    const handle = client.workflow.getHandle(dealWorkflowId(deal.id));
    for (;;) {
      signal.throwIfAborted();
      const state = await handle.query(dealStateQuery).catch(() => null);
      if (state?.idleDeadline) break;
      if (Date.now() > deadline) return false;
      await sleep(500);
    }
  }
  return true;
}

async function waitForTriggerRuns(db: Pool, triggerId: string, expected: number, deadlineMs: number, { log, signal }: ScenarioContext) {
  const startedAt = Date.now();
  let lastLog = startedAt;
  let count = 0;
  while (Date.now() - startedAt < deadlineMs) {
    signal.throwIfAborted();
    const { rows } = await db.query<{ n: number; first: Date | null; last: Date | null }>(
      `SELECT count(*)::int AS n, min(c.changed_at) AS first, max(r.at) AS last
         FROM trigger_runs r JOIN deal_stage_changes c ON c.id = r.stage_change_id WHERE r.trigger_id = $1`,
      [triggerId],
    );
    count = rows[0]?.n ?? 0;
    if (count >= expected) {
      const { first, last } = rows[0]!;
      return { complete: true, count, seconds: first && last ? (last.getTime() - first.getTime()) / 1000 : null };
    }
    if (Date.now() - lastLog >= 5_000) {
      lastLog = Date.now();
      log(`bench:   ${count}/${expected} trigger actions done`);
    }
    await sleep(250);
  }
  return { complete: false, count, seconds: null };
}

/** Per move: one indexed insert and one signalWithStart of a workflow that completes in its first task. */
async function runBaseline(stack: BenchStack, db: Pool, runId: string, count: number, concurrency: number, deadlineMs: number, { log, signal }: ScenarioContext): Promise<PassResult> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const pool = new Pool({ connectionString: stack.databaseUrl, max: concurrency });
  const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const worker = await Worker.create({ connection: nativeConnection, namespace: stack.temporalNamespace, taskQueue: baselineTaskQueue, workflowsPath: require.resolve('../workflows/noop') });
  const workerRun = worker.run();
  try {
    await db.query('CREATE TABLE IF NOT EXISTS bench_deals_baseline (id uuid PRIMARY KEY, deal text, created_at timestamptz DEFAULT now())');
    const client = new Client({ connection, namespace: stack.temporalNamespace });
    const operation = (tag: string): Operation => async (index) => {
      await pool.query('INSERT INTO bench_deals_baseline (id, deal) VALUES ($1, $2)', [randomUUID(), `${tag}${index}`]);
      await client.workflow.signalWithStart(benchNoop, { workflowId: `bench-deals-noop-${runId}-${tag}${index}`, taskQueue: baselineTaskQueue, signal: benchPingSignal, signalArgs: [`${tag}${index}`] });
      return null;
    };
    await closedLoop({ count: Math.min(100, count), concurrency, deadlineMs, operation: operation('w'), signal });
    const result = await closedLoop({ count, concurrency, deadlineMs, operation: operation('p'), signal });
    log(`bench: baseline ${round(result.rate)}/s, p99 ${round(result.latency.p99Ms)} ms`);
    return result;
  } finally {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun.catch((error: unknown) => log(`bench: baseline worker: ${error instanceof Error ? error.message : String(error)}`));
    await nativeConnection.close();
    await connection.close();
    await db.query('DROP TABLE IF EXISTS bench_deals_baseline').catch(() => {});
    await pool.end();
  }
}
