import { ApplicationFailure } from '@temporalio/common';
import type { Prisma } from '../../runtime/prisma';

export interface StoredFile {
  importId: string;
  chunkSize: number;
  byteSize: number;
}

/**
 * The stored CSV from `offset` to its end, one chunk row at a time, so a batch holds about
 * one chunk in memory whatever the size of the file.
 */
export async function* readChunks(db: Prisma.TransactionClient, file: StoredFile, offset: number): AsyncGenerator<Buffer> {
  let skip = offset % file.chunkSize;
  for (let seq = Math.floor(offset / file.chunkSize); seq * file.chunkSize < file.byteSize; seq += 1) {
    const data = (await db.importChunk.findUnique({ where: { importId_seq: { importId: file.importId, seq } }, select: { data: true } }))?.data;
    // The upload wrote every chunk before the import was queued; a gap cannot heal by retrying.
    if (!data) throw ApplicationFailure.nonRetryable(`chunk ${seq} of import ${file.importId} is missing`, 'ImportFileMissing');
    yield Buffer.from(data.buffer, data.byteOffset + skip, data.byteLength - skip);
    skip = 0;
  }
}
