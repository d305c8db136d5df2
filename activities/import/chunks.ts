import { ApplicationFailure } from '@temporalio/common';
import type { ImportDatabase } from './database';

export interface StoredFile {
  importId: string;
  chunkSize: number;
  byteSize: number;
}

/** The parser gets this much at a time, so a batch parses little past its last row. */
const pieceBytes = 64 * 1024;

/**
 * The stored CSV from `offset` to its end, one chunk row at a time, so a batch holds about
 * one chunk in memory whatever the size of the file.
 */
export async function* readChunks(database: ImportDatabase, file: StoredFile, offset: number): AsyncGenerator<Buffer> {
  let skip = offset % file.chunkSize;
  for (let seq = Math.floor(offset / file.chunkSize); seq * file.chunkSize < file.byteSize; seq += 1) {
    const data = await database.readChunk(file.importId, seq);
    // The upload wrote every chunk before the import was queued; a gap cannot heal by retrying.
    if (!data) throw ApplicationFailure.nonRetryable(`chunk ${seq} of import ${file.importId} is missing`, 'ImportFileMissing');
    for (let at = skip; at < data.length; at += pieceBytes) yield data.subarray(at, Math.min(at + pieceBytes, data.length));
    skip = 0;
  }
}
