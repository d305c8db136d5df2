import type { FieldError } from './errors';

/**
 * The rules of the consent ledger, without I/O. Every grant and revocation is appended to the
 * ledger (ConsentEvent) as evidence; the current state per channel (ContactConsent) follows
 * the most recent expression. api/services/consent.ts applies these rules in a transaction.
 */

export type ConsentChannel = 'email' | 'sms';
export type ConsentStatus = 'granted' | 'revoked';

/** Where a consent change came from; `form:{key}` names the website form. */
export type ConsentSource =
  | `form:${string}`
  | 'import'
  | 'api'
  | 'unsubscribe_link'
  | 'list_unsubscribe'
  | 'sms_keyword'
  | 'spam_report'
  | 'provider';

const fixedSources = new Set<string>(['import', 'api', 'unsubscribe_link', 'list_unsubscribe', 'sms_keyword', 'spam_report', 'provider']);
const formSource = /^form:[A-Za-z0-9_-]{1,64}$/;

/** Sources through which a person can only say no: an unsubscribe link never grants anything. */
const revokeOnlySources = new Set<string>(['unsubscribe_link', 'list_unsubscribe', 'spam_report']);

/** Sources that exist for one channel only (a spam complaint is about an email, STOP about a text). */
const sourceChannel: Record<string, ConsentChannel> = {
  list_unsubscribe: 'email',
  spam_report: 'email',
  sms_keyword: 'sms',
};

export interface ConsentChange {
  contactId: string;
  channel: ConsentChannel;
  status: ConsentStatus;
  source: ConsentSource;
  /** How it was expressed, e.g. checkbox, one_click, keyword:STOP, sendgrid:group_unsubscribe. */
  method?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  /** What proves it: message ids, provider event ids, the token's issue time, the SMS body. */
  evidence?: Record<string, unknown>;
  /** When the person expressed it (a provider event's own time); defaults to now. */
  at?: Date;
}

export interface CurrentConsent {
  status: ConsentStatus;
  source: string;
  at: Date;
}

export function isConsentSource(value: string): value is ConsentSource {
  return fixedSources.has(value) || formSource.test(value);
}

/** Everything wrong with a change, as field errors; empty when it may be recorded. */
export function consentChangeErrors(change: Pick<ConsentChange, 'channel' | 'status' | 'source' | 'method'>): FieldError[] {
  const errors: FieldError[] = [];
  if (change.channel !== 'email' && change.channel !== 'sms') errors.push({ field: 'channel', message: 'must be email or sms' });
  if (change.status !== 'granted' && change.status !== 'revoked') errors.push({ field: 'status', message: 'must be granted or revoked' });
  if (!isConsentSource(change.source)) {
    errors.push({ field: 'source', message: `"${String(change.source)}" is not a consent source` });
    return errors;
  }
  if (revokeOnlySources.has(change.source) && change.status === 'granted') {
    errors.push({ field: 'status', message: `${change.source} can only revoke consent` });
  }
  const only = sourceChannel[change.source];
  if (only && change.channel !== only) errors.push({ field: 'channel', message: `${change.source} applies to ${only} only` });
  if (change.method !== undefined && change.method !== null && (change.method.length === 0 || change.method.length > 100)) {
    errors.push({ field: 'method', message: 'must be 1-100 characters' });
  }
  return errors;
}

/**
 * Whether the change becomes the current state. Provider webhooks arrive late and out of order,
 * so an expression older than the current one is kept as evidence but does not override it
 * (a spam report from yesterday must not undo this morning's re-subscription, nor the reverse).
 */
export function becomesCurrent(current: CurrentConsent | null, change: { at: Date }): boolean {
  return current === null || change.at.getTime() >= current.at.getTime();
}

/** Audit action name of a change. */
export function consentAuditAction(status: ConsentStatus): string {
  return status === 'granted' ? 'consent.granted' : 'consent.revoked';
}
