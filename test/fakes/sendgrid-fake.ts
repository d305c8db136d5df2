import { randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, HeldAnswers, isHang, listenOnLoopback, readBody, type ConnectionFault } from './fake-server';

/**
 * A local stand-in for SendGrid's v3 Mail Send (POST /v3/mail/send) that keeps the real
 * contract: Bearer API key, v3 body validation, 202 with an X-Message-Id header and an empty
 * body, 400/401 with SendGrid's {"errors":[{message, field, help}]} body. Tests drive faults
 * through failNext() and read what was accepted through received().
 */

export type SendGridFault =
  | { status: 429; retryAfterSeconds?: number }
  | { status: 500 | 502 | 503 }
  | { status: 400; message: string; field?: string }
  | ConnectionFault;

export interface SendGridAcceptedMail {
  /** The X-Message-Id answered (or that would have been answered). */
  providerMessageId: string;
  to: string[];
  from: string;
  subject: string | undefined;
  customArgs: Record<string, string>;
  categories: string[];
  body: Record<string, unknown>;
  at: Date;
}

export interface SendGridRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface SendGridFakeOptions {
  apiKey: string;
  /** Called for every request before it is answered (e.g. to break something at that moment). */
  onRequest?: (request: SendGridRequest) => void | Promise<void>;
  /** Called when a message is accepted: the place to report it the way SendGrid's event webhook would. */
  onAccepted?: (mail: SendGridAcceptedMail) => void | Promise<void>;
}

/** Where the fake posts SendGrid's Signed Event Webhook for every accepted message. */
export interface SendGridEventTarget {
  url: string;
  /** Private half of the ECDSA P-256 key whose public half the receiver verifies with. */
  signingKey: KeyObject;
  /** SendGrid posts events in batches some seconds after the send; 0 by default. */
  delayMs?: number;
}

export interface SendGridFake {
  url: string;
  /**
   * Report a `processed` event for each accepted message, as SendGrid does; with null, events
   * are held back and go out (late) when a target is set again.
   */
  reportEventsTo(target: SendGridEventTarget | null): void;
  /** Messages SendGrid took, in order (including those whose answer was held back). */
  received(): SendGridAcceptedMail[];
  /** Every request that reached the fake, accepted or not. */
  requestCount(): number;
  /** The next `count` mail send requests get this fault instead of the normal answer. */
  failNext(count: number, fault: SendGridFault): void;
  close(): Promise<void>;
}

interface FieldError {
  message: string;
  field: string | null;
  help: string | null;
}

export async function startSendGridFake(options: SendGridFakeOptions): Promise<SendGridFake> {
  const accepted: SendGridAcceptedMail[] = [];
  const faults = new FaultQueue<SendGridFault>();
  const held = new HeldAnswers();
  let requests = 0;
  let eventTarget: SendGridEventTarget | null = null;
  const unreported: SendGridAcceptedMail[] = [];
  const reports = new Set<Promise<void>>();

  /** Posts a signed `processed` event, retrying like SendGrid does when the receiver fails. */
  function report(mail: SendGridAcceptedMail): void {
    const target = eventTarget;
    if (!target) {
      unreported.push(mail); // SendGrid's events can come late: they go out once a target is set
      return;
    }
    const posting = (async () => {
      if (target.delayMs) await new Promise((resolve) => setTimeout(resolve, target.delayMs));
      const events = [
        {
          email: mail.to[0],
          timestamp: Math.floor(Date.now() / 1000),
          event: 'processed',
          sg_event_id: randomUUID(),
          sg_message_id: `${mail.providerMessageId}.filterdrecv-5f8b6c4d9-x7k2p-1-64B1A2C3-4.0`,
          'smtp-id': `<${mail.providerMessageId}@ismtpd0001p1lon1.sendgrid.net>`,
          category: mail.categories,
          // Custom args arrive as top-level keys of each event.
          ...mail.customArgs,
        },
      ];
      const body = JSON.stringify(events);
      for (let attempt = 0; attempt < 10; attempt += 1) {
        const timestamp = String(Math.floor(Date.now() / 1000));
        const signature = sign('sha256', Buffer.from(timestamp + body), target.signingKey).toString('base64');
        try {
          const res = await fetch(target.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'X-Twilio-Email-Event-Webhook-Signature': signature,
              'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
            },
            body,
          });
          if (res.ok) return;
        } catch {
          // receiver down: try again, as SendGrid does
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
      }
    })();
    reports.add(posting);
    void posting.finally(() => reports.delete(posting));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0];
    let body: unknown = null;
    let parseError = false;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      parseError = true;
    }
    requests += 1;
    await options.onRequest?.({ method: req.method ?? 'GET', path: path ?? '/', headers: req.headers, body });

    if (req.method !== 'POST' || path !== '/v3/mail/send') return sendErrors(res, 404, [{ message: 'Not Found', field: null, help: null }]);
    if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendErrors(res, 401, [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null }]);
    }
    if (parseError || typeof body !== 'object' || body === null) {
      return sendErrors(res, 400, [{ message: 'Bad Request', field: null, help: null }]);
    }
    const problems = validateMailSend(body as Record<string, unknown>);
    if (problems.length > 0) return sendErrors(res, 400, problems);

    const fault = faults.take();
    if (isHang(fault)) return; // the socket stays open until the client gives up or close()
    if (fault && 'status' in fault) {
      if (fault.status === 429) {
        res.setHeader('Retry-After', String(fault.retryAfterSeconds ?? 1));
        return sendErrors(res, 429, [{ message: 'too many requests', field: null, help: null }]);
      }
      if (fault.status === 400) return sendErrors(res, 400, [{ message: fault.message, field: fault.field ?? null, help: null }]);
      return sendErrors(res, fault.status, [{ message: 'internal error', field: null, help: null }]);
    }

    const mail = toAccepted(body as Record<string, unknown>);
    accepted.push(mail);
    await options.onAccepted?.(mail);
    report(mail);
    held.answer(fault, () => {
      if (res.destroyed) return;
      res.writeHead(202, { 'X-Message-Id': mail.providerMessageId, 'Content-Length': '0' }).end();
    });
  }

  const server = await listenOnLoopback(handle, (res, error) =>
    sendErrors(res, 500, [{ message: error instanceof Error ? error.message : String(error), field: null, help: null }]),
  );

  return {
    url: server.url,
    received: () => [...accepted],
    reportEventsTo(target) {
      eventTarget = target;
      if (target) for (const mail of unreported.splice(0)) report(mail);
    },
    requestCount: () => requests,
    failNext: (count, fault) => faults.failNext(count, fault),
    async close() {
      eventTarget = null;
      await Promise.allSettled([...reports]);
      held.clear();
      await server.close();
    },
  };
}

/** The checks SendGrid makes that matter to a sender: recipients, sender, subject and content. */
function validateMailSend(body: Record<string, unknown>): FieldError[] {
  const problems: FieldError[] = [];
  const hasTemplate = typeof body.template_id === 'string' && body.template_id !== '';
  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    problems.push({ message: 'The personalizations field is required and must have at least one personalization.', field: 'personalizations', help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#-Personalizations-Errors' });
  } else {
    personalizations.forEach((personalization: unknown, index) => {
      const to = (personalization as { to?: unknown } | null)?.to;
      if (!Array.isArray(to) || to.length === 0 || !to.every((entry: unknown) => typeof (entry as { email?: unknown } | null)?.email === 'string' && /^[^@\s]+@[^@\s]+$/.test((entry as { email: string }).email))) {
        problems.push({ message: 'The to array is required for all personalization objects, and must have at least one email object with a valid email address.', field: `personalizations.${index}.to`, help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations.to' });
      }
    });
  }
  const from = body.from as { email?: unknown } | undefined;
  if (typeof from?.email !== 'string' || !from.email.includes('@')) {
    problems.push({ message: 'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.', field: 'from.email', help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.from' });
  }
  const personalSubjects = Array.isArray(personalizations) && personalizations.every((p: unknown) => typeof (p as { subject?: unknown } | null)?.subject === 'string');
  if (!hasTemplate && !personalSubjects && (typeof body.subject !== 'string' || body.subject === '')) {
    problems.push({ message: 'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.', field: 'subject', help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.subject' });
  }
  const content = body.content;
  const contentValid = Array.isArray(content) && content.length > 0 && content.every((part: unknown) => typeof (part as { type?: unknown } | null)?.type === 'string' && typeof (part as { value?: unknown }).value === 'string' && (part as { value: string }).value !== '');
  if (!hasTemplate && !contentValid) {
    problems.push({ message: 'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.', field: 'content', help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.content' });
  }
  if (Array.isArray(content) && content.length > 1 && (content[0] as { type?: unknown }).type !== 'text/plain') {
    problems.push({ message: 'If present, text/plain content must be first, followed by any other content.', field: 'content', help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.content' });
  }
  const customArgs = body.custom_args;
  if (customArgs !== undefined && (typeof customArgs !== 'object' || customArgs === null || Object.values(customArgs).some((value) => typeof value !== 'string'))) {
    problems.push({ message: 'Custom args must be a set of key/value pairs whose values are strings.', field: 'custom_args', help: null });
  }
  return problems;
}

function toAccepted(body: Record<string, unknown>): SendGridAcceptedMail {
  const personalizations = body.personalizations as Array<{ to: Array<{ email: string }>; custom_args?: Record<string, string> }>;
  return {
    // The shape of SendGrid's ids: 22 url-safe base64 characters.
    providerMessageId: randomBytes(16).toString('base64url').slice(0, 22),
    to: personalizations.flatMap((p) => p.to.map((entry) => entry.email)),
    from: (body.from as { email: string }).email,
    subject: typeof body.subject === 'string' ? body.subject : undefined,
    customArgs: { ...((body.custom_args as Record<string, string> | undefined) ?? {}), ...(personalizations[0]?.custom_args ?? {}) },
    categories: Array.isArray(body.categories) ? (body.categories as string[]) : [],
    body,
    at: new Date(),
  };
}

function sendErrors(res: ServerResponse, status: number, errors: FieldError[]): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors }));
}
