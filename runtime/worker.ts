import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, instrumentActivities } from '../activities';
import { CaptureEmailProvider } from '../activities/providers/capture-email';
import { TemplateRenderer } from '../activities/templates';
import { loadConfig, publicUrl, type Config } from './config';
import { createLogger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { createPrisma, type PrismaClient } from './prisma';
import { temporalConnectionOptions } from './temporal-connection';
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
  const activities = createActivities({
    prisma,
    logger,
    emailProvider: new CaptureEmailProvider(),
    templates: new TemplateRenderer(templatesRoot),
    emailFrom: { address: config.EMAIL_FROM, name: config.EMAIL_FROM_NAME },
    publicUrl: publicUrl(config),
  });
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: instrumentActivities(activities, metrics),
  });
}

/** Production entry point: `npm run worker`. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'touchpoint-worker');
  const prisma = createPrisma(config.DATABASE_URL);
  const connection = await NativeConnection.connect(await temporalConnectionOptions(config));
  const worker = await createWorker({ config, prisma, logger, metrics: createMetrics('worker'), connection });
  onShutdown(logger, async () => {
    worker.shutdown();
  });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE }, 'worker started');
  await worker.run();
  await connection.close();
  await prisma.$disconnect();
  logger.info('worker stopped');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
