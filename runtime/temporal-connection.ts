import { readFile } from 'node:fs/promises';
import type { Config } from './config';

/** Options shared by the client Connection and the worker's NativeConnection. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: { clientCertPair?: { crt: Buffer; key: Buffer }; serverNameOverride?: string } | true;
  apiKey?: string;
}

/**
 * Temporal Cloud takes either mTLS client certificates or an API key (which implies TLS);
 * a self-hosted cluster or the dev server takes neither.
 */
export async function temporalConnectionOptions(config: Config): Promise<TemporalConnectionOptions> {
  const options: TemporalConnectionOptions = { address: config.TEMPORAL_ADDRESS };
  if (config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH) {
    const [crt, key] = await Promise.all([
      readFile(config.TEMPORAL_TLS_CERT_PATH),
      readFile(config.TEMPORAL_TLS_KEY_PATH),
    ]);
    options.tls = {
      clientCertPair: { crt, key },
      ...(config.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME } : {}),
    };
  }
  if (config.TEMPORAL_API_KEY) {
    options.apiKey = config.TEMPORAL_API_KEY;
    options.tls ??= true;
  }
  return options;
}
