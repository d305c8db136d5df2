import { randomBytes } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { createPrisma, type PrismaClient } from '../../runtime/prisma';
import { databaseUrlFor, requireTestEnv } from './test-env';

export interface TestDatabase {
  url: string;
  prisma: PrismaClient;
  drop(): Promise<void>;
}

/** A fresh, fully migrated database for one test file, cloned from the run's template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = requireTestEnv('adminDatabaseUrl');
  const template = requireTestEnv('templateDatabase');
  const name = `${template.replace('template', 'db')}_${randomBytes(4).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const url = databaseUrlFor(adminUrl, name);
  const prisma = createPrisma(url, { poolSize: 20 });
  return {
    url,
    prisma,
    async drop() {
      await prisma.$disconnect();
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(adminUrl: string, run: (admin: PgClient) => Promise<T>): Promise<T> {
  const admin = new PgClient({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.end();
  }
}
