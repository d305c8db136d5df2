import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, instrumentActivities } from '../activities';
import { createProviders } from '../activities/providers';
import { TemplateRenderer } from '../activities/templates';
import { loadConfig, publicUrl, type Config } from './config';
import { createLogger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { createPrisma, type PrismaClient } from './prisma';
import { temporalConnectionOptions } from './temporal-connection';
import { ensureSchedules, maintenanceSchedules } from './schedules';
import { ensureSearchAttributes } from './search-attributes';
import { onShutdown } from './shutdown';

export const templatesRoot = path.resolve(__dirname, '..', 'templates');

export interface WorkerDeps {
  config: Config;
  prisma: PrismaClient;
  logger: Logger;
  metrics: Metrics;
  connection: NativeConnection;
  /** A prebuilt bundle (tests build one per run); otherwise workflows/ is bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createWorker({ config, prisma, logger, metrics, connection, workflowBundle }: WorkerDeps): Promise<Worker> {
  const providers = createProviders(config);
  logger.info({ email: providers.email.name, sms: providers.sms.name }, 'message providers');
  const activities = createActivities({
    prisma,
    logger,
    emailProvider: providers.email,
    smsProvider: providers.sms,
    reconcileWindowMs: providers.reconcileWindowMs,
    templates: new TemplateRenderer(templatesRoot, prisma, { sender: { company: config.EMAIL_FROM_NAME, postalAddress: config.SENDER_POSTAL_ADDRESS } }),
    emailFrom: { address: config.EMAIL_FROM, name: config.EMAIL_FROM_NAME },
    publicUrl: publicUrl(config),
    unsubscribe: config,
    webhooks: { httpAllowedHosts: config.WEBHOOK_HTTP_ALLOWED_HOSTS, allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS, timeoutMs: config.WEBHOOK_TIMEOUT_MS },
    importBatchRows: config.IMPORT_BATCH_ROWS,
    importDatabaseUrl: config.DATABASE_URL,
    sendPolicy: {
      smsQuietHours: config.QUIET_HOURS_ENABLED ? { start: config.QUIET_HOURS_START, end: config.QUIET_HOURS_END } : null,
      frequencyCap: config.FREQUENCY_CAP_PER_7_DAYS,
      frequencyCapPolicy: config.FREQUENCY_CAP_POLICY,
      fallbackTimeZone: 'UTC',
    },
  });
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    ...(config.WORKER_MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS } : {}),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: instrumentActivities(activities, metrics),
  });
}

/** Production entry point: `npm run worker`. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'touchpoint-worker');
  routeSdkLogs(logger);
  const prisma = createPrisma(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE });
  const connection = await NativeConnection.connect(await temporalConnectionOptions(config));
  await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE, logger);
  await ensureSchedules(new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }), maintenanceSchedules(config), { taskQueue: config.TEMPORAL_TASK_QUEUE, logger });
  const metrics = createMetrics('worker');
  const worker = await createWorker({ config, prisma, logger, metrics, connection });
  const metricsServer = config.WORKER_METRICS_PORT > 0 ? await serveWorkerMetrics(metrics, config.WORKER_METRICS_PORT) : null;
  onShutdown(logger, async () => {
    worker.shutdown();
  });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE, metricsPort: config.WORKER_METRICS_PORT || null }, 'worker started');
  await worker.run();
  metricsServer?.close();
  await connection.close();
  await prisma.$disconnect();
  logger.info('worker stopped');
}

/**
 * The SDK's own log lines (worker state, bundling, core warnings) go through pino as JSON like
 * everything else, at the pino logger's level, instead of the SDK's plain-text stderr format.
 */
function routeSdkLogs(logger: Logger): void {
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  const levels: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN' };
  Runtime.install({
    logger: new DefaultLogger(levels[logger.level] ?? 'ERROR', ({ level, message, meta }) => {
      const method = level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      sdkLogger[method](meta ?? {}, message);
    }),
  });
}

/** A worker has no API; this small listener gives Prometheus and the orchestrator their endpoints. */
function serveWorkerMetrics(metrics: Metrics, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    } else if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
