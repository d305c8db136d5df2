import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, publicUrl } from '../../runtime/config';

const minimal: NodeJS.ProcessEnv = { DATABASE_URL: 'postgres://touchpoint:secret@localhost:5432/touchpoint' };

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to reject the environment');
}

describe('loadConfig', () => {
  it('fills every default when only DATABASE_URL is set', () => {
    expect(loadConfig(minimal)).toEqual({
      DATABASE_URL: 'postgres://touchpoint:secret@localhost:5432/touchpoint',
      TEMPORAL_ADDRESS: 'localhost:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'touchpoint',
      PORT: 3000,
      WORKER_METRICS_PORT: 9464,
      DATABASE_POOL_SIZE: 10,
      LOG_LEVEL: 'info',
      BODY_LIMIT: '100kb',
      FORM_RATE_LIMIT_PER_MINUTE: 60,
      EMAIL_FROM: 'hello@touchpoint.local',
      EMAIL_FROM_NAME: 'Touchpoint',
      SENDGRID_API_BASE_URL: 'https://api.sendgrid.com',
      SENDGRID_WEBHOOK_MAX_AGE_SECONDS: 600,
      TWILIO_API_BASE_URL: 'https://api.twilio.com',
      SMS_HELP_TEXT: 'Touchpoint: reply STOP to unsubscribe, START to resubscribe.',
      SENDER_POSTAL_ADDRESS: 'Touchpoint Demo Inc., 1 Example Street, Springfield, USA',
      QUIET_HOURS_ENABLED: true,
      QUIET_HOURS_START: '21:00',
      QUIET_HOURS_END: '08:00',
      FREQUENCY_CAP_PER_7_DAYS: 5,
      FREQUENCY_CAP_POLICY: 'defer',
      WEBHOOK_HTTP_ALLOWED_HOSTS: [],
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: false,
      WEBHOOK_TIMEOUT_MS: 10_000,
      BULK_ENROLLMENT_PAGE_SIZE: 500,
      OVERDUE_DIGEST_HOUR: 7,
      OVERDUE_DIGEST_TIME_ZONE: 'UTC',
      OVERDUE_DIGEST_TOP_N: 10,
      DUPLICATE_AUDIT_HOUR: 2,
      DUPLICATE_AUDIT_TIME_ZONE: 'UTC',
      IMPORT_MAX_MB: 200,
      IMPORT_BATCH_ROWS: 5000,
      IMPORT_UPLOAD_ABANDON_MINUTES: 60,
      IDEMPOTENCY_RETENTION_HOURS: 24,
    });
  });

  it('reads the values that are set, converting numbers', () => {
    const config = loadConfig({
      ...minimal,
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'prod',
      PORT: '8080',
      LOG_LEVEL: 'debug',
      FORM_RATE_LIMIT_PER_MINUTE: '10',
      BODY_LIMIT: '1mb',
      PUBLIC_URL: 'https://crm.example.com',
    });
    expect(config).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'prod',
      PORT: 8080,
      LOG_LEVEL: 'debug',
      FORM_RATE_LIMIT_PER_MINUTE: 10,
      BODY_LIMIT: '1mb',
      PUBLIC_URL: 'https://crm.example.com',
    });
  });

  it('accepts a postgresql:// URL as well as postgres://', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://localhost/touchpoint' }).DATABASE_URL).toBe('postgresql://localhost/touchpoint');
  });

  it('treats empty optional strings as unset', () => {
    const config = loadConfig({ ...minimal, PUBLIC_URL: '', TRUST_PROXY: '   ', TEMPORAL_API_KEY: '' });
    expect(config.PUBLIC_URL).toBeUndefined();
    expect(config.TRUST_PROXY).toBeUndefined();
    expect(config.TEMPORAL_API_KEY).toBeUndefined();
  });

  it('treats an empty PORT as unset and uses 3000, not port 0', () => {
    expect(loadConfig({ ...minimal, PORT: '' }).PORT).toBe(3000);
    expect(loadConfig({ ...minimal, PORT: '  ' }).PORT).toBe(3000);
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ ...minimal, HOME: '/root', PATH: '/usr/bin' })).not.toHaveProperty('HOME');
  });

  it('accepts a TLS cert and key set together', () => {
    const config = loadConfig({ ...minimal, TEMPORAL_TLS_CERT_PATH: '/etc/tls/client.pem', TEMPORAL_TLS_KEY_PATH: '/etc/tls/client.key' });
    expect(config.TEMPORAL_TLS_CERT_PATH).toBe('/etc/tls/client.pem');
    expect(config.TEMPORAL_TLS_KEY_PATH).toBe('/etc/tls/client.key');
  });

  it('throws a ConfigError naming DATABASE_URL when it is not set', () => {
    const error = configError({});
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toEqual(['DATABASE_URL: must be a postgres:// or postgresql:// URL (not set)']);
    expect(error.message).toBe('Invalid configuration:\n  - DATABASE_URL: must be a postgres:// or postgresql:// URL (not set)');
  });

  it.each([
    ['a MySQL URL', 'mysql://localhost/touchpoint'],
    ['an http URL', 'http://localhost:5432'],
    ['a bare host', 'localhost:5432'],
  ])('names DATABASE_URL when it is %s', (_kind, url) => {
    const error = configError({ DATABASE_URL: url });
    expect(error.problems).toHaveLength(1);
    expect(error.message).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
  });

  it('never echoes the value of a secret variable such as a database password', () => {
    const error = configError({ DATABASE_URL: 'mysql://admin:hunter2@db/touchpoint' });
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('value hidden');
  });

  it.each([
    ['not a number', 'http'],
    ['negative', '-1'],
    ['above 65535', '65536'],
    ['a fraction', '80.5'],
  ])('names PORT when it is %s, quoting the value', (_kind, port) => {
    const error = configError({ ...minimal, PORT: port });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^PORT: /);
    expect(error.message).toContain(`(got ${JSON.stringify(port)})`);
  });

  it.each([
    ['without a port', 'localhost'],
    ['with a URL scheme', 'http://localhost:7233'],
    ['with a non-numeric port', 'localhost:abc'],
    ['empty', ''],
  ])('names TEMPORAL_ADDRESS when it is %s', (_kind, address) => {
    const error = configError({ ...minimal, TEMPORAL_ADDRESS: address });
    expect(error.problems).toEqual([`TEMPORAL_ADDRESS: must be host:port, e.g. localhost:7233 (got ${JSON.stringify(address)})`]);
  });

  it.each(['verbose', 'INFO', ''])('names LOG_LEVEL when it is %j', (level) => {
    const error = configError({ ...minimal, LOG_LEVEL: level });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^LOG_LEVEL: /);
  });

  it('names TEMPORAL_TLS_KEY_PATH when a TLS cert is set without a key', () => {
    const error = configError({ ...minimal, TEMPORAL_TLS_CERT_PATH: '/etc/tls/client.pem' });
    expect(error.problems).toEqual(['TEMPORAL_TLS_KEY_PATH: TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together (not set)']);
  });

  it('names TEMPORAL_TLS_CERT_PATH when a TLS key is set without a cert', () => {
    const error = configError({ ...minimal, TEMPORAL_TLS_KEY_PATH: '/etc/tls/client.key' });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^TEMPORAL_TLS_CERT_PATH: /);
  });

  it('treats an empty TLS key as missing when the cert is set', () => {
    const error = configError({ ...minimal, TEMPORAL_TLS_CERT_PATH: '/etc/tls/client.pem', TEMPORAL_TLS_KEY_PATH: '' });
    expect(error.problems[0]).toMatch(/^TEMPORAL_TLS_KEY_PATH: /);
  });

  it('names BODY_LIMIT, FORM_RATE_LIMIT_PER_MINUTE and EMAIL_FROM when they are malformed', () => {
    const error = configError({ ...minimal, BODY_LIMIT: 'lots', FORM_RATE_LIMIT_PER_MINUTE: '0', EMAIL_FROM: 'not-an-email' });
    expect(error.problems.map((problem) => problem.split(':')[0])).toEqual(['BODY_LIMIT', 'FORM_RATE_LIMIT_PER_MINUTE', 'EMAIL_FROM']);
  });

  it('reports every bad variable at once, one line each, TLS pairing included', () => {
    const error = configError({
      DATABASE_URL: 'mysql://localhost/touchpoint',
      PORT: 'eighty',
      TEMPORAL_ADDRESS: 'localhost',
      LOG_LEVEL: 'loud',
      TEMPORAL_TLS_CERT_PATH: '/etc/tls/client.pem',
    });
    expect(error.problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'DATABASE_URL',
      'LOG_LEVEL',
      'PORT',
      'TEMPORAL_ADDRESS',
      'TEMPORAL_TLS_KEY_PATH',
    ]);
    expect(error.message.split('\n')).toHaveLength(6);
    for (const variable of ['DATABASE_URL', 'PORT', 'TEMPORAL_ADDRESS', 'LOG_LEVEL', 'TEMPORAL_TLS_KEY_PATH']) {
      expect(error.message).toContain(`  - ${variable}: `);
    }
  });
});

describe('publicUrl', () => {
  it('uses PUBLIC_URL when set', () => {
    expect(publicUrl(loadConfig({ ...minimal, PUBLIC_URL: 'https://crm.example.com' }))).toBe('https://crm.example.com');
  });

  it('falls back to localhost on the configured port', () => {
    expect(publicUrl(loadConfig({ ...minimal, PORT: '4000' }))).toBe('http://localhost:4000');
  });
});
