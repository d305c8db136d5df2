import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { createApp } from '../api/app';
import { loadConfig, type Config } from './config';
import { createLogger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { createPrisma, type PrismaClient } from './prisma';
import { onShutdown } from './shutdown';
import { temporalConnectionOptions } from './temporal-connection';

export async function connectTemporalClient(config: Config): Promise<Client> {
  const connection = await Connection.connect(await temporalConnectionOptions(config));
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

export async function startApiServer(deps: { config: Config; prisma: PrismaClient; temporal: Client; logger: Logger; metrics: Metrics }): Promise<Server> {
  const app = createApp(deps);
  return new Promise((resolve, reject) => {
    const server = app.listen(deps.config.PORT, () => resolve(server));
    server.once('error', reject);
    // Longer than a typical load balancer's idle timeout, so it closes idle connections first.
    server.keepAliveTimeout = 65_000;
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}

/**
 * Every marketing message carries unsubscribe links signed with UNSUBSCRIBE_SECRET, and the
 * API is what checks them: without the secret, no link could be honoured, so refuse to start.
 */
export function requireUnsubscribeSecret(config: Config): void {
  if (!config.UNSUBSCRIBE_SECRET) {
    throw new Error('UNSUBSCRIBE_SECRET is not set: the API needs it (at least 32 characters, e.g. `openssl rand -base64 48`) to sign and check unsubscribe links.');
  }
}

/** Production entry point: `npm run api`. */
async function main(): Promise<void> {
  const config = loadConfig();
  requireUnsubscribeSecret(config);
  const logger = createLogger(config.LOG_LEVEL, 'touchpoint-api');
  const prisma = createPrisma(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE });
  const temporal = await connectTemporalClient(config);
  const server = await startApiServer({ config, prisma, temporal, logger, metrics: createMetrics('api') });
  logger.info({ port: config.PORT }, 'API listening');
  onShutdown(logger, async () => {
    await closeServer(server);
    await temporal.connection.close();
    await prisma.$disconnect();
    logger.info('API stopped');
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
