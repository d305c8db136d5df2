import type { Logger } from 'pino';

/**
 * Runs `stop` once on SIGINT or SIGTERM. A second signal while stopping exits at once, so a
 * stuck shutdown never needs `kill -9`.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop().catch((error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exitCode = 1;
    });
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
