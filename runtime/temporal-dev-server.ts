import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { customSearchAttributes } from '../workflows/search-attributes';
import { resolveTemporalCli } from './temporal-binaries';

export interface TemporalDevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/**
 * The Temporal CLI's single-process dev server with SQLite persistence under .data/, so
 * workflows survive restarts of the stack; the custom search attributes are registered at
 * every start (registering an existing one is a no-op).
 */
export async function startTemporalDevServer(dataDir: string, port: number, uiPort: number, log: (line: string) => void): Promise<TemporalDevServer> {
  await mkdir(dataDir, { recursive: true });
  const args = [
    'server', 'start-dev',
    '--db-filename', path.join(dataDir, 'temporal.sqlite'),
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--namespace', 'default',
    '--log-level', 'warn',
    ...Object.entries(customSearchAttributes).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  const child = spawn(resolveTemporalCli(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', () => {});
  child.stderr?.on('data', (chunk: Buffer) => log(`temporal: ${chunk.toString().trim()}`));
  const address = `127.0.0.1:${port}`;
  await waitForTemporal(address, child);
  return {
    address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    stop: () => stopChild(child),
  };
}

async function waitForTemporal(address: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error('The Temporal dev server exited during start-up (is the port taken?)');
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`The Temporal dev server did not answer on ${address} within 60 s`);
}

export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
