import { describe, expect, it } from '@jest/globals';
import { amountProblem, currencyDecimals, formatAmount, formatScaled, isCurrencyCode, toHundredths } from '../../domain/money';

describe('money', () => {
  it('knows ISO 4217 codes and their decimals, capped at the two the database stores', () => {
    expect(isCurrencyCode('EUR')).toBe(true);
    expect(isCurrencyCode('EURO')).toBe(false);
    expect(isCurrencyCode('XYZ')).toBe(false);
    expect([currencyDecimals('USD'), currencyDecimals('JPY'), currencyDecimals('BHD')]).toEqual([2, 0, 2]);
  });

  it('accepts decimal strings within the column and the currency', () => {
    expect(amountProblem('1250.00', 'EUR')).toBeNull();
    expect(amountProblem('999999999999.99', 'EUR')).toBeNull();
    expect(amountProblem('1000', 'JPY')).toBeNull();
    expect(amountProblem('1000.00', 'JPY')).toBeNull();
    expect(amountProblem('1000.5', 'JPY')).toBe('JPY amounts have no decimals');
    expect(amountProblem('1.234', 'EUR')).toMatch(/up to 2 decimals/);
    expect(amountProblem('1000000000000', 'EUR')).toMatch(/up to 12 digits/);
    expect(amountProblem('-5', 'EUR')).toMatch(/decimal string/);
    expect(amountProblem('1e3', 'EUR')).toMatch(/decimal string/);
  });

  it('converts exactly, without binary floats', () => {
    expect(toHundredths('0.1')).toBe(10n);
    expect(toHundredths('999999999999.99')).toBe(99999999999999n);
    expect(toHundredths('12.30')).toBe(1230n);
    expect(() => toHundredths('1.001')).toThrow(RangeError);
    expect(formatAmount(toHundredths('0.1') + toHundredths('0.2'), 'USD')).toBe('0.30');
  });

  it('rounds half away from zero when writing fewer decimals', () => {
    expect(formatScaled(5n, 4, 2)).toBe('0.00');
    expect(formatScaled(50n, 4, 2)).toBe('0.01');
    expect(formatScaled(-50n, 4, 2)).toBe('-0.01');
    expect(formatScaled(-49n, 4, 2)).toBe('0.00');
    expect(formatScaled(123456n, 2, 0)).toBe('1235');
    expect(formatScaled(7n, 0, 2)).toBe('7.00');
  });
});
