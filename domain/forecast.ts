import { formatAmount, formatScaled, currencyDecimals, toHundredths } from './money';

/**
 * The sales forecast over open deals. Three figures, each per currency (amounts in different
 * currencies are never added together):
 * - best case: the sum of every open deal's amount;
 * - commit: the sum over deals in stages whose win probability is at least the commit threshold;
 * - weighted: the sum of amount x stage probability.
 * Sums are exact (integer hundredths; the weighted sum in ten-thousandths, since a percentage
 * adds two decimals) and rounded to the currency's decimals once, when written.
 */

export const defaultCommitThreshold = 70;

/** Open deals grouped by currency, expected close month, owner and stage probability (the SQL side). */
export interface ForecastGroup {
  currency: string;
  /** Expected close month as YYYY-MM; null for deals without an expected close date. */
  month: string | null;
  ownerId: string;
  /** Win probability of the stage, in percent. */
  probability: number;
  deals: number;
  rotting: number;
  /** Exact sum of the deals' amounts, as PostgreSQL prints NUMERIC; deals without an amount add 0. */
  amount: string;
}

export interface ForecastFigures {
  deals: number;
  rotting: number;
  bestCase: string;
  commit: string;
  weighted: string;
}

export interface CurrencyForecast {
  currency: string;
  totals: ForecastFigures;
  byMonth: Array<{ month: string | null } & ForecastFigures>;
  byOwner: Array<{ ownerId: string } & ForecastFigures>;
  byMonthAndOwner: Array<{ month: string | null; ownerId: string } & ForecastFigures>;
}

interface Sums {
  deals: number;
  rotting: number;
  bestCase: bigint;
  commit: bigint;
  /** Hundredths x percent: ten-thousandths of the currency unit. */
  weighted: bigint;
}

const emptySums = (): Sums => ({ deals: 0, rotting: 0, bestCase: 0n, commit: 0n, weighted: 0n });

export function forecast(groups: readonly ForecastGroup[], commitThreshold = defaultCommitThreshold): CurrencyForecast[] {
  const byCurrency = new Map<string, ForecastGroup[]>();
  for (const group of groups) byCurrency.set(group.currency, [...(byCurrency.get(group.currency) ?? []), group]);
  return [...byCurrency.keys()].sort().map((currency) => currencyForecast(currency, byCurrency.get(currency)!, commitThreshold));
}

function currencyForecast(currency: string, groups: readonly ForecastGroup[], commitThreshold: number): CurrencyForecast {
  const totals = emptySums();
  const months = new Map<string | null, Sums>();
  const owners = new Map<string, Sums>();
  const cells = new Map<string, { month: string | null; ownerId: string; sums: Sums }>();
  for (const group of groups) {
    const cellKey = `${group.month ?? ''}|${group.ownerId}`;
    if (!cells.has(cellKey)) cells.set(cellKey, { month: group.month, ownerId: group.ownerId, sums: emptySums() });
    if (!months.has(group.month)) months.set(group.month, emptySums());
    if (!owners.has(group.ownerId)) owners.set(group.ownerId, emptySums());
    for (const sums of [totals, months.get(group.month)!, owners.get(group.ownerId)!, cells.get(cellKey)!.sums]) add(sums, group, commitThreshold);
  }
  const figures = (sums: Sums) => written(sums, currency);
  return {
    currency,
    totals: figures(totals),
    byMonth: [...months].sort(([a], [b]) => compareMonths(a, b)).map(([month, sums]) => ({ month, ...figures(sums) })),
    byOwner: [...owners].sort(([a], [b]) => a.localeCompare(b)).map(([ownerId, sums]) => ({ ownerId, ...figures(sums) })),
    byMonthAndOwner: [...cells.values()]
      .sort((a, b) => compareMonths(a.month, b.month) || a.ownerId.localeCompare(b.ownerId))
      .map(({ month, ownerId, sums }) => ({ month, ownerId, ...figures(sums) })),
  };
}

function add(sums: Sums, group: ForecastGroup, commitThreshold: number): void {
  const amount = toHundredths(group.amount);
  sums.deals += group.deals;
  sums.rotting += group.rotting;
  sums.bestCase += amount;
  if (group.probability >= commitThreshold) sums.commit += amount;
  sums.weighted += amount * BigInt(group.probability);
}

function written(sums: Sums, currency: string): ForecastFigures {
  return {
    deals: sums.deals,
    rotting: sums.rotting,
    bestCase: formatAmount(sums.bestCase, currency),
    commit: formatAmount(sums.commit, currency),
    weighted: formatScaled(sums.weighted, 4, currencyDecimals(currency)),
  };
}

/** Months in calendar order; deals without an expected close date come last. */
function compareMonths(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a.localeCompare(b);
}
