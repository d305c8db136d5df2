import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Unsubscribe tokens: the only credential behind `/u/{token}` and the List-Unsubscribe
 * headers, so they must be impossible to forge or to turn into another contact's token.
 *
 * Layout before base64url: version (1 byte) | contact id (16 bytes, the UUID) | channel
 * (1 byte) | issued at (4 bytes, Unix seconds) | HMAC-SHA256 over everything before it,
 * truncated to 16 bytes. 38 bytes = 51 characters, short enough for a mailto subject.
 * There is no expiry: a recipient must be able to unsubscribe from an old email too.
 * Uses node:crypto, so it is for the API and activities, not for workflow code.
 */

export type UnsubscribeChannel = 'email' | 'sms';

export interface UnsubscribeClaims {
  contactId: string;
  channel: UnsubscribeChannel;
  issuedAt: Date;
}

const version = 1;
const payloadLength = 1 + 16 + 1 + 4;
const macLength = 16;
const tokenLength = payloadLength + macLength;
const channelCodes: Record<UnsubscribeChannel, number> = { email: 1, sms: 2 };
const channelsByCode = new Map<number, UnsubscribeChannel>([
  [1, 'email'],
  [2, 'sms'],
]);
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Separates these MACs from any other use of the same secret. */
const macContext = 'touchpoint/unsubscribe/v1:';

export const minimumSecretLength = 32;

function mac(secret: string, payload: Buffer): Buffer {
  return createHmac('sha256', secret).update(macContext).update(payload).digest().subarray(0, macLength);
}

function assertSecret(secret: string | undefined): asserts secret is string {
  if (!secret || secret.length < minimumSecretLength) {
    throw new Error(`UNSUBSCRIBE_SECRET must be set to at least ${minimumSecretLength} characters to create or check unsubscribe links`);
  }
}

export function createUnsubscribeToken(secret: string | undefined, claims: { contactId: string; channel: UnsubscribeChannel; issuedAt?: Date }): string {
  assertSecret(secret);
  if (!uuidPattern.test(claims.contactId)) throw new Error(`Contact id ${claims.contactId} is not a UUID`);
  const payload = Buffer.alloc(payloadLength);
  payload.writeUInt8(version, 0);
  Buffer.from(claims.contactId.replaceAll('-', ''), 'hex').copy(payload, 1);
  payload.writeUInt8(channelCodes[claims.channel], 17);
  payload.writeUInt32BE(Math.floor((claims.issuedAt ?? new Date()).getTime() / 1000), 18);
  return Buffer.concat([payload, mac(secret, payload)]).toString('base64url');
}

/** The claims of a genuine token, or null for anything else (never an exception: it is user input). */
export function verifyUnsubscribeToken(secret: string | undefined, token: string): UnsubscribeClaims | null {
  assertSecret(secret);
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const bytes = Buffer.from(token, 'base64url');
  // Only the canonical spelling counts, so one token has exactly one URL.
  if (bytes.length !== tokenLength || bytes.toString('base64url') !== token) return null;
  const payload = bytes.subarray(0, payloadLength);
  if (!timingSafeEqual(mac(secret, payload), bytes.subarray(payloadLength))) return null;
  if (payload.readUInt8(0) !== version) return null;
  const channel = channelsByCode.get(payload.readUInt8(17));
  if (!channel) return null;
  const hex = payload.subarray(1, 17).toString('hex');
  const contactId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { contactId, channel, issuedAt: new Date(payload.readUInt32BE(18) * 1000) };
}

/** The configuration the links need (a structural slice of runtime/config's Config). */
export interface UnsubscribeLinkConfig {
  UNSUBSCRIBE_SECRET?: string | undefined;
  PUBLIC_URL?: string | undefined;
  PORT: number;
  REPLY_DOMAIN?: string | undefined;
  EMAIL_FROM: string;
}

export interface UnsubscribeLinks {
  /** `${PUBLIC_URL}/u/{token}`: GET shows a confirmation page, POST unsubscribes (RFC 8058). */
  url: string;
  /** `mailto:unsubscribe@{domain}?subject=unsubscribe-{token}`, received by Inbound Parse. */
  mailto: string;
}

export function unsubscribeLinks(config: UnsubscribeLinkConfig, contactId: string, channel: UnsubscribeChannel, issuedAt?: Date): UnsubscribeLinks {
  const token = createUnsubscribeToken(config.UNSUBSCRIBE_SECRET, { contactId, channel, ...(issuedAt ? { issuedAt } : {}) });
  // Same fallback as publicUrl() in runtime/config, which domain/ may not import.
  const base = (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '');
  const domain = config.REPLY_DOMAIN ?? config.EMAIL_FROM.slice(config.EMAIL_FROM.lastIndexOf('@') + 1);
  return { url: `${base}/u/${token}`, mailto: `mailto:unsubscribe@${domain}?subject=unsubscribe-${token}` };
}

/**
 * Headers for every marketing email: RFC 2369 List-Unsubscribe with the one-click HTTPS link
 * first and the mailto fallback, and RFC 8058 List-Unsubscribe-Post so mailbox providers
 * (Gmail, Yahoo bulk-sender rules) offer their own unsubscribe button.
 */
export function listUnsubscribeHeaders(config: UnsubscribeLinkConfig, contactId: string, issuedAt?: Date): Record<'List-Unsubscribe' | 'List-Unsubscribe-Post', string> {
  const links = unsubscribeLinks(config, contactId, 'email', issuedAt);
  return {
    'List-Unsubscribe': `<${links.url}>, <${links.mailto}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

/** Pulls the token out of an unsubscribe email's subject (`unsubscribe-{token}`, maybe behind Re:). */
export function tokenFromUnsubscribeSubject(subject: string): string | null {
  const match = /(?:^|\s|:)unsubscribe-([A-Za-z0-9_-]{20,100})\s*$/i.exec(subject.trim());
  return match ? match[1]! : null;
}
