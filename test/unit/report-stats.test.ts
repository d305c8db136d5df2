import { describe, expect, it } from '@jest/globals';
import { funnels, ratio, secondsToDays, type FunnelStage } from '../../domain/report-stats';

const stages: FunnelStage[] = [
  { id: 'new', name: 'New', position: 1 },
  { id: 'contacted', name: 'Contacted', position: 2 },
  { id: 'qualified', name: 'Qualified', position: 3 },
  { id: 'won', name: 'Won', position: 6 },
];

describe('funnel', () => {
  it('counts a deal for every stage up to the furthest it reached, skipped stages included', () => {
    const { overall } = funnels(stages, [
      { source: 'website', position: 1, deals: 4 },
      { source: 'website', position: 3, deals: 3 },
      { source: 'website', position: 6, deals: 1 },
    ]);
    expect(overall.steps.map((step) => [step.name, step.reached, step.conversionToNext])).toEqual([
      ['New', 8, 0.5],
      ['Contacted', 4, 1],
      ['Qualified', 4, 0.25],
      ['Won', 1, null],
    ]);
    expect(overall).toMatchObject({ deals: 8, winRate: 0.125 });
  });

  it('gives one funnel per lead source next to the overall one', () => {
    const result = funnels(stages, [
      { source: 'website', position: 2, deals: 2 },
      { source: 'referral', position: 6, deals: 1 },
      { source: 'referral', position: 1, deals: 2 },
    ]);
    expect(result.bySource.map((funnel) => [funnel.source, funnel.steps.map((step) => step.reached)])).toEqual([
      ['referral', [3, 1, 1, 1]],
      ['website', [2, 2, 0, 0]],
    ]);
    expect(result.overall.steps.map((step) => step.reached)).toEqual([5, 3, 1, 1]);
    expect(result.bySource[1]!.steps[2]!.conversionToNext).toBeNull();
  });

  it('has no rates when no deal entered the pipeline', () => {
    const { overall, bySource } = funnels(stages, []);
    expect(bySource).toEqual([]);
    expect(overall).toMatchObject({ deals: 0, winRate: null });
    expect(overall.steps.every((step) => step.reached === 0 && (step.conversionToNext === null))).toBe(true);
  });
});

describe('report rounding', () => {
  it('writes ratios with 4 decimals and durations in days with 2', () => {
    expect(ratio(2, 3)).toBe(0.6667);
    expect(ratio(1, 0)).toBeNull();
    expect(secondsToDays(129_600)).toBe(1.5);
    expect(secondsToDays(3_600)).toBe(0.04);
  });
});
