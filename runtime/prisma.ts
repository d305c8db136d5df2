import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../prisma/generated/client';

export type { PrismaClient };
export { Prisma } from '../prisma/generated/client';

export interface PrismaOptions {
  /** Connections in this process's pool; PostgreSQL's max_connections is shared by all processes. */
  poolSize?: number;
}

export function createPrisma(databaseUrl: string, options: PrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}
