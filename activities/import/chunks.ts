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
    const rows = await db.$queryRaw<Array<{ data: Uint8Array }>>`SELECT data FROM import_chunks WHERE import_id = ${file.importId}::uuid AND seq = ${seq}`;
    const data = rows[0]?.data;
    // The upload wrote every chunk before the import was queued; a gap cannot heal by retrying.
    if (!data) throw ApplicationFailure.nonRetryable(`chunk ${seq} of import ${file.importId} is missing`, 'ImportFileMissing');
    yield Buffer.from(data.buffer, data.byteOffset + skip, data.byteLength - skip);
    skip = 0;
  }
}
