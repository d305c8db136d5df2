import { describe, expect, it } from '@jest/globals';
import { forecast, type ForecastGroup } from '../../domain/forecast';

const rita = '00000000-0000-4000-8000-000000000001';
const rob = '00000000-0000-4000-8000-000000000002';
const group = (overrides: Partial<ForecastGroup>): ForecastGroup => ({ currency: 'USD', month: '2026-12', ownerId: rita, probability: 20, deals: 1, rotting: 0, amount: '0', ...overrides });

describe('forecast', () => {
  it('forecasts 200,000 for 1,000,000 in a stage with 20% probability', () => {
    const [usd] = forecast([group({ amount: '1000000.00', probability: 20 })]);
    expect(usd!.totals).toEqual({ deals: 1, rotting: 0, bestCase: '1000000.00', commit: '0.00', weighted: '200000.00' });
  });

  it('counts a stage at the commit threshold as commit and everything open as best case', () => {
    const [usd] = forecast(
      [group({ amount: '500.00', probability: 70 }), group({ amount: '300.00', probability: 69 }), group({ amount: '200.00', probability: 90, ownerId: rob })],
      70,
    );
    expect(usd!.totals).toMatchObject({ deals: 3, bestCase: '1000.00', commit: '700.00', weighted: '737.00' });
    expect(forecast([group({ amount: '300.00', probability: 69 })], 60)[0]!.totals.commit).toBe('300.00');
  });

  it('never adds different currencies together', () => {
    const result = forecast([group({ currency: 'USD', amount: '100.00' }), group({ currency: 'EUR', amount: '100.00' }), group({ currency: 'USD', amount: '50.00' })]);
    expect(result.map((row) => [row.currency, row.totals.bestCase])).toEqual([['EUR', '100.00'], ['USD', '150.00']]);
  });

  it('sums exactly and rounds once, on the figure, not per deal', () => {
    // Three deals of 0.05 at 10%: 0.005 each. Rounded per deal that would be 0.03; exactly it is 0.015 -> 0.02.
    const groups = [1, 2, 3].map((month) => group({ amount: '0.05', probability: 10, month: `2026-0${month}` }));
    const [usd] = forecast(groups);
    expect(usd!.totals.weighted).toBe('0.02');
    expect(usd!.byMonth.map((row) => row.weighted)).toEqual(['0.01', '0.01', '0.01']);
  });

  it('writes amounts in the currency\'s decimals', () => {
    const [jpy] = forecast([group({ currency: 'JPY', amount: '1001.00', probability: 33 })]);
    expect(jpy!.totals).toMatchObject({ bestCase: '1001', weighted: '330' });
  });

  it('breaks the figures down by close month (no date last), by owner and by both, with rotting counts', () => {
    const [usd] = forecast([
      group({ month: null, amount: '10.00', rotting: 1 }),
      group({ month: '2027-01', amount: '20.00', ownerId: rob }),
      group({ month: '2026-12', amount: '30.00', deals: 2, rotting: 1 }),
      group({ month: '2026-12', amount: '40.00', ownerId: rob, probability: 80 }),
    ]);
    expect(usd!.byMonth.map((row) => [row.month, row.deals, row.bestCase])).toEqual([['2026-12', 3, '70.00'], ['2027-01', 1, '20.00'], [null, 1, '10.00']]);
    expect(usd!.byOwner.map((row) => [row.ownerId, row.deals, row.rotting, row.weighted])).toEqual([[rita, 3, 2, '8.00'], [rob, 2, 0, '36.00']]);
    expect(usd!.byMonthAndOwner.map((row) => [row.month, row.ownerId, row.bestCase])).toEqual([
      ['2026-12', rita, '30.00'],
      ['2026-12', rob, '40.00'],
      ['2027-01', rob, '20.00'],
      [null, rita, '10.00'],
    ]);
    expect(usd!.totals).toMatchObject({ deals: 5, rotting: 2, bestCase: '100.00', commit: '40.00', weighted: '44.00' });
  });
});
