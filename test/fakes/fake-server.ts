import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Plumbing shared by the provider fakes: the fault queue tests fill with failNext(), answers
 * held back past the client's timeout, body reading, and a loopback server that closes with
 * its open connections. Each fake keeps only its provider's own contract.
 */

/** Faults of the connection rather than of the provider's answer; every fake plays them. */
export type ConnectionFault =
  /** Never answers and records nothing: the request is lost (the client times out). */
  | { hang: true }
  /** Records the message as accepted, then answers only after this many ms (past the client's timeout). */
  | { acceptThenHangMs: number };

export class FaultQueue<Fault> {
  private readonly queue: Fault[] = [];

  failNext(count: number, fault: Fault): void {
    for (let i = 0; i < count; i += 1) this.queue.push(fault);
  }

  take(): Fault | undefined {
    return this.queue.shift();
  }
}

export class HeldAnswers {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Sends the answer now, or later when the fault says to accept and then hang. */
  answer(fault: unknown, send: () => void): void {
    if (typeof fault !== 'object' || fault === null || !('acceptThenHangMs' in fault) || typeof fault.acceptThenHangMs !== 'number') {
      send();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, fault.acceptThenHangMs);
    this.timers.add(timer);
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

export function isHang(fault: unknown): boolean {
  return typeof fault === 'object' && fault !== null && 'hang' in fault;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface LoopbackServer {
  url: string;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 and an ephemeral port; `onError` answers a handler that threw. */
export async function listenOnLoopback(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  onError: (res: ServerResponse, error: unknown) => void,
): Promise<LoopbackServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => onError(res, error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
