import { parse } from 'csv-parse/sync';
import { ValidationError } from '../../domain/errors';
import { detectDelimiter, type CsvDelimiter } from '../../domain/import/delimiter';
import type { PrismaClient } from '../../runtime/prisma';
import { HttpProblem } from '../problem';

/**
 * An uploaded CSV on its way into PostgreSQL (import_chunks), where every worker process can
 * read it. The body is read piece by piece and stored a chunk at a time, so the API holds about
 * one chunk per upload whatever the size of the file. The first chunk is kept back until its
 * header row has been read and accepted, so a file that is refused stores nothing.
 */

export const importChunkSize = 1024 * 1024;

export interface CsvHead {
  header: string[];
  delimiter: CsvDelimiter;
}

export interface StoredUpload {
  byteSize: number;
  chunks: number;
}

export interface UploadTarget {
  /** Called once with the header; it creates the import (chunks reference it) or throws to refuse the file. */
  accept(head: CsvHead): Promise<string>;
  maxBytes: number;
  /** The separator given by the caller; otherwise it is detected from the header line. */
  delimiter?: CsvDelimiter;
}

export async function storeUpload(prisma: PrismaClient, body: AsyncIterable<Buffer>, target: UploadTarget): Promise<{ importId: string } & StoredUpload> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  let seq = 0;
  let importId: string | undefined;
  const flush = async () => {
    const data = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    if (importId === undefined) importId = await target.accept(readHead(data, target.delimiter));
    if (data.length > 0) await prisma.importChunk.create({ data: { importId, seq, data } });
    seq += 1;
  };
  try {
    for await (const piece of body) {
      total += piece.length;
      if (total > target.maxBytes) throw tooLarge(target.maxBytes);
      let rest = piece;
      while (pendingBytes + rest.length >= importChunkSize) {
        const take = importChunkSize - pendingBytes;
        pending.push(rest.subarray(0, take));
        pendingBytes += take;
        rest = rest.subarray(take);
        await flush();
      }
      if (rest.length > 0) {
        pending.push(rest);
        pendingBytes += rest.length;
      }
    }
    if (pendingBytes > 0 || importId === undefined) await flush();
  } catch (error) {
    // A refused, broken or aborted upload leaves nothing behind.
    if (importId !== undefined) await prisma.import.delete({ where: { id: importId } }).catch(() => undefined);
    throw error;
  }
  return { importId: importId!, byteSize: total, chunks: total === 0 ? 0 : Math.ceil(total / importChunkSize) };
}

function tooLarge(maxBytes: number): HttpProblem {
  return new HttpProblem(413, 'body-too-large', 'Body too large.', `The CSV is larger than the ${maxBytes / (1024 * 1024)} MiB limit (IMPORT_MAX_MB).`);
}

function fileProblem(message: string): ValidationError {
  return new ValidationError([{ field: 'body', message }], 'The file cannot be read as CSV.');
}

/**
 * The header row from the start of the file, with checks that name the usual mistakes: an
 * empty body, an Excel workbook instead of its CSV export, a file saved in a legacy encoding.
 */
export function readHead(start: Buffer, delimiter: CsvDelimiter | undefined): CsvHead {
  if (start.length === 0 || start.toString('utf8').replace(/^\uFEFF/, '').trim() === '') throw fileProblem('is empty: the file has no header row');
  if (start.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
    throw fileProblem('is an Excel workbook or another zip file, not CSV: save it as "CSV UTF-8"');
  }
  if (start.includes(0)) throw fileProblem('contains binary data, not CSV text');
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(start, { stream: true });
  } catch {
    throw fileProblem('is not UTF-8 text: save it as "CSV UTF-8" (Excel) or convert it to UTF-8');
  }
  const text = start.toString('utf8').replace(/^\uFEFF/, '');
  const firstLine = text.split(/\r?\n/).find((line) => line.trim() !== '') ?? '';
  const separator = delimiter ?? detectDelimiter(firstLine);
  let records: string[][];
  try {
    records = parse(start, { to: 1, bom: true, delimiter: separator, relax_quotes: true, relax_column_count: true, skip_empty_lines: true });
  } catch (error) {
    throw fileProblem(`has a header row that cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  const header = (records[0] ?? []).map((cell) => cell.trim());
  const complete = /\r|\n/.test(text) || start.length < importChunkSize;
  if (!complete) throw fileProblem(`has no line break in its first ${importChunkSize} bytes: a header row that long is not a CSV header`);
  if (header.every((cell) => cell === '')) throw fileProblem('has an empty header row: the first row must name the columns');
  return { header, delimiter: separator };
}
