import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { normalizeCountryCode } from './country';

/**
 * Where a lead is, for territory routing: an ISO 3166-1 alpha-2 country and an ISO 3166-2
 * region (`US-CA`, `DE-BY`), from what the contact already carries, most explicit first:
 * - country: the contact's `country` column, else its custom field `country` (a code or a
 *   name, domain/country.ts), else the country of a region code, else the country of its
 *   primary phone number (calling code and number plan);
 * - region: the custom field `region`, as `US-CA` or as `CA` with the country. Forms with
 *   custom fields and `PATCH /v1/contacts` can set it; nothing derives it.
 */
export interface LeadTerritory {
  country: string | null;
  region: string | null;
}

export interface TerritorySource {
  country: string | null;
  customFields: unknown;
  /** E.164 numbers, the primary one first. */
  phones: readonly string[];
}

const regionPattern = /^([A-Z]{2})-([A-Z0-9]{1,3})$/;
const subdivisionPattern = /^[A-Z0-9]{1,3}$/;

export function leadTerritory(source: TerritorySource): LeadTerritory {
  const fields = isRecord(source.customFields) ? source.customFields : {};
  const statedCountry = countryCode(source.country) ?? countryCode(fields.country);
  const statedRegion = typeof fields.region === 'string' ? fields.region.trim().toUpperCase() : '';
  const fullRegion = regionPattern.exec(statedRegion);
  const country = statedCountry ?? (fullRegion && isSupportedCountry(fullRegion[1]!) ? fullRegion[1]! : null) ?? phoneCountry(source.phones);
  let region: string | null = null;
  if (fullRegion && (!country || fullRegion[1] === country)) region = statedRegion;
  else if (country && subdivisionPattern.test(statedRegion)) region = `${country}-${statedRegion}`;
  return { country, region };
}

function countryCode(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const result = normalizeCountryCode(value);
  return result.ok ? result.value : null;
}

export function isRegionCode(value: string): boolean {
  const match = regionPattern.exec(value);
  return match !== null && isSupportedCountry(match[1]!);
}

function phoneCountry(phones: readonly string[]): string | null {
  for (const phone of phones) {
    const country = parsePhoneNumberFromString(phone)?.country;
    if (country) return country;
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
