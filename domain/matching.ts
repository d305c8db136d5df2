import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { parse as parseHost } from 'tldts';
import { givenNameGroups } from './nicknames';
import { normalizeEmail, normalizePhone } from './normalize';

/**
 * Duplicate detection without I/O. Each contact is reduced once to a MatchProfile; the audit
 * groups contacts by blocking keys (contacts sharing a key are compared, nobody else is, so
 * candidate generation is linear in the table) and scores each pair with scorePair, which
 * says why as well as how likely.
 */

/** What matching reads of a contact. */
export interface MatchInput {
  id: string;
  firstName: string | null;
  lastName: string | null;
  /** Normalised addresses (ContactEmail.address). */
  emails: readonly string[];
  /** E.164 numbers (ContactPhone.e164). */
  phones: readonly string[];
  companyId: string | null;
  companyName: string | null;
  companyDomain: string | null;
  /** ISO 3166-1 alpha-2, the country of numbers written without a country code. */
  country: string | null;
  customFields: Readonly<Record<string, unknown>>;
}

interface NamePart {
  /** As stored, for reasons people read. */
  raw: string;
  /** Folded words: lower case, no accents or punctuation. */
  words: string[];
  /** The words joined: "van der Berg" and "Vanderberg" are both "vanderberg". */
  joined: string;
  /** Formal names this part stands for (Bob -> robert). */
  groups: readonly string[];
}

export interface MatchProfile {
  id: string;
  first: NamePart | null;
  last: NamePart | null;
  /** Canonical mailbox -> one address as written. */
  emails: Map<string, string>;
  phones: Set<string>;
  /** Organisation key -> how a reason names it ("company domain acme.com"). */
  orgs: Map<string, string>;
}

export interface PairScore {
  /** 0..1: how likely the two are one person. */
  score: number;
  reasons: string[];
}

/** Pairs scoring below this are not candidates. A same name alone (0.6) is one; a shared initial alone (0.45) is not. */
export const candidateScoreFloor = 0.5;

/**
 * Larger blocks are skipped: a key shared by more contacts than this ("john|smith" in a big
 * table) says too little to be worth k²/2 comparisons. Such people still meet through their
 * other keys (email, phone, name at the same company).
 */
export const maxBlockSize = 50;

const weights = {
  email: 0.95,
  phone: 0.9,
  /** A shared address or number whose owners' first names differ: a household or a switchboard as often as one person. */
  sharedButNamesDiffer: 0.5,
  name: 0.6,
  nameAtSameOrganisation: 0.8,
} as const;

/** Below this a name comparison is no evidence at all. */
const nameEvidenceFloor = 0.7;

// ---------------------------------------------------------------- text

/** Letters NFKD does not decompose into a base letter plus a mark. */
const foldedLetters: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i' };

/**
 * Lower case, accents and the letters above folded to ASCII, apostrophes and dots dropped
 * (O'Brien = OBrien, S.A. = SA), any other punctuation a word break.
 */
export function foldText(raw: string): string {
  return raw
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[ßæœøłđðþı]/g, (letter) => foldedLetters[letter] ?? letter)
    .replace(/['’`´.]/g, '')
    .replace(/&/g, ' and ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function namePart(raw: string | null): NamePart | null {
  if (!raw) return null;
  const words = foldText(raw).split(' ').filter(Boolean);
  if (words.length === 0) return null;
  const joined = words.join('');
  const groups = [...new Set([...givenNameGroups(joined), ...givenNameGroups(words[0]!)])];
  return { raw: raw.trim(), words, joined, groups };
}

// ---------------------------------------------------------------- emails, phones, domains

/** Mailbox providers whose domain says nothing about where a person works. */
const freeMailProviders = new Set([
  'gmail', 'googlemail', 'yahoo', 'ymail', 'hotmail', 'outlook', 'live', 'msn', 'icloud', 'me', 'mac', 'aol', 'proton', 'protonmail',
  'gmx', 'web', 'mail', 'yandex', 'qq', '163', '126', 'zoho', 'fastmail', 'hey', 'tutanota', 'orange', 'free', 'libero', 't-online',
]);

/** The registrable domain of an address, or null when it is a free mailbox provider's. */
export function workEmailDomain(address: string): string | null {
  const parsed = parseHost(address.slice(address.lastIndexOf('@') + 1), { allowPrivateDomains: true });
  if (!parsed.domain || !parsed.domainWithoutSuffix || freeMailProviders.has(parsed.domainWithoutSuffix)) return null;
  return parsed.domain;
}

/**
 * One mailbox however it is written: the +tag that most providers ignore is dropped, and
 * Gmail also ignores dots (John.Smith+crm@googlemail.com = johnsmith@gmail.com).
 */
export function canonicalEmail(address: string): string {
  const at = address.lastIndexOf('@');
  let local = address.slice(0, at).toLowerCase();
  let domain = address.slice(at + 1).toLowerCase();
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  if (domain === 'gmail.com' || domain === 'googlemail.com') {
    local = local.replace(/\./g, '');
    domain = 'gmail.com';
  }
  return `${local}@${domain}`;
}

const phoneLike = /^\+?[\d\s().\-/]{7,25}$/;

/**
 * Addresses and numbers kept in custom fields (imports from before normalisation, "mobile" or
 * "work email" columns): numbers written without a country code are read in the contact's
 * country, else in the country of its first phone, the best guess there is.
 */
function identifiersInCustomFields(input: MatchInput): { emails: string[]; phones: string[] } {
  // Parsing a number costs about 0.1 ms, most of a profile's time: only when a field needs it.
  let country: string | undefined | null = input.country;
  const countryOfPhones = () => (country ??= input.phones[0] ? (parsePhoneNumberFromString(input.phones[0])?.country ?? undefined) : undefined);
  const found = { emails: [] as string[], phones: [] as string[] };
  for (const value of Object.values(input.customFields)) {
    if (typeof value !== 'string') continue;
    if (value.includes('@')) {
      const email = normalizeEmail(value);
      if (email.ok) found.emails.push(email.value);
    } else if (phoneLike.test(value.trim())) {
      const phone = normalizePhone(value, countryOfPhones());
      if (phone.ok) found.phones.push(phone.value);
    }
  }
  return found;
}

// ---------------------------------------------------------------- companies

/** Legal forms as folded word sequences; the longest that ends a name is removed first. */
const legalSuffixes = [
  'inc', 'incorporated', 'corp', 'corporation', 'co', 'company', 'llc', 'l l c', 'llp', 'lp', 'ltd', 'limited', 'plc', 'pty', 'pty ltd', 'pte ltd',
  'gmbh', 'gmbh and co kg', 'and co kg', 'co kg', 'kg', 'kgaa', 'ag', 'ug', 'ohg', 'ev', 'mbh',
  'sa', 's a', 'sas', 'sarl', 'sl', 'srl', 'spa', 's p a', 'sa de cv', 'ltda', 'bv', 'b v', 'nv', 'n v', 'vof',
  'ab', 'as', 'asa', 'aps', 'a s', 'oy', 'oyj', 'se', 'kk', 'sdn bhd', 'bhd', 'pvt ltd',
].map((suffix) => suffix.split(' ')).sort((a, b) => b.length - a.length);

/**
 * A company name for matching: folded, without a leading "the" and without trailing legal
 * forms ("The ACME Corp." = "Acme, Inc." = "acme"), spaces dropped. The stored name keeps
 * them (normalizeCompanyName). A name that is nothing but a legal form stays as it is.
 */
export function companyMatchKey(name: string): string {
  const words = foldText(name).split(' ').filter(Boolean);
  if (words[0] === 'the' && words.length > 1) words.shift();
  for (let stripped = true; stripped; ) {
    stripped = false;
    for (const suffix of legalSuffixes) {
      if (words.length > suffix.length && suffix.every((word, index) => words[words.length - suffix.length + index] === word)) {
        words.splice(words.length - suffix.length);
        stripped = true;
        break;
      }
    }
  }
  return words.join('');
}

// ---------------------------------------------------------------- profiles and keys

export function matchProfile(input: MatchInput): MatchProfile {
  const extra = identifiersInCustomFields(input);
  const emails = new Map<string, string>();
  for (const address of [...input.emails, ...extra.emails]) if (!emails.has(canonicalEmail(address))) emails.set(canonicalEmail(address), address);
  const orgs = new Map<string, string>();
  if (input.companyId) orgs.set(`id:${input.companyId}`, `company ${input.companyName ?? input.companyId}`);
  if (input.companyDomain) orgs.set(`dom:${input.companyDomain}`, `company domain ${input.companyDomain}`);
  const companyKey = input.companyName ? companyMatchKey(input.companyName) : '';
  if (companyKey) orgs.set(`co:${companyKey}`, `company ${input.companyName}`);
  for (const address of input.emails) {
    const domain = workEmailDomain(address);
    if (domain && !orgs.has(`dom:${domain}`)) orgs.set(`dom:${domain}`, `company domain ${domain}`);
  }
  return { id: input.id, first: namePart(input.firstName), last: namePart(input.lastName), emails, phones: new Set([...input.phones, ...extra.phones]), orgs };
}

/**
 * The keys under which a contact is compared with others. Names key on the formal first
 * name and the last name in either order (so Bob Smith, Robert Smith and Smith Robert meet);
 * an initial only meets within an organisation.
 */
export function blockingKeys(profile: MatchProfile): string[] {
  const keys = new Set<string>();
  for (const email of profile.emails.keys()) keys.add(`e:${email}`);
  for (const phone of profile.phones) keys.add(`p:${phone}`);
  const { first, last } = profile;
  if (first && last) {
    const lastForms = [...new Set([last.joined, last.words[last.words.length - 1]!])];
    for (const lastForm of lastForms) {
      for (const firstGroup of first.groups) {
        for (const lastGroup of givenNameGroups(lastForm)) keys.add(`n:${[firstGroup, lastGroup].sort().join('|')}`);
      }
      for (const org of profile.orgs.keys()) {
        if (!org.startsWith('id:')) keys.add(`o:${org}|${lastForm}|${first.joined[0]}`);
      }
    }
  }
  return [...keys];
}

// ---------------------------------------------------------------- scoring

interface Relation {
  similarity: number;
  /** Why, when it is more than "the same". */
  reason: string | null;
}

const unrelated: Relation = { similarity: 0, reason: null };

/** How alike two name parts are: the same, a nickname, an initial, one word of the other, or a near spelling. */
function partRelation(a: NamePart, b: NamePart, kind: 'first' | 'last'): Relation {
  if (a.joined === b.joined) return { similarity: 1, reason: null };
  const pair = `${a.raw}/${b.raw}`;
  if (a.groups.some((group) => b.groups.includes(group))) return { similarity: 0.9, reason: `nickname ${pair}` };
  if (kind === 'first' && (isInitialOf(a, b) || isInitialOf(b, a))) return { similarity: 0.75, reason: `initial ${pair}` };
  if ((a.words.length > 1 && a.words.includes(b.joined)) || (b.words.length > 1 && b.words.includes(a.joined))) {
    return { similarity: 0.85, reason: `${kind} names ${pair}` };
  }
  const similarity = jaroWinkler(a.joined, b.joined);
  if (similarity >= 0.88) return { similarity: similarity * 0.95, reason: `similar ${kind} names ${pair}` };
  return unrelated;
}

function isInitialOf(initial: NamePart, name: NamePart): boolean {
  return initial.joined.length === 1 && name.joined.length > 1 && name.joined.startsWith(initial.joined);
}

/** Name similarity in [0, 1] and its reasons, in the written order or with first and last swapped. */
export function compareNames(a: MatchProfile, b: MatchProfile): Relation & { reasons: string[] } {
  if (!a.first || !a.last || !b.first || !b.last) return { similarity: 0, reason: null, reasons: [] };
  const combine = (first: Relation, last: Relation, factor: number, extra: string[]) => ({
    similarity: first.similarity * last.similarity * factor,
    reasons: [...extra, ...[first.reason, last.reason].filter((reason): reason is string => reason !== null)],
  });
  const straight = combine(partRelation(a.first, b.first, 'first'), partRelation(a.last, b.last, 'last'), 1, []);
  const swapped = combine(partRelation(a.first, b.last, 'first'), partRelation(a.last, b.first, 'last'), 0.95, ['transposed names']);
  const best = swapped.similarity > straight.similarity ? swapped : straight;
  if (best === straight && straight.similarity === 1) best.reasons.push(sameNameReason(a, b));
  return { similarity: best.similarity, reason: null, reasons: best.reasons };
}

/** The folded names are equal; say whether they were written differently, and how. */
function sameNameReason(a: MatchProfile, b: MatchProfile): string {
  const written = (profile: MatchProfile) => `${profile.first!.raw} ${profile.last!.raw}`;
  const lower = (profile: MatchProfile) => written(profile).normalize('NFC').toLocaleLowerCase();
  if (lower(a) === lower(b)) return 'same name';
  const withoutMarks = (profile: MatchProfile) => lower(profile).normalize('NFKD').replace(/\p{M}/gu, '');
  const kind = withoutMarks(a) === withoutMarks(b) ? 'accent variant' : 'spelling variant';
  return `${kind} ${written(a)}/${written(b)}`;
}

/**
 * How likely two contacts are one person, with the reasons. Each piece of evidence has a
 * weight; independent evidence combines as 1 - Π(1 - w), so two weak signals make a
 * stronger one and nothing reaches 1.
 */
export function scorePair(a: MatchProfile, b: MatchProfile): PairScore {
  const evidence: Array<{ weight: number; reason: string }> = [];
  const names = compareNames(a, b);
  const firstNamesDiffer = Boolean(a.first && b.first) && names.similarity === 0 && partRelation(a.first!, b.first!, 'first').similarity === 0;
  const shared = (weight: number, what: string) =>
    evidence.push(firstNamesDiffer ? { weight: weights.sharedButNamesDiffer, reason: `${what} (different first names)` } : { weight, reason: what });

  for (const [canonical, written] of a.emails) {
    const other = b.emails.get(canonical);
    if (other !== undefined) shared(weights.email, other === written ? `same email ${written}` : `same email written differently ${written}/${other}`);
  }
  for (const phone of a.phones) if (b.phones.has(phone)) shared(weights.phone, `same phone ${phone}`);

  if (names.similarity >= nameEvidenceFloor) {
    evidence.push({ weight: weights.name * names.similarity, reason: names.reasons.join(', ') });
    const organisation = [...a.orgs.keys()].find((key) => b.orgs.has(key));
    if (organisation) {
      const how = names.similarity === 1 ? 'same name' : 'similar name';
      evidence.push({ weight: weights.nameAtSameOrganisation * names.similarity, reason: `${how} at same ${a.orgs.get(organisation)!}` });
    }
  }
  const score = 1 - evidence.reduce((remaining, { weight }) => remaining * (1 - weight), 1);
  return { score: Math.round(score * 1000) / 1000, reasons: evidence.map(({ reason }) => reason) };
}

/**
 * Every pair within one block that scores at least the floor, each pair once, ordered by id
 * (a < b) as duplicate_candidates stores them.
 */
export function scoreBlock(profiles: readonly MatchProfile[]): Array<PairScore & { contactAId: string; contactBId: string }> {
  const pairs: Array<PairScore & { contactAId: string; contactBId: string }> = [];
  const sorted = [...profiles].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  for (let i = 0; i < sorted.length; i += 1) {
    for (let j = i + 1; j < sorted.length; j += 1) {
      const result = scorePair(sorted[i]!, sorted[j]!);
      if (result.score >= candidateScoreFloor) pairs.push({ contactAId: sorted[i]!.id, contactBId: sorted[j]!.id, ...result });
    }
  }
  return pairs;
}

/** Jaro-Winkler similarity (prefix scale 0.1, up to 4 characters), the usual measure for short names. */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length === 0 || b.length === 0) return 0;
  const window = Math.max(0, Math.floor(Math.max(a.length, b.length) / 2) - 1);
  const aMatched = new Array<boolean>(a.length).fill(false);
  const bMatched = new Array<boolean>(b.length).fill(false);
  let matches = 0;
  for (let i = 0; i < a.length; i += 1) {
    for (let j = Math.max(0, i - window); j <= Math.min(b.length - 1, i + window); j += 1) {
      if (!bMatched[j] && a[i] === b[j]) {
        aMatched[i] = bMatched[j] = true;
        matches += 1;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  for (let i = 0, j = 0; i < a.length; i += 1) {
    if (!aMatched[i]) continue;
    while (!bMatched[j]) j += 1;
    if (a[i] !== b[j]) transpositions += 1;
    j += 1;
  }
  const jaro = (matches / a.length + matches / b.length + (matches - transpositions / 2) / matches) / 3;
  let prefix = 0;
  while (prefix < Math.min(4, a.length, b.length) && a[prefix] === b[prefix]) prefix += 1;
  return jaro + prefix * 0.1 * (1 - jaro);
}
