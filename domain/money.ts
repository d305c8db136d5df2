/**
 * Money as the API speaks it: a decimal string ("1250.00") with an ISO 4217 currency, never a
 * JSON number, so no amount passes through a binary float. Arithmetic is exact: amounts become
 * integer hundredths (bigint), the scale of `deals.amount NUMERIC(14,2)`.
 */

/** Digits before the point that NUMERIC(14,2) holds. */
export const maxIntegerDigits = 12;
const storedDecimals = 2;

export const amountPattern = new RegExp(`^\\d{1,${maxIntegerDigits}}(\\.\\d{1,${storedDecimals}})?$`);

const currencies = new Set(Intl.supportedValuesOf('currency'));

export function isCurrencyCode(code: string): boolean {
  return currencies.has(code);
}

/**
 * Decimals an amount in this currency may have: the currency's minor units (0 for JPY, 2 for
 * EUR), capped at the 2 the column stores, so a 3-decimal currency (BHD) is kept to 2.
 */
export function currencyDecimals(currency: string): number {
  const minor = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? storedDecimals;
  return Math.min(minor, storedDecimals);
}

/** Why this amount cannot be stored in this currency, or null when it can. */
export function amountProblem(amount: string, currency: string): string | null {
  if (!amountPattern.test(amount)) return `must be a decimal string such as "1250.00": up to ${maxIntegerDigits} digits, a point and up to ${storedDecimals} decimals`;
  const decimals = amount.split('.')[1]?.replace(/0+$/, '').length ?? 0;
  const allowed = currencyDecimals(currency);
  if (decimals > allowed) return allowed === 0 ? `${currency} amounts have no decimals` : `${currency} amounts have at most ${allowed} decimals`;
  return null;
}

/** "1250.5" -> 125050n: the exact amount in hundredths. Accepts what PostgreSQL prints for NUMERIC. */
export function toHundredths(decimal: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal.trim());
  if (!match) throw new RangeError(`not a decimal amount: ${decimal}`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.replace(/0+$/, '').length > storedDecimals) throw new RangeError(`more than ${storedDecimals} decimals: ${decimal}`);
  const value = BigInt(whole!) * 100n + BigInt(fraction.padEnd(storedDecimals, '0').slice(0, storedDecimals));
  return sign ? -value : value;
}

/**
 * Writes `value / 10^scale` with `decimals` decimals, rounding half away from zero once, here,
 * rather than on each term of a sum.
 */
export function formatScaled(value: bigint, scale: number, decimals: number): string {
  if (decimals > scale) return formatScaled(value * 10n ** BigInt(decimals - scale), decimals, decimals);
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const divisor = 10n ** BigInt(scale - decimals);
  const rounded = (magnitude + divisor / 2n) / divisor;
  const unit = 10n ** BigInt(decimals);
  const whole = (rounded / unit).toString();
  const fraction = decimals > 0 ? `.${(rounded % unit).toString().padStart(decimals, '0')}` : '';
  return `${negative && rounded !== 0n ? '-' : ''}${whole}${fraction}`;
}

/** An amount in hundredths written in its currency's decimals ("1250.00", or "1250" in JPY). */
export function formatAmount(hundredths: bigint, currency: string): string {
  return formatScaled(hundredths, storedDecimals, currencyDecimals(currency));
}
