import { stableFraction } from './stable-hash';

export interface SplitVariant {
  key: string;
  /** Whole percents; a split's variants add up to 100 (domain/schemas/sequence.ts). */
  percent: number;
}

/**
 * The A/B variant of one enrollment at one split step: a stable hash of the enrollment id and
 * the step key picks a point in [0, 100) and the variants own consecutive percent ranges. So
 * it is random across enrollments, the same on every replay or retry, and two splits of one
 * sequence are independent of each other.
 */
export function chooseVariant(enrollmentId: string, stepKey: string, variants: readonly SplitVariant[]): string {
  if (variants.length === 0) throw new Error(`Split ${stepKey} has no variants`);
  const total = variants.reduce((sum, variant) => sum + variant.percent, 0);
  const point = stableFraction(`${enrollmentId}:${stepKey}`) * total;
  let upper = 0;
  for (const variant of variants) {
    upper += variant.percent;
    if (point < upper) return variant.key;
  }
  // Only reachable through floating-point rounding at the very top of the range.
  return variants[variants.length - 1]!.key;
}
