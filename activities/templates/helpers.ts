import type Handlebars from 'handlebars';
import { DateTime, IANAZone } from 'luxon';
import { normalizeName } from '../../domain/normalize';
import { isLocale } from '../../domain/schemas/template';

/**
 * What the static checker needs to know about a helper. Helpers are the only functions a
 * template can call; anything else in call position is an error at save time.
 */
export interface HelperSpec {
  minArgs: number;
  maxArgs: number;
  /** Hash options it accepts (`{{#if x includeZero=true}}`). */
  hash?: readonly string[];
  /** Needs a block ({{#each}}...{{/each}}); inline helpers must not have one. */
  block?: boolean;
  /** The first argument is what the marketer guards against being empty (if, default). */
  guardsFirstArg?: boolean;
  /** Variables the helper reads itself, so a preview can warn when they are empty. */
  reads?: readonly string[];
  /** Checks an argument written as a literal, at save time. Returns the problem or null. */
  checkLiteral?: (index: number, value: unknown) => string | null;
  usage: string;
}

export const dateFormatPresets = [
  'DATE_SHORT', 'DATE_MED', 'DATE_MED_WITH_WEEKDAY', 'DATE_FULL', 'DATE_HUGE',
  'TIME_SIMPLE', 'TIME_WITH_SECONDS', 'TIME_WITH_SHORT_OFFSET', 'TIME_WITH_LONG_OFFSET',
  'TIME_24_SIMPLE', 'TIME_24_WITH_SECONDS', 'TIME_24_WITH_SHORT_OFFSET', 'TIME_24_WITH_LONG_OFFSET',
  'DATETIME_SHORT', 'DATETIME_SHORT_WITH_SECONDS', 'DATETIME_MED', 'DATETIME_MED_WITH_SECONDS', 'DATETIME_MED_WITH_WEEKDAY',
  'DATETIME_FULL', 'DATETIME_FULL_WITH_SECONDS', 'DATETIME_HUGE', 'DATETIME_HUGE_WITH_SECONDS',
] as const;
type DatePreset = (typeof dateFormatPresets)[number];
const presetNames = new Set<string>(dateFormatPresets);
const currencies = new Set(Intl.supportedValuesOf('currency'));

export const defaultLocale = 'en-US';
export const defaultTimeZone = 'UTC';

export const helperSpecs: Record<string, HelperSpec> = {
  if: { minArgs: 1, maxArgs: 1, block: true, hash: ['includeZero'], guardsFirstArg: true, usage: '{{#if contact.firstName}}...{{else}}...{{/if}}' },
  unless: { minArgs: 1, maxArgs: 1, block: true, hash: ['includeZero'], guardsFirstArg: true, usage: '{{#unless owner}}...{{/unless}}' },
  each: { minArgs: 1, maxArgs: 1, block: true, usage: '{{#each contact.customFields}}{{@key}}: {{this}}{{/each}}' },
  with: { minArgs: 1, maxArgs: 1, block: true, guardsFirstArg: true, usage: '{{#with owner}}{{name}}{{/with}}' },
  lookup: { minArgs: 2, maxArgs: 2, usage: '{{lookup contact.customFields "plan"}}' },
  default: { minArgs: 2, maxArgs: 2, guardsFirstArg: true, usage: '{{default contact.firstName "there"}}' },
  formatDate: {
    minArgs: 1,
    maxArgs: 2,
    usage: '{{formatDate contact.customFields.renewalDate "DATE_MED"}}',
    checkLiteral: (index, value) => {
      if (index === 0 && typeof value === 'string' && !parseDate(value, defaultTimeZone)) return `"${value}" is not a date (use ISO 8601, e.g. 2025-03-01)`;
      if (index === 1 && typeof value !== 'string') return 'the format must be a preset name such as DATE_MED or a pattern such as "d MMMM yyyy"';
      if (index === 1 && /^[A-Z][A-Z0-9_]*$/.test(value as string) && !presetNames.has(value as string)) {
        return `"${String(value)}" is not a date format; the presets are ${dateFormatPresets.join(', ')}`;
      }
      return null;
    },
  },
  formatCurrency: {
    minArgs: 2,
    maxArgs: 2,
    usage: '{{formatCurrency contact.customFields.balance "EUR"}}',
    checkLiteral: (index, value) => {
      if (index === 0 && toAmount(value) === null) return `${JSON.stringify(value)} is not an amount`;
      if (index === 1 && (typeof value !== 'string' || !currencies.has(value))) return `${JSON.stringify(value)} is not an ISO 4217 currency code such as EUR or USD`;
      return null;
    },
  },
  firstName: { minArgs: 1, maxArgs: 1, usage: '{{firstName contact.fullName}}' },
  unsubscribeUrl: { minArgs: 0, maxArgs: 0, reads: ['links.unsubscribe'], usage: '<a href="{{unsubscribeUrl}}">Unsubscribe</a>' },
  preferencesUrl: { minArgs: 0, maxArgs: 0, reads: ['links.preferences'], usage: '<a href="{{preferencesUrl}}">Email preferences</a>' },
};

/** The helper functions; Handlebars passes its options object as the last argument. */
export const helperImplementations: Record<string, Handlebars.HelperDelegate> = {
  default: (value: unknown, fallback: unknown) => (isEmpty(value) ? fallback : value),

  formatDate: (...args: unknown[]) => {
    const options = args.pop() as HelperOptions;
    const [value, format = 'DATE_MED'] = args;
    if (isEmpty(value)) return '';
    const { zone, locale } = contactSettings(options);
    const date = parseDate(value, zone);
    if (!date) return warn(options, 'formatDate', `${JSON.stringify(value)} is not a date`);
    const localized = date.setLocale(locale);
    if (typeof format === 'string' && presetNames.has(format)) return localized.toLocaleString(DateTime[format as DatePreset]);
    if (typeof format !== 'string' || format === '') return warn(options, 'formatDate', `${JSON.stringify(format)} is not a date format`);
    return localized.toFormat(format);
  },

  formatCurrency: (amount: unknown, currency: unknown, options: HelperOptions) => {
    if (isEmpty(amount)) return '';
    const value = toAmount(amount);
    if (value === null) return warn(options, 'formatCurrency', `${JSON.stringify(amount)} is not an amount`);
    const code = typeof currency === 'string' ? currency.trim().toUpperCase() : '';
    if (!currencies.has(code)) return warn(options, 'formatCurrency', `${JSON.stringify(currency)} is not a currency code`);
    return new Intl.NumberFormat(contactSettings(options).locale, { style: 'currency', currency: code }).format(value);
  },

  firstName: (fullName: unknown) => firstNameOf(fullName),

  unsubscribeUrl: (options: HelperOptions) => link(options, 'unsubscribe'),
  preferencesUrl: (options: HelperOptions) => link(options, 'preferences'),
};

interface HelperOptions {
  data?: { root?: unknown; renderWarnings?: string[] };
  loc?: { start: { line: number; column: number } };
}

/** Name of the data key through which helpers report values they could not format. */
export const warningsKey = 'renderWarnings';

function warn(options: HelperOptions, helper: string, problem: string): string {
  const at = options.loc ? `line ${options.loc.start.line}, column ${options.loc.start.column + 1}: ` : '';
  options.data?.renderWarnings?.push(`${at}${helper}: ${problem}; it renders empty`);
  return '';
}

function contactSettings(options: HelperOptions): { zone: string; locale: string } {
  const root = options.data?.root as { contact?: { timeZone?: unknown; locale?: unknown } } | undefined;
  const zone = root?.contact?.timeZone;
  const locale = root?.contact?.locale;
  return {
    zone: typeof zone === 'string' && IANAZone.isValidZone(zone) ? zone : defaultTimeZone,
    locale: typeof locale === 'string' && isLocale(locale) ? locale : defaultLocale,
  };
}

function link(options: HelperOptions, name: 'unsubscribe' | 'preferences'): string {
  const links = (options.data?.root as { links?: Record<string, unknown> | null } | undefined)?.links;
  const value = links?.[name];
  return typeof value === 'string' ? value : '';
}

/**
 * A date-only value (2025-03-01) is that day in the contact's zone; a timestamp is converted to
 * the zone, so "today at 9:00 UTC" shows as the contact's local time.
 */
export function parseDate(value: unknown, zone: string): DateTime | null {
  let date: DateTime;
  if (value instanceof Date) date = DateTime.fromJSDate(value, { zone });
  else if (typeof value === 'number') date = DateTime.fromMillis(value, { zone });
  else if (typeof value === 'string') {
    const text = value.trim();
    date = DateTime.fromISO(text, { zone });
    if (!date.isValid) date = DateTime.fromRFC2822(text, { zone });
    if (!date.isValid) date = DateTime.fromSQL(text, { zone });
  } else return null;
  return date.isValid ? date : null;
}

function toAmount(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  // Strings and decimal objects (Prisma.Decimal) both print as plain numbers.
  if (typeof value === 'string' || (typeof value === 'object' && value !== null)) {
    const text = String(value).trim();
    if (!/^-?\d+(\.\d+)?$/.test(text)) return null;
    return Number(text);
  }
  return null;
}

const honorifics = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'dame', 'herr', 'frau']);

/** "dr. ada lovelace" → "Ada"; "Lovelace, Ada" → "Ada"; anything not a name → "". */
export function firstNameOf(fullName: unknown): string {
  if (typeof fullName !== 'string') return '';
  const comma = fullName.indexOf(',');
  const ordered = comma >= 0 ? fullName.slice(comma + 1) : fullName;
  const words = normalizeName(ordered).split(' ').filter(Boolean);
  const first = words.find((word) => !honorifics.has(word.replace(/\.$/, '').toLowerCase()));
  return first ?? '';
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}
