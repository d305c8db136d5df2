import { z } from 'zod';

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
const secretVariables = new Set(['DATABASE_URL', 'TEMPORAL_API_KEY']);

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
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.TEMPORAL_TLS_CERT_PATH) !== Boolean(env.TEMPORAL_TLS_KEY_PATH)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.TEMPORAL_TLS_CERT_PATH ? 'TEMPORAL_TLS_KEY_PATH' : 'TEMPORAL_TLS_CERT_PATH'],
        message: 'TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together',
      });
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
