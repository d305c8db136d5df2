import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, HeldAnswers, isHang, listenOnLoopback, readBody, type ConnectionFault } from './fake-server';

/**
 * A local stand-in for Twilio's Programmable Messaging REST API (2010-04-01) that keeps the
 * real contract: HTTP Basic auth AccountSid:AuthToken, form-encoded POST
 * /Accounts/{AccountSid}/Messages.json answered 201 with a Message resource (sid "SM" + 32
 * hex, status "queued"), errors as {code, message, more_info, status}, and GET Messages.json
 * with To, From and DateSent filters, paged like Twilio's list resources.
 */

export type TwilioFault =
  | { status: 429; retryAfterSeconds?: number }
  | { status: 500 | 502 | 503 }
  /** A 400 with a Twilio error code, e.g. { status: 400, code: 21211, message: ... }. */
  | { status: 400; code: number; message: string }
  | ConnectionFault;

export interface TwilioMessage {
  sid: string;
  account_sid: string;
  to: string;
  from: string | null;
  messaging_service_sid: string | null;
  body: string;
  status: string;
  status_callback: string | null;
  date_created: Date;
  date_sent: Date | null;
}

export interface TwilioRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  form: URLSearchParams;
}

export interface TwilioFakeOptions {
  accountSid: string;
  authToken: string;
  onRequest?: (request: TwilioRequest) => void | Promise<void>;
}

export interface TwilioFake {
  url: string;
  /** Messages Twilio took (created), in order, including those whose answer was held back. */
  received(): TwilioMessage[];
  /** Every POST to Messages.json that reached the fake (list queries not counted). */
  createRequestCount(): number;
  listRequestCount(): number;
  failNext(count: number, fault: TwilioFault): void;
  /** Makes later sends to this number fail with 21610, as after the recipient replied STOP. */
  unsubscribe(to: string): void;
  close(): Promise<void>;
}

const e164 = /^\+[1-9]\d{1,14}$/;

export async function startTwilioFake(options: TwilioFakeOptions): Promise<TwilioFake> {
  const messages: TwilioMessage[] = [];
  const faults = new FaultQueue<TwilioFault>();
  const unsubscribed = new Set<string>();
  const held = new HeldAnswers();
  let creates = 0;
  let lists = 0;
  const base = `/2010-04-01/Accounts/${options.accountSid}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    const form = new URLSearchParams(req.method === 'POST' ? raw : '');
    await options.onRequest?.({ method: req.method ?? 'GET', path: url.pathname, headers: req.headers, form });

    const expected = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return sendError(res, 401, 20003, 'Authenticate');
    if (url.pathname !== `${base}/Messages.json`) return sendError(res, 404, 20404, `The requested resource ${url.pathname} was not found`);

    if (req.method === 'GET') {
      lists += 1;
      return sendJson(res, 200, listPage(url));
    }
    if (req.method !== 'POST') return sendError(res, 405, 20004, 'Method not allowed');
    creates += 1;

    const to = form.get('To') ?? '';
    const from = form.get('From');
    const messagingServiceSid = form.get('MessagingServiceSid');
    const body = form.get('Body') ?? '';
    if (!to) return sendError(res, 400, 21604, "A 'To' phone number is required.");
    if (!e164.test(to)) return sendError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from && !messagingServiceSid) return sendError(res, 400, 21603, "A 'From' phone number is required.");
    if (!body) return sendError(res, 400, 21602, 'Message body is required.');
    if (unsubscribed.has(to)) return sendError(res, 400, 21610, 'Attempt to send to unsubscribed recipient');

    const fault = faults.take();
    if (isHang(fault)) return;
    if (fault && 'status' in fault) {
      if (fault.status === 429) {
        res.setHeader('Retry-After', String(fault.retryAfterSeconds ?? 1));
        return sendError(res, 429, 20429, 'Too Many Requests');
      }
      if (fault.status === 400) return sendError(res, 400, fault.code, fault.message);
      return sendError(res, fault.status, 20500, 'Internal Server Error');
    }

    const now = new Date();
    const message: TwilioMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      account_sid: options.accountSid,
      to,
      from: from ?? null,
      messaging_service_sid: messagingServiceSid ?? null,
      body,
      status: 'queued',
      status_callback: form.get('StatusCallback'),
      date_created: now,
      date_sent: null,
    };
    messages.push(message);
    const created = resource(message);
    // Like Twilio, the message leaves the queue right after it was created.
    message.status = 'sent';
    message.date_sent = new Date(now.getTime() + 1);
    held.answer(fault, () => sendJson(res, 201, created));
  }

  function listPage(url: URL): Record<string, unknown> {
    const q = url.searchParams;
    const pageSize = Math.min(1000, Number(q.get('PageSize') ?? 50) || 50);
    const day = (value: string) => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value));
    const matching = messages
      .filter((m) => !q.get('To') || m.to === q.get('To'))
      .filter((m) => !q.get('From') || m.from === q.get('From'))
      .filter((m) => !q.get('DateSent') || (m.date_sent !== null && m.date_sent.toISOString().slice(0, 10) === q.get('DateSent')!.slice(0, 10)))
      .filter((m) => !q.get('DateSent>') || (m.date_sent !== null && m.date_sent >= day(q.get('DateSent>')!)))
      .filter((m) => !q.get('DateSent<') || (m.date_sent !== null && m.date_sent <= day(q.get('DateSent<')!)))
      .reverse(); // newest first, as Twilio lists them
    const page = Number(q.get('Page') ?? 0) || 0;
    const slice = matching.slice(page * pageSize, (page + 1) * pageSize);
    const uri = `${base}/Messages.json`;
    const nextQuery = new URLSearchParams(q);
    nextQuery.set('Page', String(page + 1));
    nextQuery.set('PageSize', String(pageSize));
    return {
      messages: slice.map(resource),
      end: page * pageSize + slice.length - 1,
      first_page_uri: `${uri}?PageSize=${pageSize}&Page=0`,
      next_page_uri: (page + 1) * pageSize < matching.length ? `${uri}?${nextQuery.toString()}` : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 ? `${uri}?PageSize=${pageSize}&Page=${page - 1}` : null,
      start: page * pageSize,
      uri: `${uri}?${q.toString()}`,
    };
  }

  function resource(message: TwilioMessage): Record<string, unknown> {
    return {
      account_sid: message.account_sid,
      api_version: '2010-04-01',
      body: message.body,
      date_created: message.date_created.toUTCString().replace('GMT', '+0000'),
      date_sent: message.date_sent ? message.date_sent.toUTCString().replace('GMT', '+0000') : null,
      date_updated: (message.date_sent ?? message.date_created).toUTCString().replace('GMT', '+0000'),
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: message.from,
      messaging_service_sid: message.messaging_service_sid,
      num_media: '0',
      num_segments: String(Math.max(1, Math.ceil(message.body.length / 160))),
      price: null,
      price_unit: 'USD',
      sid: message.sid,
      status: message.status,
      subresource_uris: { media: `${base}/Messages/${message.sid}/Media.json` },
      to: message.to,
      uri: `${base}/Messages/${message.sid}.json`,
    };
  }

  const server = await listenOnLoopback(handle, (res, error) => sendError(res, 500, 20500, error instanceof Error ? error.message : String(error)));

  return {
    url: server.url,
    received: () => [...messages],
    createRequestCount: () => creates,
    listRequestCount: () => lists,
    failNext: (count, fault) => faults.failNext(count, fault),
    unsubscribe(to) {
      unsubscribed.add(to);
    },
    async close() {
      held.clear();
      await server.close();
    },
  };
}

function sendError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
