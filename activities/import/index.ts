import { Context } from '@temporalio/activity';
import type { ActivityDeps } from '../deps';
import { endImportRun, runImportBatch, type BatchOutcome } from './batch';

export interface ImportDeps {
  /** Rows per batch (IMPORT_BATCH_ROWS); each batch is one activity and one transaction. */
  importBatchRows?: number;
}

export const defaultImportBatchRows = 5000;
/** Longer rows stop an import: in practice a quote that is never closed. */
const maxRowBytes = 1024 * 1024;

export function createImportActivities({ prisma, importBatchRows = defaultImportBatchRows }: Pick<ActivityDeps, 'prisma'> & ImportDeps) {
  return {
    /** The next batch of the import from where the last one committed; see activities/import/batch.ts. */
    importBatch(importId: string): Promise<BatchOutcome> {
      return runImportBatch({ prisma, batchRows: importBatchRows, maxRowBytes, heartbeat: () => Context.current().heartbeat() }, importId);
    },

    /** Marks an import that will not go on as failed or cancelled and deletes its file. */
    endImport({ importId, status, error }: { importId: string; status: 'failed' | 'cancelled'; error: string | null }): Promise<BatchOutcome> {
      return endImportRun(prisma, importId, status, error);
    },
  };
}
