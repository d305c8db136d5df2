import { z } from 'zod';
import { isValidTimeZone } from '../domain/business-time';

/**
 * The one home of every configuration value. Everything comes from the environment so the
 * same build runs locally, in CI and in production; `loadConfig` fails at start-up with one
 * line per bad variable instead of failing later at first use.
 */
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

function portNumber(fallback: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z.coerce.number().int().min(0).max(65535).default(fallback),
  );
}

/** Values never echoed in error messages: they may hold passwords or tokens. */
const secretVariables = new Set(['DATABASE_URL', 'TEMPORAL_API_KEY', 'SENDGRID_API_KEY', 'TWILIO_AUTH_TOKEN', 'UNSUBSCRIBE_SECRET', 'SENDGRID_INBOUND_SECRET']);

const configSchema = z
  .object({
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }),
    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. localhost:7233')
      .default('localhost:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('touchpoint'),
    TEMPORAL_TLS_CERT_PATH: optionalString,
    TEMPORAL_TLS_KEY_PATH: optionalString,
    TEMPORAL_TLS_SERVER_NAME: optionalString,
    TEMPORAL_API_KEY: optionalString,
    // An empty PORT means unset (as for the optional strings), not Number('') = port 0.
    PORT: portNumber(3000),
    /** The standalone worker serves /metrics and /healthz here; 0 turns the listener off. */
    WORKER_METRICS_PORT: portNumber(9464),
    /**
     * Workflows the worker keeps in memory between their tasks (each costs one to two MiB);
     * unset, the SDK sizes it from the heap limit. Long-lived, mostly idle workflows (one per
     * open deal) replay cheaply when their timer fires, so a smaller cache trades little CPU for
     * much memory.
     */
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).optional(),
    /** PostgreSQL connections per process; all processes together must stay under max_connections. */
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
    LOG_LEVEL: z.enum(logLevels).default('info'),
    /** Base URL the API is reached at from outside (OpenAPI server URL, links in messages). */
    PUBLIC_URL: optionalString,
    /** Largest JSON body the API accepts. */
    BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb or 1mb').default('100kb'),
    /** Form submissions allowed per client IP per minute. */
    FORM_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(60),
    EMAIL_FROM: z.email().default('hello@touchpoint.local'),
    EMAIL_FROM_NAME: z.string().default('Touchpoint'),
    /** Comma-separated CIDRs or `loopback` for Express's trust proxy (client IPs for rate limits). */
    TRUST_PROXY: optionalString,

    // Messaging. Without provider credentials each channel runs in capture mode.
    SENDGRID_API_KEY: optionalString,
    /** Where the SendGrid client sends requests; tests point it at the local fake. */
    SENDGRID_API_BASE_URL: z.url().default('https://api.sendgrid.com'),
    /** ECDSA public key (base64) of the Signed Event Webhook. */
    SENDGRID_WEBHOOK_PUBLIC_KEY: optionalString,
    /** Oldest webhook timestamp accepted, against replays of captured requests. */
    SENDGRID_WEBHOOK_MAX_AGE_SECONDS: z.coerce.number().int().positive().default(600),
    /** Secret path segment of the Inbound Parse URL: /v1/webhooks/sendgrid/inbound/{secret}. */
    SENDGRID_INBOUND_SECRET: optionalString,
    TWILIO_ACCOUNT_SID: optionalString,
    TWILIO_AUTH_TOKEN: optionalString,
    /** Sender: a phone number in E.164 or a Messaging Service SID (MG...). */
    TWILIO_FROM: optionalString,
    /** Where the Twilio client sends requests; tests point it at the local fake. */
    TWILIO_API_BASE_URL: z.url().default('https://api.twilio.com'),
    /** Base URL Twilio calls webhooks on, as Twilio sees it (signatures cover it); default PUBLIC_URL. */
    TWILIO_WEBHOOK_BASE_URL: optionalString,
    // Optional without a default so the parsed config lists only what was set; the defaults
    // (20 s, 600 s) live in activities/providers/index.ts next to their use.
    /** Longest wait for a provider's answer before the send counts as ambiguous (ms). */
    PROVIDER_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
    /** How long an ambiguous send waits for provider evidence before it is resent once (s). */
    MESSAGE_RECONCILE_WINDOW_SECONDS: z.coerce.number().int().positive().optional(),
    SMS_HELP_TEXT: z.string().min(1).default('Touchpoint: reply STOP to unsubscribe, START to resubscribe.'),
    /** HMAC secret of unsubscribe links; at least 32 characters. Required by the API and worker. */
    UNSUBSCRIBE_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Postal address printed in every marketing email footer (CAN-SPAM). */
    SENDER_POSTAL_ADDRESS: z.string().min(1).default('Touchpoint Demo Inc., 1 Example Street, Springfield, USA'),
    /** Domain of reply-to addresses (reply+{token}@domain) that Inbound Parse receives. */
    REPLY_DOMAIN: optionalString,
    QUIET_HOURS_ENABLED: z.stringbool().default(true),
    /** Local time in the contact's zone when SMS quiet hours start and end (HH:MM). */
    QUIET_HOURS_START: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM').default('21:00'),
    QUIET_HOURS_END: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM').default('08:00'),
    /** Most marketing messages per contact in a rolling 7 days; 0 turns the cap off. */
    FREQUENCY_CAP_PER_7_DAYS: z.coerce.number().int().min(0).default(5),
    /** What happens to a send over the cap: wait until it fits, or skip it. */
    FREQUENCY_CAP_POLICY: z.enum(['defer', 'skip']).default('defer'),

    // Outbound webhooks of stage-move triggers.
    /** Hosts trigger webhooks may call over plain http (comma-separated, e.g. a local relay); all others need https. */
    WEBHOOK_HTTP_ALLOWED_HOSTS: z
      .string()
      .default('')
      .transform((value) => value.split(',').map((host) => host.trim().toLowerCase()).filter(Boolean)),
    /**
     * Lets trigger webhooks reach private, loopback and link-local addresses (SSRF guard off).
     * Off by default: only public addresses, checked on every resolved address at delivery.
     */
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: z.stringbool().default(false),
    /** Longest wait for a webhook receiver's answer (ms); under the 30 s limit of the delivering activity. */
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().max(25_000).default(10_000),
    /** Contacts per page of a bulk enrollment: one activity and one counted commit per page. */
    BULK_ENROLLMENT_PAGE_SIZE: z.coerce.number().int().min(1).max(5000).default(500),

    // The daily overdue-task digest (schedule:overdue-digest), ensured by the worker at start.
    /** Local hour (0-23) in OVERDUE_DIGEST_TIME_ZONE at which managers get their digest task. */
    OVERDUE_DIGEST_HOUR: z.coerce.number().int().min(0).max(23).default(7),
    /** IANA time zone of OVERDUE_DIGEST_HOUR; also the zone whose date keys the digest (one per manager per day). */
    OVERDUE_DIGEST_TIME_ZONE: z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin').default('UTC'),
    /** How many overdue tasks the digest lists by name; the count covers them all. */
    OVERDUE_DIGEST_TOP_N: z.coerce.number().int().min(1).max(100).default(10),

    // The nightly duplicate audit (schedule:duplicate-audit), ensured by the worker at start.
    /** Local hour (0-23) in DUPLICATE_AUDIT_TIME_ZONE at which the audit runs; pick a quiet one, it reads the whole contacts table. */
    DUPLICATE_AUDIT_HOUR: z.coerce.number().int().min(0).max(23).default(2),
    /** IANA time zone of DUPLICATE_AUDIT_HOUR. */
    DUPLICATE_AUDIT_TIME_ZONE: z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin').default('UTC'),

    // CSV imports (POST /v1/imports).
    /** Largest CSV the API accepts, in MiB; the upload streams into PostgreSQL, so this bounds storage, not memory. */
    IMPORT_MAX_MB: z.coerce.number().int().min(1).max(4096).default(200),
    /** Rows per import batch: one activity and one transaction each (worker). */
    IMPORT_BATCH_ROWS: z.coerce.number().int().min(1).max(50_000).default(5000),
    /**
     * An upload still `uploading` after this many minutes was cut off (schedule:import-upload-cleanup
     * marks it failed and deletes its chunks). At least 10: more than any upload takes, since the
     * API's HTTP server ends a request after 5 minutes (Node's requestTimeout).
     */
    IMPORT_UPLOAD_ABANDON_MINUTES: z.coerce.number().int().min(10).max(10_080).default(60),
    /**
     * How long a stored Idempotency-Key response answers repeats (schedule:data-retention deletes
     * older ones hourly). At least an hour: clients retry within minutes; a day by default.
     */
    IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().int().min(1).max(8_760).default(24),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.TEMPORAL_TLS_CERT_PATH) !== Boolean(env.TEMPORAL_TLS_KEY_PATH)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.TEMPORAL_TLS_CERT_PATH ? 'TEMPORAL_TLS_KEY_PATH' : 'TEMPORAL_TLS_CERT_PATH'],
        message: 'TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together',
      });
    }
    if (env.TWILIO_ACCOUNT_SID && (!env.TWILIO_AUTH_TOKEN || !env.TWILIO_FROM)) {
      ctx.addIssue({ code: 'custom', path: ['TWILIO_AUTH_TOKEN'], message: 'TWILIO_ACCOUNT_SID needs TWILIO_AUTH_TOKEN and TWILIO_FROM' });
    }
  }, { when: () => true }); // also when other variables are bad, so every problem is listed at once

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const variable = issue.path.join('.') || '(environment)';
      const value = env[variable];
      const shown = value === undefined ? 'not set' : secretVariables.has(variable) ? 'value hidden' : `got ${JSON.stringify(value)}`;
      return `${variable}: ${issue.message} (${shown})`;
    }),
  );
}

export function publicUrl(config: Config): string {
  return config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;
}
