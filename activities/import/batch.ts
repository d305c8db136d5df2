import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { planBatch, type BatchPlan, type ContactSnapshot } from '../../domain/import/plan';
import { reportValue } from '../../domain/import/report';
import { normalizeImportRow, type ImportedContact, type RowProblem } from '../../domain/import/row';
import { finalImportStatuses, type ImportChangeView, type ImportOptions, type ImportStatus } from '../../domain/schemas/import';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import { readChunks } from './chunks';
import { readCsvRecords, type CsvPosition } from './csv-records';
import { readLookups } from './lookups';
import { rememberDryRun, writePlan } from './writes';

/**
 * One batch of an import, in one transaction: it locks the import, reads up to `batchRows`
 * records from where the last committed batch ended, validates them, writes what they change
 * (or, in a dry run, remembers it), stores the report lines, and moves the position and the
 * counters. A worker that dies mid-batch leaves nothing of it behind, and the retry starts
 * from the same position; a duplicate attempt waits on the lock and then does the next batch.
 */

export interface BatchDeps {
  prisma: PrismaClient;
  batchRows: number;
  /** Rows longer than this stop the import (an unclosed quote). */
  maxRowBytes: number;
  heartbeat(): void;
}

export interface BatchOutcome {
  status: ImportStatus;
  rowsRead: number;
}

type Tx = Prisma.TransactionClient;

interface LockedImport {
  id: string;
  status: ImportStatus;
  dry_run: boolean;
  options: ImportOptions;
  byte_size: bigint;
  chunk_size: number;
  byte_offset: bigint;
  next_line: number;
  rows_read: number;
  preview: ImportChangeView[];
}

interface ReportRow extends RowProblem {
  line: number;
}

export async function runImportBatch(deps: BatchDeps, importId: string): Promise<BatchOutcome> {
  return deps.prisma.$transaction(
    async (tx) => {
      const T0 = performance.now(); const job = await lockImport(tx, importId);
      if (finalImportStatuses.includes(job.status)) return { status: job.status, rowsRead: job.rows_read };
      if (job.status === 'cancelling') return endImport(tx, job, 'cancelled', null);

      const options = job.options;
      const start: CsvPosition = { offset: Number(job.byte_offset), line: job.next_line };
      const file = { importId, chunkSize: job.chunk_size, byteSize: Number(job.byte_size) };
      const valid: ImportedContact[] = [];
      const report: ReportRow[] = [];
      let failedRows = 0;
      let read = 0;
      let position = start;
      let end: 'more' | 'eof' | { line: number; reason: string } = 'eof';
      let header = start.offset === 0;
      for await (const item of readCsvRecords(readChunks(tx, file, start.offset), start, { delimiter: options.delimiter, maxRowBytes: deps.maxRowBytes })) {
        if (item.kind === 'unreadable') {
          end = { line: item.line, reason: item.reason };
          break;
        }
        position = item.next;
        if (header) {
          header = false;
          continue;
        }
        read += 1;
        const row = normalizeImportRow(item.cells, item.line, options.mapping, options.header.length, options.defaultCountry);
        if (row.ok) valid.push(row.contact);
        else {
          failedRows += 1;
          report.push(...row.problems.map((problem) => ({ line: item.line, ...problem })));
        }
        if (read >= deps.batchRows) {
          end = 'more';
          break;
        }
      }
      const T1 = performance.now(); deps.heartbeat();

      const lookups = await readLookups(tx, valid, job.dry_run ? importId : null);
      const T2 = performance.now(); const plan = planBatch(valid, lookups, { policy: options.policy, source: options.source, consent: options.consent, newId: randomUUID });
      const T3 = performance.now(); const at = new Date();
      if (job.dry_run) await rememberDryRun(tx, importId, plan);
      else await writePlan(tx, plan, { importId, consent: options.consent, at });
      const T4 = performance.now(); for (const outcome of plan.outcomes) report.push(...outcome.notes.map((note) => ({ line: outcome.line, ...note })));
      if (typeof end === 'object') {
        failedRows += 1;
        read += 1;
        report.push({ line: end.line, column: null, reason: end.reason, value: null });
      }
      await storeReport(tx, importId, report);
      deps.heartbeat();

      const count = (action: string) => plan.outcomes.filter((outcome) => outcome.action === action).length;
      const status: ImportStatus = end === 'more' ? 'running' : end === 'eof' ? 'completed' : 'failed';
      const preview = job.dry_run ? [...job.preview, ...plan.changes.slice(0, Math.max(0, options.previewSize - job.preview.length)).map(previewEntry)] : job.preview;
      await tx.$executeRaw`
        UPDATE imports SET
          status = ${status}::"ImportStatus",
          byte_offset = ${position.offset}::bigint, next_line = ${position.line},
          rows_read = rows_read + ${read}, created = created + ${count('created')}, updated = updated + ${count('updated')},
          skipped = skipped + ${count('skipped')}, failed = failed + ${failedRows},
          preview = ${JSON.stringify(preview)}::jsonb,
          error = ${typeof end === 'object' ? `line ${end.line}: ${end.reason}` : null},
          started_at = COALESCE(started_at, ${at}), finished_at = ${status === 'running' ? null : at}, updated_at = ${at}
        WHERE id = ${importId}::uuid`;
      if (status !== 'running') await releaseStorage(tx, importId);
      console.log('read', (T1-T0).toFixed(0), 'lookups', (T2-T1).toFixed(0), 'plan', (T3-T2).toFixed(0), 'write', (T4-T3).toFixed(0), 'rest', (performance.now()-T4).toFixed(0));
      return { status, rowsRead: job.rows_read + read };
    },
    // A batch is seconds of work; the limits only stop a transaction that hangs.
    { timeout: 10 * 60_000, maxWait: 60_000 },
  );
}

/**
 * Ends an import that will not go on (the workflow gave up on it, or was cancelled in
 * Temporal) unless it already ended; its stored file is deleted either way.
 */
export async function endImportRun(prisma: PrismaClient, importId: string, status: 'failed' | 'cancelled', error: string | null): Promise<BatchOutcome> {
  return prisma.$transaction(async (tx) => {
    const job = await lockImport(tx, importId);
    if (finalImportStatuses.includes(job.status)) return { status: job.status, rowsRead: job.rows_read };
    return endImport(tx, job, status, error);
  });
}

async function lockImport(tx: Tx, importId: string): Promise<LockedImport> {
  const rows = await tx.$queryRaw<LockedImport[]>`
    SELECT id, status, dry_run, options, byte_size, chunk_size, byte_offset, next_line, rows_read, preview
    FROM imports WHERE id = ${importId}::uuid FOR UPDATE`;
  if (!rows[0]) throw ApplicationFailure.nonRetryable(`import ${importId} does not exist`, 'ImportNotFound');
  return rows[0];
}

async function endImport(tx: Tx, job: LockedImport, status: 'failed' | 'cancelled', error: string | null): Promise<BatchOutcome> {
  await tx.$executeRaw`
    UPDATE imports SET status = ${status}::"ImportStatus", error = ${error}, finished_at = now(), updated_at = now()
    WHERE id = ${job.id}::uuid`;
  await releaseStorage(tx, job.id);
  return { status, rowsRead: job.rows_read };
}

/** The file and a dry run's scratch rows are only needed while the import runs. */
async function releaseStorage(tx: Tx, importId: string): Promise<void> {
  await tx.$executeRaw`DELETE FROM import_chunks WHERE import_id = ${importId}::uuid`;
  await tx.$executeRaw`DELETE FROM import_dry_run_entries WHERE import_id = ${importId}::uuid`;
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
  await tx.$executeRaw`
    INSERT INTO import_row_errors (import_id, line, seq, "column", reason, value)
    SELECT ${importId}::uuid, x.line, x.seq, x."column", x.reason, x.value
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(line int, seq int, "column" text, reason text, value text)
    ON CONFLICT DO NOTHING`;
}

function previewEntry(change: BatchPlan['changes'][number]): ImportChangeView {
  const view = (snapshot: ContactSnapshot) => ({ ...snapshot, company: snapshot.company?.name ?? null });
  return { line: change.line, action: change.action, contactId: change.contactId, fields: change.fields, before: change.before ? view(change.before) : null, after: view(change.after) };
}
