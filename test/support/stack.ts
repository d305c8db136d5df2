import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { createApp } from '../../api/app';
import { createApiKey } from '../../api/api-keys';
import type { UserRole } from '../../domain/schemas/common';
import { seedDemoData } from '../../prisma/seed';
import { loadConfig, type Config } from '../../runtime/config';
import { createMetrics } from '../../runtime/metrics';
import { createWorker } from '../../runtime/worker';
import { createTestDatabase, type TestDatabase } from './database';
import { requireTestEnv } from './test-env';

export interface TestStack {
  db: TestDatabase;
  config: Config;
  client: Client;
  baseUrl: string;
  taskQueue: string;
  keys: { admin: string; rep: string };
  /** Private half of SENDGRID_WEBHOOK_PUBLIC_KEY, to sign event webhooks as SendGrid does. */
  sendgridSigningKey: KeyObject;
  /** Starts an in-process worker on this stack's task queue (tests may run without one). */
  startWorker(): Promise<RunningWorker>;
  keyFor(role: UserRole, userId?: string): Promise<string>;
  close(): Promise<void>;
}

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

/**
 * A fresh database, the shared Temporal dev server with a task queue of this test file's own,
 * and the real Express app on an ephemeral port: everything a test needs, nothing shared.
 */
export async function startTestStack(overrides: Partial<Record<string, string>> = {}): Promise<TestStack> {
  const db = await createTestDatabase();
  const taskQueue = `test-${randomBytes(6).toString('hex')}`;
  // Webhook credentials of this stack's own, so tests can sign requests like the providers do.
  const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const config = loadConfig({
    DATABASE_URL: db.url,
    TEMPORAL_ADDRESS: requireTestEnv('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'silent',
    PORT: '0',
    FORM_RATE_LIMIT_PER_MINUTE: '10000',
    UNSUBSCRIBE_SECRET: randomBytes(32).toString('base64url'),
    SENDGRID_WEBHOOK_PUBLIC_KEY: sendgridKeys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    SENDGRID_INBOUND_SECRET: randomBytes(16).toString('hex'),
    TWILIO_AUTH_TOKEN: randomBytes(16).toString('hex'),
    // The fakes that webhooks call listen on 127.0.0.1; a test of the guard turns it back on.
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    ...overrides,
  });
  const seed = await seedDemoData(db.prisma);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const logger = pino({ level: 'silent' });
  const metrics = createMetrics('api');
  const app = createApp({ prisma: db.prisma, temporal: client, config, logger, metrics });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  const workers: RunningWorker[] = [];

  return {
    db,
    config,
    client,
    taskQueue,
    baseUrl: `http://127.0.0.1:${port}`,
    keys: { admin: seed.adminApiKey!, rep: seed.repApiKey! },
    sendgridSigningKey: sendgridKeys.privateKey,
    async startWorker() {
      const workerConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
      const worker = await createWorker({
        config,
        prisma: db.prisma,
        logger,
        metrics: createMetrics('worker'),
        connection: workerConnection,
        workflowBundle: { codePath: requireTestEnv('workflowBundle') },
      });
      const running = worker.run();
      let stopped: Promise<void> | undefined;
      const handle: RunningWorker = {
        worker,
        // Once: a test may stop a worker itself before close() stops them all.
        stop() {
          stopped ??= (async () => {
            if (worker.getState() === 'RUNNING') worker.shutdown();
            await running;
            await workerConnection.close();
          })();
          return stopped;
        },
      };
      workers.push(handle);
      return handle;
    },
    async keyFor(role, userId) {
      return (await createApiKey(db.prisma, { name: `test ${role}`, role, ...(userId ? { userId } : {}) })).key;
    },
    async close() {
      for (const running of workers) await running.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await connection.close();
      await db.drop();
    },
  };
}

/** Polls until `probe` returns a value that passes `done`, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await probe();
  }
  return last;
}
