import { Context } from '@temporalio/activity';
import type { ActivityDeps } from '../deps';
import { endImportRun, failAbandonedUploads, runImportBatches, type BatchOutcome } from './batch';
import { pgImportDatabase, prismaImportDatabase } from './database';

export interface ImportDeps {
  /** Rows per batch (IMPORT_BATCH_ROWS); each batch is one transaction. */
  importBatchRows?: number;
  /** The batch transactions go through `pg` on this database (see ./sql.ts); without it, through Prisma. */
  importDatabaseUrl?: string;
}

export const defaultImportBatchRows = 5000;
/** Longer rows stop an import: in practice a quote that is never closed. */
const maxRowBytes = 1024 * 1024;

export interface ImportBatchesInput {
  importId: string;
  /** Batches this call runs at most. */
  maxBatches: number;
  /** No batch starts after this many seconds of the call. */
  maxSeconds: number;
}

export function createImportActivities({ prisma, logger, importBatchRows = defaultImportBatchRows, importDatabaseUrl }: Pick<ActivityDeps, 'prisma' | 'logger'> & ImportDeps) {
  const database = importDatabaseUrl ? pgImportDatabase(importDatabaseUrl, logger) : prismaImportDatabase(prisma);
  return {
    /** The import's next batches from where the last one committed; see activities/import/batch.ts. */
    importBatches({ importId, maxBatches, maxSeconds }: ImportBatchesInput): Promise<BatchOutcome> {
      return runImportBatches(
        { database, batchRows: importBatchRows, maxRowBytes, heartbeat: (progress) => Context.current().heartbeat(progress) },
        importId,
        { maxBatches, maxMs: maxSeconds * 1000 },
      );
    },

    /** Marks an import that will not go on as failed or cancelled and deletes its file. */
    endImport({ importId, status, error }: { importId: string; status: 'failed' | 'cancelled'; error: string | null }): Promise<BatchOutcome> {
      return endImportRun(database, importId, status, error);
    },

    /** Fails the uploads cut off more than `olderThanMinutes` ago and deletes their chunks; returns their ids. */
    async failAbandonedUploads({ olderThanMinutes }: { olderThanMinutes: number }): Promise<{ importIds: string[] }> {
      return { importIds: await failAbandonedUploads(database, olderThanMinutes) };
    },
  };
}
