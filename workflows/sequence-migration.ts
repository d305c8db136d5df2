import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { pageOptions, quickStepOptions } from './activity-options';

export interface SequenceMigrationInput {
  /** The SequenceMigration row: versions, mapping, counters and the keyset cursor. */
  migrationId: string;
  /** Enrollments per page; each page is one activity. */
  pageSize: number;
}

const pagesPerRun = 100;

const pages = proxyActivities<Activities>(pageOptions);
const bookkeeping = proxyActivities<Activities>(quickStepOptions);

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
