import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { runDuplicateAudit } from '../../activities/duplicate-audit';
import { normalizePhone } from '../../domain/normalize';
import type { ImportView } from '../../domain/schemas/import';
import { createPrisma } from '../../runtime/prisma';
import { envInt, type Scenario, type ScenarioContext, type ScenarioResult } from '../lib/scenario';
import { sleep, startBenchStack } from '../lib/stack';
import { round } from '../lib/stats';
import { printTable } from '../lib/table';
import { sampleWorkerRss } from '../lib/worker-rss';

/**
 * CSV import: N generated rows (5% invalid, 10% of them people already in the database,
 * the rest new) through POST /v1/imports on the stack's own worker; rows per second from the
 * upload to the last batch, the worker's peak memory while it imports, and the duplicate
 * audit's time over the table the import produced. Baseline, same run and database: a plain
 * COPY of the same CSV into a scratch table.
 */
export const scenario: Scenario = {
  name: 'import',
  description: 'CSV import of N rows (5% invalid, 10% existing contacts): rows/s, worker peak RSS, duplicate-audit time, against COPY of the same rows',
  run,
};

const targets = { rowsPerSecond: 10_000, workerRssBytes: 512 * 1024 ** 2 };
const mib = (bytes: number) => bytes / 1024 ** 2;

const firstNames = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Niklaus', 'Margaret', 'Tim', 'José', 'Zoë', 'Søren'];
const lastNames = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Wirth', 'Hamilton', "O'Brien", 'van der Berg'];
const legalForms = ['Inc.', 'Inc', 'GmbH', 'Ltd', 'S.A.', 'LLC'];
const usAreas = ['212', '310', '415', '617', '312', '646', '718', '202'];

interface GeneratedFile {
  csv: Buffer;
  /** Addresses of the people the file repeats, to store as contacts before the import. */
  existing: string[];
  expected: { rowsRead: number; created: number; updated: number; skipped: number; failed: number };
}

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { env, log } = ctx;
  const n = envInt(env, 'BENCH_N', 100_000, 100, 1_000_000);
  const timeoutMs = envInt(env, 'BENCH_MAX_SECONDS', 1800, 30, 7200) * 1000;
  const runId = randomBytes(3).toString('hex');
  const machine = { cpus: os.availableParallelism(), node: process.version, loadAverage1m: round(os.loadavg()[0] ?? 0, 2) };

  log(`bench: generating ${n} rows`);
  const file = generateFile(n, runId);
  // V8 grows a heap lazily, by what the process allocates rather than what it keeps: capped, the
  // worker collects sooner and its memory stays flat (README, Running in production). 0: no cap.
  const maxOldSpaceMb = envInt(env, 'BENCH_MAX_OLD_SPACE_MB', 256, 0, 16_384);
  const stack = await startBenchStack({
    env,
    log,
    stackEnv: {
      ...(maxOldSpaceMb > 0 ? { NODE_OPTIONS: [env.NODE_OPTIONS, `--max-old-space-size=${maxOldSpaceMb}`].filter(Boolean).join(' ') } : {}),
      ...(env.IMPORT_BATCH_ROWS ? { IMPORT_BATCH_ROWS: env.IMPORT_BATCH_ROWS } : {}),
    },
  });
  ctx.defer(stack.stop);
  const apiKey = stack.adminApiKey;
  if (!apiKey) throw new Error('the import scenario uploads through the API: set BENCH_ADMIN_API_KEY for an external stack');
  const db = new Pool({ connectionString: stack.databaseUrl, max: 2 });
  ctx.defer(() => db.end());
  log(`bench: storing the ${file.existing.length} people the file repeats as contacts`);
  await db.query(
    `WITH people AS (SELECT gen_random_uuid() AS id, address FROM unnest($1::text[]) AS address),
     made AS (INSERT INTO contacts (id, first_name, source, created_at, updated_at) SELECT id, 'Existing', 'bench', now(), now() FROM people)
     INSERT INTO contact_emails (id, contact_id, address, is_primary, created_at, updated_at)
     SELECT gen_random_uuid(), id, address, true, now(), now() FROM people`,
    [file.existing],
  );

  // The stack answers before its worker has bundled the workflows; the worker serves /metrics
  // once it has. Bundling leaves garbage that V8 collects when the worker first idles: the
  // import is measured from the worker's settled state, as a long-running worker meets it.
  await waitForWorker(stack.workerMetricsUrl, ctx);
  const rss = sampleWorkerRss(stack.workerMetricsUrl, ctx, 250);
  const settleSeconds = envInt(env, 'BENCH_SETTLE_SECONDS', 30, 0, 600);
  await sleep(500);
  const rssAtStart = rss.current();
  log(`bench: worker up (RSS ${rssAtStart === null ? 'unknown' : `${round(mib(rssAtStart))} MiB`}); letting it settle for ${settleSeconds} s`);
  await sleep(settleSeconds * 1000);
  const rssBefore = rss.current();
  rss.resetPeak();
  log(`bench: importing ${n} rows (${round(mib(file.csv.length), 1)} MiB), worker RSS ${rssBefore === null ? 'unknown' : `${round(mib(rssBefore))} MiB`} before`);
  const startedAt = performance.now();
  const response = await fetch(`${stack.apiUrl}/v1/imports?defaultCountry=US&source=bench-import&fileName=bench-${runId}.csv`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv' },
    body: file.csv,
    signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ctx.signal]),
  });
  const created = (await response.json()) as ImportView;
  if (response.status !== 202) throw new Error(`POST /v1/imports: HTTP ${response.status} ${JSON.stringify(created).slice(0, 500)}`);
  const uploadSeconds = (performance.now() - startedAt) / 1000;
  log(`bench: uploaded and queued in ${round(uploadSeconds, 2)} s; waiting for the batches`);
  const done = await waitForImport(stack.apiUrl, apiKey, created.id, timeoutMs, ctx);
  const seconds = (performance.now() - startedAt) / 1000;
  const memory = await rss.stop();
  const processingSeconds = done.startedAt && done.finishedAt ? (Date.parse(done.finishedAt) - Date.parse(done.startedAt)) / 1000 : Number.NaN;
  const rowsPerSecond = n / seconds;
  const countsMatch = JSON.stringify(done.counts) === JSON.stringify(file.expected);
  log(`bench: ${done.status} in ${round(seconds, 2)} s, ${round(rowsPerSecond)} rows/s, ${JSON.stringify(done.counts)}`);

  log('bench: baseline, COPY of the same CSV into a scratch table');
  const copySeconds = await copyBaseline(db, file.csv, runId);
  const copyRowsPerSecond = n / copySeconds;
  const ratio = rowsPerSecond / copyRowsPerSecond;

  // The audit writes candidates and review tasks: only into a database this bench owns, or when asked.
  let audit: { seconds: number; contactsScanned: number; pairsFound: number } | null = null;
  if (stack.owned || env.BENCH_AUDIT === '1') {
    log('bench: duplicate audit over the contacts table');
    const prisma = createPrisma(stack.databaseUrl, { poolSize: 4 });
    ctx.defer(() => prisma.$disconnect());
    const auditStart = performance.now();
    const summary = await runDuplicateAudit(prisma);
    audit = { seconds: (performance.now() - auditStart) / 1000, contactsScanned: summary.contactsScanned, pairsFound: summary.pairsFound };
  }

  process.stdout.write('\n');
  printTable(
    ['measure', 'value'],
    [
      ['rows in the file (5% invalid, 10% existing contacts)', n],
      ['file size MiB', round(mib(file.csv.length), 1)],
      ['upload and store s', round(uploadSeconds, 2)],
      ['upload to import completed s', round(seconds, 2)],
      ['import rows/s (upload to completed)', round(rowsPerSecond)],
      ['batches rows/s (first batch to last)', round(n / processingSeconds)],
      ['worker heap cap (--max-old-space-size) MiB', maxOldSpaceMb || 'none'],
      ['worker RSS MiB before the import (settled)', rssBefore === null ? '-' : round(mib(rssBefore))],
      ['worker peak RSS MiB during the import (sampled every 250 ms)', memory.peak === null ? '-' : round(mib(memory.peak))],
      ['created / updated / skipped / failed', `${done.counts.created} / ${done.counts.updated} / ${done.counts.skipped} / ${done.counts.failed}`],
      ['baseline: COPY of the same CSV s', round(copySeconds, 2)],
      ['baseline: COPY rows/s', round(copyRowsPerSecond)],
      ['ratio import/COPY', ratio.toFixed(3)],
      ['duplicate audit over the table s', audit ? round(audit.seconds, 2) : 'not run (external stack; BENCH_AUDIT=1 runs it)'],
    ],
  );
  process.stdout.write('\n');
  process.stdout.write(`targets: >= ${targets.rowsPerSecond} rows/s (${rowsPerSecond >= targets.rowsPerSecond ? 'met' : 'NOT met'}), worker RSS < ${mib(targets.workerRssBytes)} MiB (${memory.peak !== null && memory.peak < targets.workerRssBytes ? 'met' : 'NOT met'})\n`);
  if (!countsMatch) process.stdout.write(`note: counts ${JSON.stringify(done.counts)} differ from the file's ${JSON.stringify(file.expected)}\n`);
  if (machine.loadAverage1m > machine.cpus / 2) {
    process.stdout.write(`note: the machine was already busy (load average ${machine.loadAverage1m} on ${machine.cpus} CPUs); compare figures only between quiet runs\n`);
  }

  return {
    scenario: 'import',
    n,
    fileBytes: file.csv.length,
    status: done.status,
    seconds: round(seconds, 2),
    uploadSeconds: round(uploadSeconds, 2),
    rowsPerSecond: round(rowsPerSecond),
    batchRowsPerSecond: round(n / processingSeconds),
    workerPeakRssBytes: memory.peak,
    workerRssBeforeBytes: rssBefore,
    workerRssAtStartBytes: rssAtStart,
    workerMaxOldSpaceMb: maxOldSpaceMb || null,
    counts: done.counts,
    expectedCounts: file.expected,
    countsMatch,
    duplicateAudit: audit ? { seconds: round(audit.seconds, 2), contactsScanned: audit.contactsScanned, pairsFound: audit.pairsFound } : null,
    baseline: { copySeconds: round(copySeconds, 3), copyRowsPerSecond: round(copyRowsPerSecond) },
    ratio: round(ratio, 3),
    targets,
    targetsMet: { rowsPerSecond: rowsPerSecond >= targets.rowsPerSecond, workerRssBytes: memory.peak !== null && memory.peak < targets.workerRssBytes },
    stack: { owned: stack.owned, database: stack.database },
    machine: { ...machine, loadAverage1mAtEnd: round(os.loadavg()[0] ?? 0, 2) },
  };
}

/**
 * Every 20th row is invalid (a bad address, a bad phone, or neither), every 10th of the others
 * repeats a person stored beforehand (the import fills their last name and phone), the rest
 * are new people with a unique phone in US, German or British national format.
 */
function generateFile(n: number, runId: string): GeneratedFile {
  const lines = ['Email,First Name,Last Name,Phone,Company,Website,Country'];
  const existing: string[] = [];
  const phones = new Set<string>();
  const expected = { rowsRead: n, created: 0, updated: 0, skipped: 0, failed: 0 };
  for (let i = 0; i < n; i += 1) {
    const first = firstNames[i % firstNames.length]!;
    const last = lastNames[Math.floor(i / firstNames.length) % lastNames.length]!;
    const company = i % 3 === 0 ? '' : `Bench ${i % 2000} ${legalForms[i % legalForms.length]}`;
    const website = i % 6 === 1 ? `https://www.bench-${i % 2000}.example` : '';
    if (i % 20 === 19) {
      const broken = [`bench-${runId}-${i}@@example.com,${first},${last},,,,`, `bench-${runId}-${i}@example.com,${first},${last},12345,,,`, `,${first},${last},,,,`];
      lines.push(broken[Math.floor(i / 20) % broken.length]!);
      expected.failed += 1;
      continue;
    }
    const { phone, country } = uniquePhone(i, phones);
    if (i % 10 === 4) {
      const address = `existing-${runId}-${i}@example.com`;
      existing.push(address);
      lines.push(`${address.toUpperCase()},${first},${csvCell(last)},${phone},${company},${website},${country}`);
      expected.updated += 1;
    } else {
      lines.push(`new-${runId}-${i}@example.com,${first},${csvCell(last)},${phone},${company},${website},${country}`);
      expected.created += 1;
    }
  }
  return { csv: Buffer.from(`${lines.join('\n')}\n`), existing, expected };
}

/** A phone number no other row has, as people write it in its country. */
function uniquePhone(i: number, taken: Set<string>): { phone: string; country: string } {
  for (let attempt = 0; ; attempt += 1) {
    const seed = i * 7919 + attempt * 104_729;
    const kind = (i + attempt) % 5;
    const digits = (length: number) => String(seed % 10 ** length).padStart(length, '0');
    const candidate = kind === 3
      ? { phone: `030 ${2 + (seed % 8)}${digits(6)}`, country: 'Germany' }
      : kind === 4
        ? { phone: `020 7${digits(3)} ${digits(4)}`, country: 'UK' }
        : { phone: `(${usAreas[seed % usAreas.length]}) ${200 + (Math.floor(seed / 10) % 800)}-${digits(4)}`, country: '' };
    const e164 = normalizePhone(candidate.phone, candidate.country === 'Germany' ? 'DE' : candidate.country === 'UK' ? 'GB' : 'US');
    if (e164.ok && !taken.has(e164.value)) {
      taken.add(e164.value);
      return candidate;
    }
  }
}

function csvCell(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

async function waitForWorker(metricsUrl: string, { log, signal }: ScenarioContext): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    signal.throwIfAborted();
    const ready = await fetch(metricsUrl, { signal: AbortSignal.timeout(2_000) }).then((response) => response.ok, () => false);
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`the worker did not serve ${metricsUrl} within 300 s`);
    await sleep(500);
  }
}

async function waitForImport(apiUrl: string, apiKey: string, id: string, timeoutMs: number, { log, signal }: ScenarioContext): Promise<ImportView> {
  const deadline = Date.now() + timeoutMs;
  let lastLog = Date.now();
  for (;;) {
    signal.throwIfAborted();
    const response = await fetch(`${apiUrl}/v1/imports/${id}`, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(10_000) });
    const view = (await response.json()) as ImportView;
    if (['completed', 'failed', 'cancelled'].includes(view.status)) return view;
    if (Date.now() > deadline) throw new Error(`the import did not finish within ${timeoutMs / 1000} s: ${JSON.stringify(view.counts)}`);
    if (Date.now() - lastLog >= 5_000) {
      lastLog = Date.now();
      log(`bench:   ${view.progress.percent}% of the file, ${view.counts.rowsRead} rows`);
    }
    await sleep(100);
  }
}

/** Seconds for COPY of the CSV, as it is, into a scratch table with one text column per CSV column. */
async function copyBaseline(db: Pool, csv: Buffer, runId: string): Promise<number> {
  const table = `bench_import_copy_${runId}`;
  const client = await db.connect();
  try {
    await client.query(`CREATE TABLE ${table} (email text, first_name text, last_name text, phone text, company text, website text, country text)`);
    const started = performance.now();
    await pipeline(Readable.from([csv]), client.query(copyFrom(`COPY ${table} FROM STDIN WITH (FORMAT csv, HEADER true)`)));
    return (performance.now() - started) / 1000;
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    client.release();
  }
}
