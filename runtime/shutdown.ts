import type { Logger } from 'pino';

/**
 * One Ctrl-C reaches a process several times: the terminal signals the whole process group,
 * and make, npm and tsx each relay it to their child as well. Signals this close to the first
 * are that same request, not a second one.
 */
const sameRequestWithinMs = 2_000;

/**
 * Runs `stop` once on SIGINT or SIGTERM. A second, later signal while stopping exits at once,
 * so a stuck shutdown never needs `kill -9`.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let firstSignalAt: number | null = null;
  const handle = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== null) {
      if (Date.now() - firstSignalAt < sameRequestWithinMs) return;
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    firstSignalAt = Date.now();
    logger.info({ signal }, 'shutting down');
    stop().catch((error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exitCode = 1;
    });
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
