import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../runtime/config';
import type { Metrics } from '../runtime/metrics';
import type { PrismaClient } from '../runtime/prisma';

export interface ApiDeps {
  prisma: PrismaClient;
  temporal: Client;
  config: Config;
  logger: Logger;
  metrics: Metrics;
}
