import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'touchpoint'): Logger {
  return pino({
    name,
    level,
    // Never let a secret reach the logs, whatever object a caller hands over.
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.apiKey', '*.password'],
  });
}
