import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { seedDemoData } from '../prisma/seed';
import { closeServer, connectTemporalClient, requireUnsubscribeSecret, startApiServer } from './api-server';
import { loadConfig } from './config';
import { startEmbeddedPostgres } from './embedded-postgres';
import { createLogger } from './logger';
import { createMetrics } from './metrics';
import { migrateDatabase } from './migrate';
import { createPrisma } from './prisma';
import { onShutdown } from './shutdown';
import { startTemporalDevServer, stopChild } from './temporal-dev-server';

/**
 * `make start`: the whole service on one machine, in one process tree. PostgreSQL from
 * DATABASE_URL or embedded, a Temporal dev server unless TEMPORAL_ADDRESS is set, migrations,
 * demo data on first start, then the worker and the API in this process.
 */
const projectRoot = path.resolve(__dirname, '..');
const dataDir = path.resolve(process.env.TOUCHPOINT_DATA_DIR ?? path.join(projectRoot, '.data'));

const stops: Array<() => Promise<void>> = [];
async function stopAll(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
}

async function main(): Promise<void> {
  const bootLogger = createLogger(process.env.LOG_LEVEL ?? 'info', 'touchpoint-stack');
  onShutdown(bootLogger, stopAll);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  await mkdir(dataDir, { recursive: true });

  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const port = Number(process.env.EMBEDDED_POSTGRES_PORT ?? 5433);
    const pg = await startEmbeddedPostgres(dataDir, port, (line) => bootLogger.warn(line));
    stops.push(pg.stop);
    databaseUrl = pg.url;
    say(`PostgreSQL (embedded)  ${pg.url}  data in ${path.join(dataDir, 'postgres')}`);
  } else {
    say(`PostgreSQL             ${redact(databaseUrl)}`);
  }

  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  if (!temporalAddress) {
    const port = Number(process.env.TEMPORAL_DEV_PORT ?? 7233);
    const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
    const temporal = await startTemporalDevServer(path.join(dataDir, 'temporal'), port, uiPort, (line) => bootLogger.warn(line));
    stops.push(temporal.stop);
    temporalAddress = temporal.address;
    say(`Temporal dev server    ${temporal.address}`);
    say(`Temporal Web UI        ${temporal.uiUrl}`);
  } else {
    say(`Temporal               ${temporalAddress}`);
  }

  const secrets = await stackSecrets(dataDir);
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    UNSUBSCRIBE_SECRET: process.env.UNSUBSCRIBE_SECRET || secrets.unsubscribeSecret,
  });
  requireUnsubscribeSecret(config);
  const logger = createLogger(config.LOG_LEVEL);

  await migrateDatabase(config.DATABASE_URL);
  const prisma = createPrisma(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE });
  stops.push(() => prisma.$disconnect());
  const seed = await seedDemoData(prisma);

  const metrics = createMetrics('api');
  const workerMetricsPort = Number(process.env.WORKER_METRICS_PORT ?? 9464);
  // The worker is its own process, as in production: its CPU-heavy workflow activations and
  // activities never stall the API's event loop, and the OS spreads both over the cores.
  const worker = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'worker.ts')], {
    env: {
      ...process.env,
      DATABASE_URL: config.DATABASE_URL,
      TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
      UNSUBSCRIBE_SECRET: config.UNSUBSCRIBE_SECRET,
      WORKER_METRICS_PORT: String(workerMetricsPort),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
    // Its own process group: Ctrl-C reaches only the stack, which stops the worker exactly once
    // (a second signal would make the worker skip draining).
    detached: true,
  });
  let stopping = false;
  worker.once('exit', (code, signal) => {
    if (stopping) return;
    logger.error({ code, signal }, 'worker process exited; stopping the stack');
    void stopAll().then(() => process.exit(1));
  });
  stops.push(async () => {
    stopping = true;
    await stopChild(worker, 30_000);
  });

  const temporal = await connectTemporalClient(config);
  stops.push(() => temporal.connection.close());
  const server = await startApiServer({ config, prisma, temporal, logger, metrics });
  stops.push(() => closeServer(server));

  const apiUrl = `http://localhost:${config.PORT}`;
  say(`Worker                 task queue ${config.TEMPORAL_TASK_QUEUE}, metrics http://localhost:${workerMetricsPort}/metrics`);
  say(`API                    ${apiUrl}   (docs ${apiUrl}/docs, OpenAPI ${apiUrl}/v1/openapi.json)`);
  if (seed.seeded) {
    const credentials = { adminApiKey: seed.adminApiKey, repApiKey: seed.repApiKey, formKey: seed.formKey, apiUrl };
    await writeFile(path.join(dataDir, 'credentials.json'), `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    say('');
    say(`Demo data created. These keys are shown once and saved in ${path.join(dataDir, 'credentials.json')}:`);
    say(`  admin API key   ${seed.adminApiKey}`);
    say(`  rep API key     ${seed.repApiKey}`);
    say(`  demo form key   ${seed.formKey}`);
  } else {
    say(`Existing data kept; API keys are in ${path.join(dataDir, 'credentials.json')} (if this data directory was seeded here).`);
  }
  say('');
  say('Try a form submission:');
  say(`  curl -s -X POST ${apiUrl}/v1/forms/${seed.formKey}/submissions -H 'Content-Type: application/json' \\`);
  say(`    -d '{"email":"jane@example.com","name":"Jane Doe","pageUrl":"https://example.com/pricing","consent":true}'`);
  say('Press Ctrl-C to stop.');
}

interface StackSecrets {
  unsubscribeSecret: string;
}

/**
 * Secrets the local stack makes for itself on first start and keeps in `<dataDir>/secrets.json`
 * (mode 0600): unsubscribe links in messages already sent must keep working after a restart.
 */
async function stackSecrets(directory: string): Promise<StackSecrets> {
  const file = path.join(directory, 'secrets.json');
  let stored: Partial<StackSecrets> = {};
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as Partial<StackSecrets>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is not readable JSON; fix or delete it`);
  }
  if (typeof stored.unsubscribeSecret === 'string' && stored.unsubscribeSecret.length >= 32) return { unsubscribeSecret: stored.unsubscribeSecret };
  const secrets: StackSecrets = { ...stored, unsubscribeSecret: randomBytes(32).toString('base64url') };
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}

main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  await stopAll();
  process.exit(1);
});
