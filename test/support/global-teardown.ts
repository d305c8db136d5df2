import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Client as PgClient } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const shared = (globalThis as typeof globalThis & {
    __touchpointTest?: { env: TestWorkflowEnvironment; adminUrl: string; templateDb: string };
  }).__touchpointTest;
  if (!shared) return;
  await shared.env.teardown();
  const admin = new PgClient({ connectionString: shared.adminUrl });
  await admin.connect();
  try {
    // Test files drop their own databases; this catches those of a crashed file too.
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`,
      [shared.templateDb, `${shared.templateDb.replace('template', 'db')}%`],
    );
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
