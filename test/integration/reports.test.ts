import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient } from '../support/api-client';
import { salesFixture } from '../support/sales';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * Reports over a fixture whose every number is known: deals with their stage histories written
 * straight into the database at fixed times, so the expected figures can be worked out by hand.
 */
let stack: TestStack;
let call: ReturnType<typeof apiClient>;
let team: Awaited<ReturnType<typeof salesFixture>>;

const hour = 3_600_000;
const day = 24 * hour;
/** The range every report below is asked about: the 30 days before `to`. */
const to = new Date(Date.now() - day);
const from = new Date(to.getTime() - 30 * day);
/** When the fixture's deals and contacts were created, inside the range. */
const t0 = new Date(from.getTime() + day);
const at = (hours: number) => new Date(t0.getTime() + hours * hour);
const range = `from=${from.toISOString()}&to=${to.toISOString()}`;

interface FixtureDeal {
  name: string;
  owner: 'rita' | 'rob';
  amount: string | null;
  currency?: string;
  closeDate?: string;
  source: string | null;
  /** Stage names with the hour (after t0) the deal entered each; the first is its creation. */
  path: Array<[string, number]>;
  rotting?: boolean;
  createdAt?: Date;
}

const fixture: FixtureDeal[] = [
  { name: 'A', owner: 'rita', amount: '1000000.00', closeDate: '2026-12-15', source: 'website', path: [['New', 0], ['Contacted', 24]] },
  { name: 'B', owner: 'rita', amount: '50000.00', closeDate: '2026-12-20', source: 'referral', path: [['New', 0], ['Qualified', 48], ['Negotiation', 96]] },
  { name: 'C', owner: 'rob', amount: '10000.00', currency: 'EUR', closeDate: '2027-01-10', source: 'website', path: [['New', 0], ['Proposal', 12]], rotting: true },
  { name: 'D', owner: 'rob', amount: '333.33', source: null, path: [['New', 0], ['Qualified', 72]] },
  { name: 'E', owner: 'rita', amount: '7000.00', closeDate: '2026-12-01', source: 'referral', path: [['New', 0], ['Contacted', 36], ['Won', 60]] },
  { name: 'F', owner: 'rob', amount: '2000.00', source: 'website', path: [['New', 0], ['Lost', 6]] },
  // Created before the range: in the forecast (it is open) but in no range-based report.
  { name: 'G', owner: 'rob', amount: '100.00', closeDate: '2027-02-01', source: 'ads', path: [['New', -40 * 24], ['Contacted', -39 * 24]], createdAt: at(-40 * 24) },
];

beforeAll(async () => {
  stack = await startTestStack();
  team = await salesFixture(stack.db.prisma);
  call = apiClient(stack, () => stack.keys.admin);
  const prisma = stack.db.prisma;
  for (const deal of fixture) {
    const createdAt = deal.createdAt ?? t0;
    const owner = team[deal.owner];
    const contact = deal.source === null ? null : await prisma.contact.create({ data: { firstName: deal.name, source: deal.source, ownerId: owner.id, createdAt } });
    const [last] = deal.path.slice(-1);
    const stage = team.stage(last![0]);
    const row = await prisma.deal.create({
      data: {
        name: deal.name,
        amount: deal.amount,
        currency: deal.currency ?? 'USD',
        pipelineId: team.pipeline.id,
        stageId: stage.id,
        ownerId: owner.id,
        contactId: contact?.id ?? null,
        expectedCloseDate: deal.closeDate ? new Date(`${deal.closeDate}T00:00:00Z`) : null,
        status: stage.isWon ? 'won' : stage.isLost ? 'lost' : 'open',
        rotting: deal.rotting ?? false,
        createdAt,
        stageEnteredAt: at(last![1]),
      },
    });
    let previous: string | null = null;
    for (const [stageName, hours] of deal.path) {
      await prisma.dealStageChange.create({ data: { dealId: row.id, fromStageId: previous, toStageId: team.stage(stageName).id, changedAt: at(hours), changedById: owner.id } });
      previous = team.stage(stageName).id;
    }
  }
  // Leads without deals: a customer from the website (a conversion) and an ads lead.
  await prisma.contact.create({ data: { firstName: 'Cara', source: 'website', lifecycleStage: 'customer', ownerId: team.rita.id, createdAt: t0 } });
  await prisma.contact.create({ data: { firstName: 'Adam', source: 'ads', ownerId: team.rob.id, createdAt: t0 } });
});
afterAll(() => stack.close());

type Figures = { deals: number; rotting: number; bestCase: string; commit: string; weighted: string };
interface ForecastBody {
  commitThreshold: number;
  currencies: Array<{ currency: string; totals: Figures; byMonth: Array<Figures & { month: string | null }>; byOwner: Array<Figures & { ownerName: string }> }>;
}

describe('forecast', () => {
  it('weights open deals by stage probability per currency, with commit, best case and rotting counts', async () => {
    const reply = await call<ForecastBody>('GET', '/v1/reports/forecast');
    expect(reply.status).toBe(200);
    const [eur, usd] = reply.body.currencies;
    // USD open: A 1,000,000 x 20% + B 50,000 x 80% + D 333.33 x 40% + G 100 x 20% = 240,153.332
    expect(usd).toMatchObject({ currency: 'USD', totals: { deals: 4, rotting: 0, bestCase: '1050433.33', commit: '50000.00', weighted: '240153.33' } });
    expect(eur).toMatchObject({ currency: 'EUR', totals: { deals: 1, rotting: 1, bestCase: '10000.00', commit: '0.00', weighted: '6000.00' } });
    expect(usd!.byMonth.map((row) => [row.month, row.weighted])).toEqual([['2026-12', '240000.00'], ['2027-02', '20.00'], [null, '133.33']]);
    expect(usd!.byOwner.map((row) => [row.ownerName, row.bestCase, row.weighted])).toEqual(
      expect.arrayContaining([['Rita Rep', '1050000.00', '240000.00'], ['Rob Rep', '433.33', '153.33']]),
    );
  });

  it('forecasts 200,000 for the 1,000,000 deal at 20% and takes the commit threshold from the query', async () => {
    const december = await call<ForecastBody>('GET', '/v1/reports/forecast?closeFrom=2026-12-15&closeTo=2026-12-15');
    expect(december.body.currencies).toEqual([expect.objectContaining({ currency: 'USD', totals: { deals: 1, rotting: 0, bestCase: '1000000.00', commit: '0.00', weighted: '200000.00' } })]);
    const lower = await call<ForecastBody>('GET', '/v1/reports/forecast?commitThreshold=60');
    expect(lower.body.commitThreshold).toBe(60);
    expect(lower.body.currencies.map((row) => [row.currency, row.totals.commit])).toEqual([['EUR', '10000.00'], ['USD', '50000.00']]);
    expect((await call('GET', '/v1/reports/forecast?commitThreshold=101')).status).toBe(400);
  });

  it('gives a rep their own numbers only, whatever owner they ask for', async () => {
    const own = await call<ForecastBody>('GET', `/v1/reports/forecast?ownerId=${team.rob.id}`, { key: stack.keys.rep });
    expect(own.body.currencies).toEqual([expect.objectContaining({ currency: 'USD', totals: expect.objectContaining({ deals: 2, weighted: '240000.00' }) })]);
    const maria = await stack.keyFor('manager', team.maria.id);
    const outsider = await stack.db.prisma.user.create({ data: { email: 'otto.other@example.com', name: 'Otto Other', role: 'rep' } });
    expect((await call('GET', `/v1/reports/forecast?ownerId=${outsider.id}`, { key: maria })).status).toBe(403);
    const whole = await call<ForecastBody>('GET', '/v1/reports/forecast', { key: maria });
    expect(whole.body.currencies.map((row) => [row.currency, row.totals.deals])).toEqual([['EUR', 1], ['USD', 4]]);
    expect((await call('GET', '/v1/reports/forecast', { key: await stack.keyFor('marketer') })).status).toBe(403);
  });
});

interface FunnelBody {
  overall: { deals: number; steps: Array<{ name: string; reached: number; conversionToNext: number | null }>; winRate: number | null };
  bySource: Array<{ source: string; deals: number; steps: Array<{ name: string; reached: number }> }>;
}

describe('funnel', () => {
  it('counts each deal created in the range for every stage up to the furthest it reached, by lead source', async () => {
    const reply = await call<FunnelBody>('GET', `/v1/reports/funnel?pipelineId=${team.pipeline.id}&${range}`);
    expect(reply.status).toBe(200);
    // Furthest: A Contacted, B Negotiation, C Proposal, D Qualified, E Won, F New (Lost is not a step); G is outside the range.
    expect(reply.body.overall.steps.map((step) => [step.name, step.reached, step.conversionToNext])).toEqual([
      ['New', 6, 0.8333],
      ['Contacted', 5, 0.8],
      ['Qualified', 4, 0.75],
      ['Proposal', 3, 0.6667],
      ['Negotiation', 2, 0.5],
      ['Won', 1, null],
    ]);
    expect(reply.body.overall).toMatchObject({ deals: 6, winRate: 0.1667 });
    expect(reply.body.bySource.map((funnel) => [funnel.source, funnel.steps.map((step) => step.reached)])).toEqual([
      ['referral', [2, 2, 2, 2, 2, 1]],
      ['unknown', [1, 1, 1, 0, 0, 0]],
      ['website', [3, 2, 1, 1, 0, 0]],
    ]);
  });

  it('covers a rep\'s own deals only', async () => {
    const reply = await call<FunnelBody>('GET', `/v1/reports/funnel?pipelineId=${team.pipeline.id}&${range}`, { key: stack.keys.rep });
    expect(reply.body.overall.steps.map((step) => step.reached)).toEqual([3, 3, 2, 2, 2, 1]);
  });
});

interface TimeInStageBody {
  includeOpen: boolean;
  stages: Array<{ name: string; stays: number; medianSeconds: number | null; p90Seconds: number | null; medianDays: number | null; p90Days: number | null }>;
}

describe('time in stage', () => {
  it('gives the median and 90th percentile of finished stays per open stage', async () => {
    const reply = await call<TimeInStageBody>('GET', `/v1/reports/time-in-stage?pipelineId=${team.pipeline.id}&${range}`);
    expect(reply.status).toBe(200);
    // New: 24, 48, 12, 72, 36, 6 hours -> median (24 + 36) / 2 = 30 h; p90 at rank 4.5 between 48 and 72 = 60 h.
    // Contacted: E 24 h (A is still there). Qualified: B 48 h (D is still there). Proposal and Negotiation: still there.
    expect(reply.body.stages.map((stage) => [stage.name, stage.stays, stage.medianSeconds, stage.p90Seconds])).toEqual([
      ['New', 6, 30 * 3600, 60 * 3600],
      ['Contacted', 1, 24 * 3600, 24 * 3600],
      ['Qualified', 1, 48 * 3600, 48 * 3600],
      ['Proposal', 0, null, null],
      ['Negotiation', 0, null, null],
    ]);
    expect(reply.body.stages[0]).toMatchObject({ medianDays: 1.25, p90Days: 2.5 });
  });

  it('counts stays still going up to now when asked', async () => {
    const reply = await call<TimeInStageBody>('GET', `/v1/reports/time-in-stage?pipelineId=${team.pipeline.id}&${range}&includeOpen=true`);
    const contacted = reply.body.stages.find((stage) => stage.name === 'Contacted')!;
    // E stayed 1 day; A entered at t0 + 24 h = now - 29 days and is still there. p90 of the two
    // interpolates 0.1 x 1 day + 0.9 x 29 days (plus the seconds this test has run).
    expect(contacted.stays).toBe(2);
    const expected = 0.1 * 86_400 + 0.9 * 29 * 86_400;
    expect(contacted.p90Seconds!).toBeGreaterThanOrEqual(expected);
    expect(contacted.p90Seconds!).toBeLessThan(expected + 600);
    expect(reply.body.stages.find((stage) => stage.name === 'Proposal')!.stays).toBe(1);
  });
});

describe('lead sources', () => {
  it('counts leads created in the range, conversions and won revenue per source and currency', async () => {
    const reply = await call<{ sources: Array<{ source: string; leads: number; conversions: number; conversionRate: number | null; revenue: unknown[] }> }>(
      'GET',
      `/v1/reports/lead-sources?${range}`,
    );
    expect(reply.status).toBe(200);
    // ads: Adam (G's contact is older than the range). referral: B, E (E won). website: A, C, F and Cara (a customer).
    expect(reply.body.sources).toEqual([
      { source: 'ads', leads: 1, conversions: 0, conversionRate: 0, revenue: [] },
      { source: 'referral', leads: 2, conversions: 1, conversionRate: 0.5, revenue: [{ currency: 'USD', amount: '7000.00', wonDeals: 1 }] },
      { source: 'website', leads: 4, conversions: 1, conversionRate: 0.25, revenue: [] },
    ]);
  });

  it('refuses an empty range', async () => {
    const reply = await call('GET', `/v1/reports/lead-sources?from=${to.toISOString()}&to=${from.toISOString()}`);
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([{ field: 'query.from', message: 'must be before `to`' }]);
  });
});
