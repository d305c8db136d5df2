import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

export interface ImportUploadCleanupInput {
  /** An upload still `uploading` after this long was cut off (IMPORT_UPLOAD_ABANDON_MINUTES). */
  olderThanMinutes: number;
}

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * Abandoned uploads (schedule `schedule:import-upload-cleanup`): an upload whose API process
 * died mid-file never reaches `queued`, so no import workflow ever ends it; this marks it
 * `failed` and deletes the chunks it stored. A Temporal Schedule rather than a sweep at process
 * start, because it runs once for the whole deployment however many API and worker processes
 * there are, keeps running in processes that live for months, and an operator sees, pauses and
 * triggers it like the other maintenance runs. Idempotent: a rerun finds nothing left.
 */
export async function importUploadCleanup(input: ImportUploadCleanupInput): Promise<{ failed: number }> {
  const { importIds } = await steps.failAbandonedUploads(input);
  return { failed: importIds.length };
}
