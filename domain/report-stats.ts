/**
 * Report arithmetic that does not belong in SQL: the funnel's cumulative counts and the
 * rounding of ratios and durations. PostgreSQL does the grouping (and percentile_cont); this
 * turns its few grouped rows into the figures the API shows.
 */

/** A stage of the funnel's progression: the pipeline's open stages in order, then its won stage. */
export interface FunnelStage {
  id: string;
  name: string;
  position: number;
}

/** How many deals of a source got no further than the stage at `position`. */
export interface FurthestStageCount {
  source: string;
  position: number;
  deals: number;
}

export interface FunnelStep {
  stageId: string;
  name: string;
  /** Deals that reached this stage or a later one (skipping a stage counts as passing it). */
  reached: number;
  /** reached(next stage) / reached(this stage); null for the last stage or when none reached it. */
  conversionToNext: number | null;
}

export interface Funnel {
  deals: number;
  steps: FunnelStep[];
  /** reached(won stage) / reached(first stage). */
  winRate: number | null;
}

/**
 * A deal counts for every stage up to the furthest one it reached: a deal moved from New
 * straight to Proposal has passed Contacted and Qualified as far as conversion is concerned.
 * One funnel over all deals and one per source (sorted by source).
 */
export function funnels(stages: readonly FunnelStage[], counts: readonly FurthestStageCount[]): { overall: Funnel; bySource: Array<{ source: string } & Funnel> } {
  const sources = [...new Set(counts.map((count) => count.source))].sort();
  return {
    overall: funnelOf(stages, counts),
    bySource: sources.map((source) => ({ source, ...funnelOf(stages, counts.filter((count) => count.source === source)) })),
  };
}

function funnelOf(stages: readonly FunnelStage[], counts: readonly FurthestStageCount[]): Funnel {
  const reached = stages.map((stage) => counts.filter((count) => count.position >= stage.position).reduce((sum, count) => sum + count.deals, 0));
  const steps = stages.map((stage, index) => ({
    stageId: stage.id,
    name: stage.name,
    reached: reached[index]!,
    conversionToNext: index + 1 < stages.length ? ratio(reached[index + 1]!, reached[index]!) : null,
  }));
  const deals = counts.reduce((sum, count) => sum + count.deals, 0);
  return { deals, steps, winRate: stages.length > 0 ? ratio(reached[reached.length - 1]!, reached[0]!) : null };
}

/** part / whole to 4 decimals (0.6667), or null when the whole is 0. */
export function ratio(part: number, whole: number): number | null {
  if (whole === 0) return null;
  return Math.round((part / whole) * 10_000) / 10_000;
}

/** Seconds as days with 2 decimals (1.5 days = 129600 s). */
export function secondsToDays(seconds: number): number {
  return Math.round(seconds / 864) / 100;
}
