import type { FieldError } from './errors';
import type { LifecycleStage } from './schemas/common';

/**
 * Survivorship: what a contact looks like after others are merged into it, decided from the
 * before images alone, so the rules are testable without a database and the audit log can
 * say where each value came from. api/services/contact-merge.ts applies the decision.
 *
 * - Single values (name, owner, company, time zone, country): the newest non-empty value wins, newest
 *   by the record's last update, unless the request picks the contact to take it from.
 * - source: the earliest record's, since it is where the person first came from.
 * - Custom fields: per field, as single values (pick one with `customFields.<name>`).
 * - lifecycleStage: the furthest (lead < mql < sql < customer). at_risk and churned are
 *   states of a customer and rank with it; between them customer beats at_risk beats
 *   churned, because a purchase on any record is real and the re-engagement clock runs from
 *   the merged last purchase.
 * - score: the highest, with its as-of time. Not the sum: score thresholds move lifecycle
 *   stages, and merging two half-engaged records is no new engagement.
 * - lastPurchaseAt: the latest. tags: the union.
 * - Email addresses and phone numbers: all kept; the survivor's primary stays primary, a
 *   merged contact's become secondary (the newest merged primary is promoted only when the
 *   survivor has none).
 * - Consent, per channel: the most restrictive current state. A revocation on any record
 *   stays revoked; otherwise the newest grant.
 */

export interface MergeConsent {
  channel: 'email' | 'sms';
  status: 'granted' | 'revoked';
  source: string;
  at: Date;
}

/** The contact fields a merge decides, as the survivor ends up with them. */
interface MergedFields {
  firstName: string | null;
  lastName: string | null;
  ownerId: string | null;
  companyId: string | null;
  source: string | null;
  timeZone: string | null;
  country: string | null;
  lifecycleStage: LifecycleStage;
  score: number;
  scoreAsOf: Date | null;
  lastPurchaseAt: Date | null;
  tags: string[];
  customFields: Record<string, unknown>;
}

/** A contact as the merge reads it (its before image). */
export interface MergeImage extends Omit<MergedFields, 'tags' | 'customFields'> {
  id: string;
  tags: readonly string[];
  customFields: Readonly<Record<string, unknown>>;
  emails: ReadonlyArray<{ address: string; isPrimary: boolean }>;
  phones: ReadonlyArray<{ e164: string; isPrimary: boolean }>;
  consents: readonly MergeConsent[];
  createdAt: Date;
  updatedAt: Date;
}

/** Fields whose source contact a merge request may pick, besides `customFields.<name>`. */
export const pickableFields = ['firstName', 'lastName', 'ownerId', 'companyId', 'source', 'timeZone', 'country'] as const;
type PickableField = (typeof pickableFields)[number];

const customFieldPick = /^customFields\.([a-zA-Z][a-zA-Z0-9_]{0,63})$/;

export type MergeRule = 'picked' | 'newest' | 'earliest' | 'furthest' | 'highest' | 'latest' | 'union' | 'kept' | 'most_restrictive';

/** Where a value came from: the contact (null when no record had one) and the rule that chose it. */
export interface MergeDecision {
  from: string | null;
  rule: MergeRule;
}

export interface MergedContact extends MergedFields {
  primaryEmail: string | null;
  primaryPhone: string | null;
  /** Per channel, the state the survivor ends with and the contact it came from. */
  consents: Array<MergeConsent & { fromContactId: string }>;
  decisions: Record<string, MergeDecision>;
}

/** Stage order for "furthest wins"; the customer states are ordered among themselves as documented above. */
const stageRank: Record<LifecycleStage, number> = { lead: 0, mql: 1, sql: 2, churned: 3, at_risk: 4, customer: 5 };

/** Problems with a request's picks, as field errors (empty when it is fine). */
export function mergePickErrors(picks: Readonly<Record<string, string>>, contactIds: readonly string[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const [field, contactId] of Object.entries(picks)) {
    if (!(pickableFields as readonly string[]).includes(field) && !customFieldPick.test(field)) {
      errors.push({ field: `pick/${field}`, message: `cannot be picked; pick one of ${pickableFields.join(', ')} or customFields.<name>` });
    } else if (!contactIds.includes(contactId)) {
      errors.push({ field: `pick/${field}`, message: 'must be the survivor or one of mergeIds' });
    }
  }
  return errors;
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

const byTime = (time: (image: MergeImage) => Date, direction: 1 | -1) => (a: MergeImage, b: MergeImage) => direction * (time(a).getTime() - time(b).getTime());

export function decideMerge(survivor: MergeImage, losers: readonly MergeImage[], picks: Readonly<Record<string, string>> = {}): MergedContact {
  const all = [survivor, ...losers];
  // Stable sorts keep the survivor first among equals.
  const newestFirst = [...all].sort(byTime((image) => image.updatedAt, -1));
  const earliestFirst = [...all].sort(byTime((image) => image.createdAt, 1));
  const byId = new Map(all.map((image) => [image.id, image]));
  const decisions: Record<string, MergeDecision> = {};

  function choose<T>(field: string, read: (image: MergeImage) => T | null | undefined, order: readonly MergeImage[], rule: MergeRule): T | null {
    const picked = picks[field] === undefined ? undefined : byId.get(picks[field]!);
    if (picked) {
      decisions[field] = { from: picked.id, rule: 'picked' };
      const value = read(picked);
      return isEmpty(value) ? null : (value as T);
    }
    const winner = order.find((image) => !isEmpty(read(image)));
    decisions[field] = { from: winner?.id ?? null, rule };
    return winner ? (read(winner) as T) : null;
  }
  const single = (field: PickableField) => choose<string>(field, (image) => image[field], newestFirst, 'newest');

  const customFields: Record<string, unknown> = {};
  for (const name of new Set(all.flatMap((image) => Object.keys(image.customFields)))) {
    const value = choose<unknown>(`customFields.${name}`, (image) => image.customFields[name], newestFirst, 'newest');
    if (value !== null) customFields[name] = value;
  }

  const furthest = [...all].sort((a, b) => stageRank[b.lifecycleStage] - stageRank[a.lifecycleStage])[0]!;
  decisions.lifecycleStage = { from: furthest.id, rule: 'furthest' };
  const highest = [...all].sort((a, b) => b.score - a.score)[0]!;
  decisions.score = { from: highest.id, rule: 'highest' };
  const purchases = all.filter((image) => image.lastPurchaseAt !== null).sort(byTime((image) => image.lastPurchaseAt!, -1));
  decisions.lastPurchaseAt = { from: purchases[0]?.id ?? null, rule: 'latest' };
  decisions.tags = { from: null, rule: 'union' };

  return {
    firstName: single('firstName'),
    lastName: single('lastName'),
    ownerId: single('ownerId'),
    companyId: single('companyId'),
    timeZone: single('timeZone'),
    country: single('country'),
    source: choose<string>('source', (image) => image.source, earliestFirst, 'earliest'),
    lifecycleStage: furthest.lifecycleStage,
    score: highest.score,
    scoreAsOf: highest.scoreAsOf,
    lastPurchaseAt: purchases[0]?.lastPurchaseAt ?? null,
    tags: [...new Set(all.flatMap((image) => image.tags))],
    customFields,
    primaryEmail: primaryOf(survivor, losers, newestFirst, (image) => image.emails.map((email) => ({ value: email.address, isPrimary: email.isPrimary })), 'primaryEmail', decisions),
    primaryPhone: primaryOf(survivor, losers, newestFirst, (image) => image.phones.map((phone) => ({ value: phone.e164, isPrimary: phone.isPrimary })), 'primaryPhone', decisions),
    consents: mostRestrictiveConsents(all, decisions),
    decisions,
  };
}

function primaryOf(
  survivor: MergeImage,
  losers: readonly MergeImage[],
  newestFirst: readonly MergeImage[],
  addresses: (image: MergeImage) => Array<{ value: string; isPrimary: boolean }>,
  field: string,
  decisions: Record<string, MergeDecision>,
): string | null {
  const primary = (image: MergeImage) => {
    const list = addresses(image);
    return (list.find((address) => address.isPrimary) ?? list[0])?.value;
  };
  const own = primary(survivor);
  if (own !== undefined) {
    decisions[field] = { from: survivor.id, rule: 'kept' };
    return own;
  }
  const donor = newestFirst.find((image) => losers.includes(image) && primary(image) !== undefined);
  decisions[field] = { from: donor?.id ?? null, rule: 'newest' };
  return donor ? primary(donor)! : null;
}

function mostRestrictiveConsents(all: readonly MergeImage[], decisions: Record<string, MergeDecision>): MergedContact['consents'] {
  const result: MergedContact['consents'] = [];
  for (const channel of ['email', 'sms'] as const) {
    const states = all
      .flatMap((image) => image.consents.filter((consent) => consent.channel === channel).map((consent) => ({ ...consent, fromContactId: image.id })))
      .sort((a, b) => b.at.getTime() - a.at.getTime());
    const chosen = states.find((state) => state.status === 'revoked') ?? states[0];
    if (!chosen) continue;
    decisions[`consent.${channel}`] = { from: chosen.fromContactId, rule: 'most_restrictive' };
    result.push(chosen);
  }
  return result;
}
