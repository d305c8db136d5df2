import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';

export interface SequenceMigrationInput {
  /** The SequenceMigration row: versions, mapping, counters and the keyset cursor. */
  migrationId: string;
  /** Enrollments per page; each page is one activity. */
  pageSize: number;
}

const pagesPerRun = 100;

const pages = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  // One heartbeat per enrollment: a dead worker's page is noticed and done again.
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20 },
});

const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Moves a sequence's running enrollments to another version page by page (workflow
 * `migrate-enrollments:{migrationId}`). The job row holds all progress, so continue-as-new
 * carries only the input and a crashed page is simply done again (activities/sequence-migration.ts).
 */
export async function sequenceMigration(input: SequenceMigrationInput): Promise<void> {
  for (let page = 0; page < pagesPerRun && !workflowInfo().continueAsNewSuggested; page += 1) {
    try {
      if ((await pages.migrateEnrollmentPage(input)).done) return;
    } catch (error) {
      await bookkeeping.failSequenceMigration({ migrationId: input.migrationId });
      throw error;
    }
  }
  await continueAsNew<typeof sequenceMigration>(input);
}
