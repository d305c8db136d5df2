import { parsePhoneNumberFromString, type CountryCode, isSupportedCountry } from 'libphonenumber-js/max';
import { parse as parseHost } from 'tldts';

/**
 * Normalisation shared by every write path (API, forms, later imports), so the same person
 * always lands on the same normalised keys.
 */

export type NormalizeResult<T> = { ok: true; value: T } | { ok: false; reason: string };

// Deliberately stricter than RFC 5322: what real mailbox providers accept and what a
// marketer would call an email address (no quoted local parts, no IP literals).
const emailPattern =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export function normalizeEmail(raw: string): NormalizeResult<string> {
  const value = raw.trim().toLowerCase();
  if (value.length === 0) return { ok: false, reason: 'is empty' };
  if (value.length > 254) return { ok: false, reason: 'is longer than 254 characters' };
  const [local = ''] = value.split('@');
  if (local.length > 64) return { ok: false, reason: 'has a local part longer than 64 characters' };
  if (!emailPattern.test(value)) return { ok: false, reason: 'is not a valid email address' };
  return { ok: true, value };
}

export function isCountryCode(value: string): value is CountryCode {
  return isSupportedCountry(value);
}

/** E.164 via libphonenumber-js metadata; numbers without +country need a default country. */
export function normalizePhone(raw: string, defaultCountry?: string): NormalizeResult<string> {
  const value = raw.trim();
  if (value.length === 0) return { ok: false, reason: 'is empty' };
  const country = defaultCountry && isCountryCode(defaultCountry) ? defaultCountry : undefined;
  const parsed = parsePhoneNumberFromString(value, country ? { defaultCountry: country } : undefined);
  if (!parsed) {
    return {
      ok: false,
      reason: country
        ? 'is not a phone number'
        : 'is not a phone number in international format (+ and country code) and the form has no default country',
    };
  }
  if (!parsed.isValid()) return { ok: false, reason: `is not a valid ${parsed.country ?? 'international'} phone number` };
  return { ok: true, value: parsed.number };
}

const lowerCaseParticles = new Set(['van', 'von', 'der', 'den', 'de', 'da', 'del', 'della', 'di', 'du', 'la', 'le', 'ter', 'ten', 'bin', 'ibn', 'al']);

function capitalizeWord(word: string, isFirst: boolean): string {
  if (!isFirst && lowerCaseParticles.has(word)) return word;
  // Keep the capital after O' and Mc, the common Irish and Scottish forms (O'Brien, McDonald).
  const withApostrophe = word.match(/^([a-z])(['’])([a-z].*)$/u);
  if (withApostrophe) return `${withApostrophe[1]!.toUpperCase()}${withApostrophe[2]}${capitalizeWord(withApostrophe[3]!, true)}`;
  const mc = word.match(/^mc([a-z].*)$/u);
  if (mc && word.length > 3) return `Mc${capitalizeWord(mc[1]!, true)}`;
  return word.charAt(0).toLocaleUpperCase() + word.slice(1);
}

/**
 * Trims and collapses whitespace; names typed all in one case ("JANE", "jane doe") get
 * standard capitalisation, while names with deliberate mixed case ("McKenzie", "DeShawn",
 * "van der Berg") are kept as typed.
 */
export function normalizeName(raw: string): string {
  const collapsed = raw.normalize('NFC').replace(/\s+/gu, ' ').trim();
  if (collapsed.length === 0) return collapsed;
  const isSingleCase = collapsed === collapsed.toLocaleLowerCase() || collapsed === collapsed.toLocaleUpperCase();
  if (!isSingleCase) return collapsed;
  return collapsed
    .toLocaleLowerCase()
    .split(' ')
    .map((part, index) => part.split('-').map((piece) => capitalizeWord(piece, index === 0)).join('-'))
    .join(' ');
}

/** Splits "Jane van der Berg" into first and last name when a form has a single name field. */
export function splitFullName(fullName: string): { firstName?: string; lastName?: string } {
  const normalized = normalizeName(fullName);
  if (!normalized) return {};
  const space = normalized.indexOf(' ');
  if (space === -1) return { firstName: normalized };
  return { firstName: normalized.slice(0, space), lastName: normalized.slice(space + 1) };
}

/**
 * The registrable domain of a host, URL or domain as typed ("https://www.shop.Acme.co.uk/x" ->
 * "acme.co.uk"), by the Public Suffix List (tldts), private suffixes included so that
 * "acme.github.io" stays itself. Companies dedupe on it. Email addresses are not domains here:
 * `workEmailDomain` in domain/matching.ts reads those.
 */
export function normalizeDomain(raw: string): string | undefined {
  const value = raw.trim().toLowerCase();
  if (value.includes('@')) return undefined;
  const parsed = parseHost(value, { allowPrivateDomains: true });
  if (parsed.isIp || !parsed.hostname || !parsed.domain) return undefined;
  return /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(parsed.hostname) ? parsed.domain : undefined;
}

/**
 * A company name as stored: whitespace trimmed and collapsed, everything else as typed. Case
 * is the brand's own ("eBay", "adidas") and the legal suffix stays ("Acme GmbH"); matching
 * ignores both (companyMatchKey in domain/matching.ts).
 */
export function normalizeCompanyName(raw: string): string {
  return raw.normalize('NFC').replace(/\s+/gu, ' ').trim();
}
