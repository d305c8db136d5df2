import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/**
 * Retry shapes shared by the entity workflows, so a contact, a deal and an enrollment retry a
 * database step or a send the same way. Each workflow adds only what is its own (a longer
 * timeout, the errors it treats as final).
 */

/** Short database steps: a second apart at first, never more than a minute. */
export const quickStepOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
} as const satisfies ActivityOptions;

/**
 * A background job's page (a bulk enrollment's contacts, a migration's enrollments): seconds to
 * minutes of work, a heartbeat per item so a dead worker's page is noticed and done again.
 */
export const pageOptions = {
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
} as const satisfies ActivityOptions;

/**
 * One provider call through the outbox (exactly once by its business key whatever the
 * retries). 30 s is the provider timeout (PROVIDER_TIMEOUT_MS, 20 s) plus the outbox writes;
 * also how long a send whose worker died waits before another worker takes it over.
 */
export const sendOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
} as const satisfies ActivityOptions;

/**
 * One outbound webhook delivery: 10 attempts 2 s, 4 s, 8 s ... apart (at most 5 minutes), about
 * 14 minutes in all; the activity itself fails for good on a 4xx other than 408 and 429 and on a
 * refused address. A regular activity: the server keeps the retry schedule, and a pending
 * delivery shows its attempt and last failure in the Temporal Web UI.
 */
export const webhookOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
} as const satisfies ActivityOptions;

/**
 * As a local activity: same retries and durability of the result, no round trip through the
 * server per step; retry waits past the threshold become durable timers.
 */
export function asLocal(options: ActivityOptions): LocalActivityOptions {
  return { ...options, localRetryThreshold: '10 seconds' };
}

/** Errors that retrying cannot fix: a template that is missing or does not render. */
export const templateFailureTypes = ['TemplateError', 'NotFoundError'];
