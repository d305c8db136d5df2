import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { migrateDatabase } from '../../runtime/migrate';
import { resolveTemporalCli } from '../../runtime/temporal-binaries';
import { ContactIdAttribute, LifecycleStageAttribute } from '../../workflows/search-attributes';
import { databaseUrlFor, defaultAdminDatabaseUrl, testEnvKeys } from './test-env';

/**
 * Started once per jest run and shared by all test files: a real Temporal dev server, a
 * migrated template database every test file clones, and the workflow bundle.
 */
export default async function globalSetup(): Promise<void> {
  const adminUrl = process.env.TEST_DATABASE_URL ?? defaultAdminDatabaseUrl;
  const templateDb = `tp_test_template_${randomBytes(4).toString('hex')}`;

  const [env, bundlePath] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: resolveTemporalCli() },
        ip: '127.0.0.1',
        searchAttributes: [ContactIdAttribute, LifecycleStageAttribute],
        extraArgs: ['--log-level', 'error'],
      },
    }),
    bundleWorkflows(),
    createTemplateDatabase(adminUrl, templateDb),
  ]);

  process.env[testEnvKeys.temporalAddress] = env.address;
  process.env[testEnvKeys.templateDatabase] = templateDb;
  process.env[testEnvKeys.adminDatabaseUrl] = adminUrl;
  process.env[testEnvKeys.workflowBundle] = bundlePath;
  (globalThis as typeof globalThis & { __touchpointTest?: unknown }).__touchpointTest = { env, adminUrl, templateDb };
}

async function createTemplateDatabase(adminUrl: string, templateDb: string): Promise<void> {
  const admin = new PgClient({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${templateDb}`);
  } finally {
    await admin.end();
  }
  await migrateDatabase(databaseUrlFor(adminUrl, templateDb));
}

async function bundleWorkflows(): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'touchpoint-bundle-'));
  const file = path.join(dir, 'workflow-bundle.js');
  await writeFile(file, code);
  return file;
}
