import { normalizeImportRow, type ImportedContact, type RowProblem } from '../../domain/import/row';
import type { ImportOptions } from '../../domain/schemas/import';
import { readChunks, type StoredFile } from './chunks';
import { readCsvRecords, type CsvPosition } from './csv-records';
import type { ImportDatabase } from './database';

export interface ReportRow extends RowProblem {
  line: number;
}

/** One batch of records read and validated, not yet applied. */
export interface ReadBatch {
  start: CsvPosition;
  /** The position after the last record read: where the next batch starts. */
  end: CsvPosition;
  /** Data records read (the header is not one), the unreadable rest of a broken file counting as one. */
  read: number;
  valid: ImportedContact[];
  failedRows: number;
  report: ReportRow[];
  /** Whether records remain, the file ended, or it cannot be read past a line. */
  stop: 'more' | 'eof' | { line: number; reason: string };
}

export interface ReadLimits {
  batchRows: number;
  /** Rows longer than this stop the import (an unclosed quote). */
  maxRowBytes: number;
}

/** Rows between pauses that let database answers in: a batch is read while the previous one is written. */
const rowsPerSlice = 500;

/**
 * Reads up to `batchRows` records from `start` and validates them. It reads the stored file
 * outside any transaction (the chunks never change once stored), so the next batch can be read
 * while the current one's transaction writes.
 */
export async function readBatch(database: ImportDatabase, file: StoredFile, options: ImportOptions, start: CsvPosition, limits: ReadLimits): Promise<ReadBatch> {
  const batch: ReadBatch = { start, end: start, read: 0, valid: [], failedRows: 0, report: [], stop: 'eof' };
  let header = start.offset === 0;
  reading: for await (const items of readCsvRecords(readChunks(database, file, start.offset), start, { delimiter: options.delimiter, maxRowBytes: limits.maxRowBytes })) {
    for (const item of items) {
      if (item.kind === 'unreadable') {
        batch.stop = { line: item.line, reason: item.reason };
        batch.read += 1;
        batch.failedRows += 1;
        batch.report.push({ line: item.line, column: null, reason: item.reason, value: null });
        break reading;
      }
      batch.end = item.next;
      if (header) {
        header = false;
        continue;
      }
      batch.read += 1;
      const row = normalizeImportRow(item.cells, item.line, options.mapping, options.header.length, options.defaultCountry);
      if (row.ok) batch.valid.push(row.contact);
      else {
        batch.failedRows += 1;
        batch.report.push(...row.problems.map((problem) => ({ line: item.line, ...problem })));
      }
      if (batch.read >= limits.batchRows) {
        batch.stop = 'more';
        break reading;
      }
      if (batch.read % rowsPerSlice === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return batch;
}
