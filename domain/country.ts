import { getCountries, type CountryCode } from 'libphonenumber-js/max';
import type { NormalizeResult } from './normalize';

/** Names people write that are not a country's official short name in any of the locales below. */
const informalNames: Record<string, CountryCode> = {
  uk: 'GB', 'great britain': 'GB', britain: 'GB', england: 'GB', scotland: 'GB', wales: 'GB', 'northern ireland': 'GB',
  usa: 'US', us: 'US', america: 'US', 'united states of america': 'US',
  holland: 'NL', 'the netherlands': 'NL', 'czech republic': 'CZ', korea: 'KR', 'republic of korea': 'KR',
  'ivory coast': 'CI', uae: 'AE', russia: 'RU', 'russian federation': 'RU', 'viet nam': 'VN',
};

/** Languages whose country names are read, besides the codes: those of most of our users' files. */
const nameLocales = ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt'];

let officialNames: Map<string, CountryCode> | undefined;

/** Case, accents, dots and punctuation do not matter: "U.S.A." = "usa", "Côte d'Ivoire" = "cote d ivoire". */
function nameKey(raw: string): string {
  return raw.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\./g, '').replace(/[^a-z]+/g, ' ').trim();
}

function namesFromCldr(): Map<string, CountryCode> {
  const names = new Map<string, CountryCode>();
  for (const locale of nameLocales) {
    const display = new Intl.DisplayNames([locale], { type: 'region' });
    for (const code of getCountries()) {
      const name = display.of(code);
      if (name && !names.has(nameKey(name))) names.set(nameKey(name), code);
    }
  }
  return names;
}

/**
 * An ISO 3166-1 alpha-2 code from a code or a country name ("de", "Germany", "Deutschland",
 * "Allemagne", "U.S.A." -> DE, DE, DE, DE, US). Official names come from the runtime's CLDR
 * data (Intl.DisplayNames), so only the informal ones are listed here.
 */
export function normalizeCountryCode(raw: string): NormalizeResult<CountryCode> {
  const value = raw.trim();
  if (value.length === 0) return { ok: false, reason: 'is empty' };
  const upper = value.toUpperCase();
  if (/^[A-Z]{2}$/.test(upper) && (getCountries() as string[]).includes(upper)) return { ok: true, value: upper as CountryCode };
  officialNames ??= namesFromCldr();
  const key = nameKey(value);
  const code = informalNames[key] ?? officialNames.get(key);
  return code ? { ok: true, value: code } : { ok: false, reason: 'is not a country: use an ISO 3166-1 code such as DE or a name such as Germany' };
}
