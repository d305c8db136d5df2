import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

// The CLI runs on the WebAssembly schema engine whenever a driver adapter is configured, so
// `migrate deploy` and `migrate diff` need no native engine download (see README, "Toolchain").
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  async adapter() {
    const connectionString = process.env.DATABASE_URL;
    if (!connectionString) throw new Error('DATABASE_URL must be set for Prisma CLI commands');
    // allowExitOnIdle: without it the idle pool keeps the CLI process alive for ten seconds.
    return new PrismaPg({ connectionString, allowExitOnIdle: true });
  },
});
