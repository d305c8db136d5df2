import { ApplicationFailure } from '@temporalio/common';
import { planBatch, type BatchPlan, type ContactSnapshot } from '../../domain/import/plan';
import { reportValue } from '../../domain/import/report';
import { requiredFieldCheck } from '../../domain/import/required-fields';
import { finalImportStatuses, type ImportChangeView, type ImportOptions, type ImportStatus } from '../../domain/schemas/import';
import type { StoredFile } from './chunks';
import { uuidv7 } from './ids';
import { readLookups, readStageRequirements } from './lookups';
import { readBatch, type ReadBatch, type ReadLimits, type ReportRow } from './read-batch';
import { sql, type ImportDatabase, type SqlClient } from './database';
import { rememberDryRun, writePlan } from './writes';

/**
 * An import's batches, each in one transaction: it locks the import, takes the records from
 * where the last committed batch ended, writes what they change (or, in a dry run, remembers
 * it), stores the report lines, and moves the position and the counters. A worker that dies
 * mid-batch leaves nothing of that batch behind, and the retry starts from the same position.
 *
 * One call runs batches until the import ends or a limit is reached, reading each next batch
 * while the current one writes: parsing and validating (the worker's CPU) then overlaps with
 * the inserts (PostgreSQL's), and Temporal is asked once per call rather than once per batch.
 */

export interface BatchDeps extends ReadLimits {
  database: ImportDatabase;
  heartbeat(progress: BatchOutcome): void;
}

export interface CallLimits {
  /** Batches per call at most. */
  maxBatches: number;
  /** No batch starts after this much time in the call. */
  maxMs: number;
}

export interface BatchOutcome {
  status: ImportStatus;
  rowsRead: number;
}

type Tx = SqlClient;

interface LockedImport {
  id: string;
  status: ImportStatus;
  dry_run: boolean;
  options: ImportOptions;
  byte_size: number;
  chunk_size: number;
  byte_offset: number;
  next_line: number;
  rows_read: number;
  preview: ImportChangeView[];
}

export async function runImportBatches(deps: BatchDeps, importId: string, limits: CallLimits): Promise<BatchOutcome> {
  const deadline = Date.now() + limits.maxMs;
  /** The next batch, read while the current one is written; used if its start is still the import's position. */
  let ahead: Promise<ReadBatch> | undefined;
  try {
    for (let batch = 1; ; batch += 1) {
      const pending = ahead;
      ahead = undefined;
      const outcome = await deps.database.transaction(async (tx) => {
        const job = await lockImport(tx, importId);
        if (finalImportStatuses.includes(job.status)) return { status: job.status, rowsRead: job.rows_read };
        if (job.status === 'cancelling') return endImport(tx, job, 'cancelled', null);
        const file: StoredFile = { importId, chunkSize: job.chunk_size, byteSize: job.byte_size };
        const start = { offset: job.byte_offset, line: job.next_line };
        const readAhead = await pending?.catch(() => undefined);
        const read = readAhead?.start.offset === start.offset ? readAhead : await readBatch(deps.database, file, job.options, start, deps);
        if (read.stop === 'more' && batch < limits.maxBatches && Date.now() < deadline) {
          ahead = readBatch(deps.database, file, job.options, read.end, deps);
          // Awaited by the next batch or at the end; a failure there just means reading again.
          ahead.catch(() => undefined);
        }
        return applyBatch(tx, job, read);
      });
      deps.heartbeat(outcome);
      if (outcome.status !== 'running' || !ahead) return outcome;
    }
  } finally {
    await ahead?.catch(() => undefined);
  }
}

/** Applies one read batch inside the import's transaction and moves its position past it. */
async function applyBatch(tx: Tx, job: LockedImport, read: ReadBatch): Promise<BatchOutcome> {
  const { options } = job;
  const lookups = await readLookups(tx, read.valid, job.dry_run ? job.id : null);
  const requiredFields = requiredFieldCheck(await readStageRequirements(tx), options.mapping);
  const plan = planBatch(read.valid, lookups, { policy: options.policy, source: options.source, consent: options.consent, newId: uuidv7, requiredFields });
  const at = new Date();
  if (job.dry_run) await rememberDryRun(tx, job.id, plan);
  else await writePlan(tx, plan, { importId: job.id, consent: options.consent, at });
  const notes = plan.outcomes.flatMap((outcome) => outcome.notes.map((note) => ({ line: outcome.line, ...note })));
  const rejected = plan.rejected.flatMap((row) => row.problems.map((problem) => ({ line: row.line, ...problem })));
  await storeReport(tx, job.id, [...read.report, ...notes, ...rejected]);

  const count = (action: string) => plan.outcomes.filter((outcome) => outcome.action === action).length;
  const status: ImportStatus = read.stop === 'more' ? 'running' : read.stop === 'eof' ? 'completed' : 'failed';
  const preview = job.dry_run ? [...job.preview, ...plan.changes.slice(0, Math.max(0, options.previewSize - job.preview.length)).map(previewEntry)] : job.preview;
  await tx.run(sql`
    UPDATE imports SET
      status = ${status}::"ImportStatus",
      byte_offset = ${read.end.offset}::bigint, next_line = ${read.end.line},
      rows_read = rows_read + ${read.read}, created = created + ${count('created')}, updated = updated + ${count('updated')},
      skipped = skipped + ${count('skipped')}, failed = failed + ${read.failedRows + plan.rejected.length},
      preview = ${JSON.stringify(preview)}::jsonb,
      error = ${typeof read.stop === 'object' ? `line ${read.stop.line}: ${read.stop.reason}` : null},
      started_at = COALESCE(started_at, ${at}), finished_at = ${status === 'running' ? null : at}, updated_at = ${at}
    WHERE id = ${job.id}::uuid`);
  if (status !== 'running') await releaseStorage(tx, job.id);
  return { status, rowsRead: job.rows_read + read.read };
}

/**
 * Ends an import that will not go on (the workflow gave up on it, or was cancelled in
 * Temporal) unless it already ended; its stored file is deleted either way.
 */
export async function endImportRun(database: ImportDatabase, importId: string, status: 'failed' | 'cancelled', error: string | null): Promise<BatchOutcome> {
  return database.transaction(async (tx) => {
    const job = await lockImport(tx, importId);
    if (finalImportStatuses.includes(job.status)) return { status: job.status, rowsRead: job.rows_read };
    return endImport(tx, job, status, error);
  });
}

/** Why an upload that never completed ended; its prefix is the reason code. */
export const uploadAbandonedError = 'upload_abandoned: the file stopped arriving before it was complete; upload it again';

/**
 * Uploads cut off mid-file (the API process died, so its own clean-up never ran) stay
 * `uploading` with their chunks: those older than the limit fail and their chunks go.
 */
export async function failAbandonedUploads(database: ImportDatabase, olderThanMinutes: number): Promise<string[]> {
  return database.transaction(async (tx) => {
    const ended = await tx.rows<{ id: string }>(sql`
      UPDATE imports SET status = 'failed', error = ${uploadAbandonedError}, finished_at = now(), updated_at = now()
      WHERE status = 'uploading' AND created_at < now() - make_interval(mins => ${olderThanMinutes}::int)
      RETURNING id`);
    for (const { id } of ended) await releaseStorage(tx, id);
    return ended.map((row) => row.id);
  });
}

async function lockImport(tx: Tx, importId: string): Promise<LockedImport> {
  const rows = await tx.rows<LockedImport>(sql`
    SELECT id, status, dry_run, options, byte_size::float8 AS byte_size, chunk_size, byte_offset::float8 AS byte_offset, next_line, rows_read, preview
    FROM imports WHERE id = ${importId}::uuid FOR UPDATE`);
  if (!rows[0]) throw ApplicationFailure.nonRetryable(`import ${importId} does not exist`, 'ImportNotFound');
  return rows[0];
}

async function endImport(tx: Tx, job: LockedImport, status: 'failed' | 'cancelled', error: string | null): Promise<BatchOutcome> {
  await tx.run(sql`
    UPDATE imports SET status = ${status}::"ImportStatus", error = ${error}, finished_at = now(), updated_at = now()
    WHERE id = ${job.id}::uuid`);
  await releaseStorage(tx, job.id);
  return { status, rowsRead: job.rows_read };
}

/** The file and a dry run's scratch rows are only needed while the import runs. */
async function releaseStorage(tx: Tx, importId: string): Promise<void> {
  await tx.run(sql`DELETE FROM import_chunks WHERE import_id = ${importId}::uuid`);
  await tx.run(sql`DELETE FROM import_dry_run_entries WHERE import_id = ${importId}::uuid`);
}

/** Report lines, numbered within their row. */
async function storeReport(tx: Tx, importId: string, report: readonly ReportRow[]): Promise<void> {
  if (report.length === 0) return;
  const seqs = new Map<number, number>();
  const rows = report.map((entry) => {
    const seq = seqs.get(entry.line) ?? 0;
    seqs.set(entry.line, seq + 1);
    return { line: entry.line, seq, column: entry.column, reason: entry.reason, value: reportValue(entry.value) };
  });
  await tx.run(sql`
    INSERT INTO import_row_errors (import_id, line, seq, "column", reason, value)
    SELECT ${importId}::uuid, x.line, x.seq, x."column", x.reason, x.value
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(line int, seq int, "column" text, reason text, value text)
    ON CONFLICT DO NOTHING`);
}

function previewEntry(change: BatchPlan['changes'][number]): ImportChangeView {
  const view = (snapshot: ContactSnapshot) => ({ ...snapshot, company: snapshot.company?.name ?? null });
  return { line: change.line, action: change.action, contactId: change.contactId, fields: change.fields, before: change.before ? view(change.before) : null, after: view(change.after) };
}
