import type { IncomingHttpHeaders } from 'node:http';
import { FaultQueue, listenOnLoopback, readBody } from './fake-server';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as the signature covers it. */
  body: string;
  /** What this receiver answered; 0 for a call it held. */
  status: number;
}

export interface WebhookReceiver {
  url(path?: string): string;
  /** The next `count` calls to `path` get `status` (then 200 again, unless answerAlways says otherwise). */
  answerNext(path: string, count: number, status: number): void;
  /** The next `count` calls to `path` are recorded and never answered (the caller times out or dies waiting). */
  holdNext(path: string, count: number): void;
  answerAlways(status: number): void;
  received(path?: string): ReceivedWebhook[];
  close(): Promise<void>;
}

/** A customer's webhook endpoint on loopback: records every call with its raw body and answers as told. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const calls: ReceivedWebhook[] = [];
  const queues = new Map<string, FaultQueue<number | 'hold'>>();
  const queueOf = (path: string) => queues.get(path) ?? queues.set(path, new FaultQueue()).get(path)!;
  let otherwise = 200;
  const server = await listenOnLoopback(
    async (req, res) => {
      const body = await readBody(req);
      const answer = queueOf(req.url ?? '/').take() ?? otherwise;
      const status = answer === 'hold' ? 0 : answer;
      calls.push({ path: req.url ?? '/', headers: req.headers, body, status });
      if (answer === 'hold') return;
      res.writeHead(status, { 'content-type': 'application/json' }).end(status < 300 ? '{"ok":true}' : '{"error":"try later"}');
    },
    (res) => res.writeHead(500).end(),
  );
  return {
    url: (path = '/hook') => `${server.url}${path}`,
    answerNext: (path, count, status) => queueOf(path).failNext(count, status),
    holdNext: (path, count) => queueOf(path).failNext(count, 'hold'),
    answerAlways: (status) => {
      otherwise = status;
    },
    received: (path) => calls.filter((call) => path === undefined || call.path === path),
    close: () => server.close(),
  };
}
