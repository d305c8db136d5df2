/**
 * What went wrong talking to a provider, in the terms the outbox decides on. Every provider
 * maps its client's errors to this one type, so the exactly-once logic (outbox.ts) has no
 * provider-specific branches.
 *
 * - `ambiguous`: the request may have reached the provider and been accepted (timeout after
 *   sending, connection reset, 5xx). The message is `unknown` and must be reconciled before
 *   any resend.
 * - `retryable` and not ambiguous: the provider certainly did not take it (429, connection
 *   refused before anything was sent); trying again is safe.
 * - neither: the provider refused it for good (4xx other than 429); the message is failed.
 */
export interface ProviderErrorDetails {
  /** HTTP status of the provider's answer; null when there was no answer. */
  status: number | null;
  retryable: boolean;
  ambiguous: boolean;
  /** From the provider's Retry-After header, when it sent one. */
  retryAfterMs?: number;
  /** The provider's own explanation, safe to show a user (no credentials, no message body). */
  reason: string;
  /** Provider error code where it has one (Twilio 21211, a Node socket code, ...). */
  code?: string;
}

export class ProviderError extends Error {
  readonly status: number | null;
  readonly retryable: boolean;
  readonly ambiguous: boolean;
  readonly retryAfterMs: number | undefined;
  readonly reason: string;
  readonly code: string | undefined;

  constructor(readonly provider: string, details: ProviderErrorDetails) {
    super(`${provider}: ${details.reason}`);
    this.name = 'ProviderError';
    this.status = details.status;
    this.retryable = details.retryable;
    this.ambiguous = details.ambiguous;
    this.retryAfterMs = details.retryAfterMs;
    this.reason = details.reason;
    this.code = details.code;
  }
}

/**
 * Socket errors raised before the request could have left this machine: retrying cannot
 * send twice. Everything else without an HTTP answer (timeouts, resets, unknown codes) may
 * have been received, so it counts as ambiguous.
 */
const notSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ERR_INVALID_URL']);

/** Maps an HTTP answer (status, headers, reason) to the outbox's terms. */
export function fromHttpStatus(provider: string, status: number, reason: string, headers: Record<string, unknown> = {}, code?: string): ProviderError {
  const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'));
  if (status === 429) return new ProviderError(provider, { status, retryable: true, ambiguous: false, reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }), ...(code ? { code } : {}) });
  if (status >= 500) return new ProviderError(provider, { status, retryable: true, ambiguous: true, reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }), ...(code ? { code } : {}) });
  return new ProviderError(provider, { status, retryable: false, ambiguous: false, reason, ...(code ? { code } : {}) });
}

/** Maps a transport error (no HTTP answer) from axios, which both official clients use. */
export function fromTransportError(provider: string, error: unknown): ProviderError {
  const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (code && notSentCodes.has(code)) {
    return new ProviderError(provider, { status: null, retryable: true, ambiguous: false, reason: `not sent: ${message}`, code });
  }
  return new ProviderError(provider, { status: null, retryable: true, ambiguous: true, reason: `no answer: ${message}`, ...(code ? { code } : {}) });
}

function headerValue(headers: Record<string, unknown>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : value === undefined || value === null ? undefined : String(value);
  }
  return undefined;
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
