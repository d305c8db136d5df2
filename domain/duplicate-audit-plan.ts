/**
 * The duplicate audit as a sequence of retry-safe steps, written once and run by two drivers:
 * the `duplicateAudit` workflow (the steps are activities) and `runDuplicateAudit` in
 * activities/duplicate-audit.ts (the same functions called directly, for the benchmark).
 * It does no I/O itself and only awaits its steps, so it is deterministic workflow code.
 *
 * 1. Index: page through every contact by id and rewrite its blocking keys.
 * 2. Score: page through the keys that more than one contact shares, score each block's
 *    pairs, upsert the candidates with this audit's key.
 * 3. Retire open candidates this audit no longer found (the contacts changed).
 * 4. Hand the pairs no review task holds yet to sales ops, one task per batch.
 */

export interface IndexPage {
  contacts: number;
  keys: number;
  /** Id of the last contact of the page; null when the table is done. */
  nextAfterId: string | null;
}

export interface ScorePage {
  blocks: number;
  /** Blocks larger than maxBlockSize, skipped. */
  oversizedBlocks: number;
  /** Pairs scored at or above the floor on this page (a pair sharing keys on two pages counts on both). */
  pairs: number;
  nextAfterKey: string | null;
}

export interface ReviewBatch {
  taskId: string;
  pairs: number;
}

export interface DuplicateAuditSteps {
  indexContactMatchKeys(input: { afterId: string | null; limit: number }): Promise<IndexPage>;
  scoreDuplicateBlocks(input: { auditKey: string; afterKey: string | null; limit: number }): Promise<ScorePage>;
  /** `found`: the distinct pairs this audit found. */
  retireUnseenDuplicateCandidates(input: { auditKey: string }): Promise<{ retired: number; found: number }>;
  /** Null when no pair is waiting (or nobody can review): the audit is done. */
  createDuplicateReviewTask(input: { auditKey: string; batch: number; batchSize: number }): Promise<ReviewBatch | null>;
}

export interface DuplicateAuditOptions {
  /** Names this run: candidates carry it, review tasks derive their business keys from it. */
  auditKey: string;
  contactPageSize?: number;
  blockPageSize?: number;
  /** Pairs per review task. */
  reviewBatchSize?: number;
  /** Review tasks one run may create; the rest wait for the next run, so a first audit of a big import does not bury sales ops. */
  maxReviewTasks?: number;
}

export interface DuplicateAuditSummary {
  contactsScanned: number;
  keys: number;
  blocks: number;
  oversizedBlocks: number;
  pairsFound: number;
  pairsRetired: number;
  reviewTaskIds: string[];
  pairsInReview: number;
}

export const duplicateAuditDefaults = { contactPageSize: 5000, blockPageSize: 2000, reviewBatchSize: 50, maxReviewTasks: 20 } as const;

export async function runDuplicateAuditPlan(steps: DuplicateAuditSteps, options: DuplicateAuditOptions): Promise<DuplicateAuditSummary> {
  const settings = { ...duplicateAuditDefaults, ...options };
  const summary: DuplicateAuditSummary = { contactsScanned: 0, keys: 0, blocks: 0, oversizedBlocks: 0, pairsFound: 0, pairsRetired: 0, reviewTaskIds: [], pairsInReview: 0 };

  let afterId: string | null = null;
  do {
    const page: IndexPage = await steps.indexContactMatchKeys({ afterId, limit: settings.contactPageSize });
    summary.contactsScanned += page.contacts;
    summary.keys += page.keys;
    afterId = page.nextAfterId;
  } while (afterId !== null);

  let afterKey: string | null = null;
  do {
    const page: ScorePage = await steps.scoreDuplicateBlocks({ auditKey: settings.auditKey, afterKey, limit: settings.blockPageSize });
    summary.blocks += page.blocks;
    summary.oversizedBlocks += page.oversizedBlocks;
    afterKey = page.nextAfterKey;
  } while (afterKey !== null);

  const retirement = await steps.retireUnseenDuplicateCandidates({ auditKey: settings.auditKey });
  summary.pairsRetired = retirement.retired;
  summary.pairsFound = retirement.found;

  for (let batch = 1; batch <= settings.maxReviewTasks; batch += 1) {
    const review = await steps.createDuplicateReviewTask({ auditKey: settings.auditKey, batch, batchSize: settings.reviewBatchSize });
    if (!review) break;
    summary.reviewTaskIds.push(review.taskId);
    summary.pairsInReview += review.pairs;
  }
  return summary;
}
