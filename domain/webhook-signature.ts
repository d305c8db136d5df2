import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signatures of outbound webhooks, in the scheme Stripe made familiar:
 *
 *   Touchpoint-Signature: t=1764115200,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
 *
 * `t` is the Unix time of the attempt in seconds, `v1` the hex HMAC-SHA256, keyed with the
 * trigger's signing secret, of `{t}.{raw request body}`. A receiver recomputes it over the raw
 * bytes it received (never a re-serialised body), compares in constant time and refuses a `t`
 * too far from its clock, which stops replays of a captured request. Each attempt is signed
 * afresh; several `v1` entries may appear, and one matching is enough. Uses node:crypto, so it is
 * for activities, the API and receivers, never workflow code.
 */
export const signatureHeader = 'Touchpoint-Signature';
export const deliveryHeader = 'Touchpoint-Delivery';
export const eventHeader = 'Touchpoint-Event';

/** A new signing secret: 32 random bytes, prefixed so it is recognisable in a config file. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export function signatureOf(secret: string, timestampSeconds: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex');
}

/** The header value for one attempt. */
export function signWebhook(secret: string, rawBody: string, timestampSeconds = Math.floor(Date.now() / 1000)): string {
  return `t=${timestampSeconds},v1=${signatureOf(secret, timestampSeconds, rawBody)}`;
}

export type VerifyResult = { ok: true; timestamp: number } | { ok: false; reason: 'malformed' | 'too_old' | 'mismatch' };

/** What a receiver does with the header and the raw body; `toleranceSeconds` bounds replays. */
export function verifyWebhookSignature(header: string | undefined, rawBody: string | Buffer, secret: string, options: { toleranceSeconds?: number; nowMs?: number } = {}): VerifyResult {
  if (!header) return { ok: false, reason: 'malformed' };
  let timestamp: number | null = null;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (timestamp === null || candidates.length === 0) return { ok: false, reason: 'malformed' };
  const nowSeconds = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > (options.toleranceSeconds ?? 300)) return { ok: false, reason: 'too_old' };
  const expected = Buffer.from(signatureOf(secret, timestamp, rawBody), 'hex');
  const matches = candidates.some((candidate) => timingSafeEqual(Buffer.from(candidate, 'hex'), expected));
  return matches ? { ok: true, timestamp } : { ok: false, reason: 'mismatch' };
}
