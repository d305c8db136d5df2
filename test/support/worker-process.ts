import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestStack } from './stack';

/**
 * The production worker entry point (`npm run worker`) as a separate process on the test
 * stack's database and task queue, so a test can SIGKILL it mid-activity. Node itself runs with
 * tsx's loader (not the tsx wrapper), so the kill hits the worker and leaves no orphan.
 */
export function startWorkerProcess(stack: TestStack, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'runtime/worker.ts'], {
    cwd: path.resolve(__dirname, '..', '..'),
    env: {
      ...process.env,
      DATABASE_URL: stack.config.DATABASE_URL,
      TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      LOG_LEVEL: 'warn',
      WORKER_METRICS_PORT: '0',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: String(stack.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS),
      ...(stack.config.UNSUBSCRIBE_SECRET ? { UNSUBSCRIBE_SECRET: stack.config.UNSUBSCRIBE_SECRET } : {}),
      ...env,
    },
    stdio: 'ignore',
  });
}
