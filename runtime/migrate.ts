import { spawn } from 'node:child_process';
import path from 'node:path';

const projectRoot = path.resolve(__dirname, '..');

/**
 * Environment for every Prisma CLI call. The adapter path (prisma.config.ts) uses the
 * WebAssembly schema engine, but the CLI still looks for native engines unless these point at
 * an existing file; they are never executed on this path.
 */
export function prismaCliEnv(databaseUrl: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    DATABASE_URL: databaseUrl,
    PRISMA_SCHEMA_ENGINE_BINARY: base.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_QUERY_ENGINE_LIBRARY: base.PRISMA_QUERY_ENGINE_LIBRARY ?? process.execPath,
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
}

/** Applies checked-in migrations (prisma/migrations) with `prisma migrate deploy`. */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const cli = path.join(projectRoot, 'node_modules', 'prisma', 'build', 'index.js');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'migrate', 'deploy'], {
      cwd: projectRoot,
      env: prismaCliEnv(databaseUrl),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`prisma migrate deploy failed (exit ${code}):\n${output}`))));
  });
}

if (require.main === module) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('DATABASE_URL must be set');
    process.exit(1);
  }
  migrateDatabase(url).then(
    () => console.log('Migrations applied.'),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
