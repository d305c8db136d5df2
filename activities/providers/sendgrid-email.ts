import sendgridClient from '@sendgrid/client';
import sendgridMail from '@sendgrid/mail';
import type { EmailProvider, OutboundEmail } from './email-provider';
import { fromHttpStatus, fromTransportError } from './provider-error';

export interface SendGridOptions {
  apiKey: string;
  /** https://api.sendgrid.com in production; the local fake in tests. */
  baseUrl: string;
  /** Longer than this without an answer is an ambiguous send (the message may have been taken). */
  timeoutMs: number;
}

type SendGridClient = typeof sendgridClient;
type MailService = typeof sendgridMail;

/**
 * Both packages export a ready-made singleton and attach their classes to it as `.Client` and
 * `.MailService` (index.js); the typings describe only the singleton, hence this one cast.
 */
const { Client } = sendgridClient as unknown as { Client: new () => SendGridClient };
const { MailService } = sendgridMail as unknown as { MailService: new () => MailService };

/** Shape of @sendgrid/helpers' ResponseError, which the typings do not describe field by field. */
interface SendGridResponseError {
  code: number;
  message: string;
  response: { headers: Record<string, unknown>; body: unknown };
}

/**
 * Email through SendGrid's v3 Mail Send, with the official @sendgrid/mail. Its own Client
 * instance (not the package's singleton) carries this provider's key, base URL and timeout,
 * so two providers in one process (tests) never share settings.
 */
export class SendGridEmailProvider implements EmailProvider {
  readonly name = 'sendgrid';
  private readonly mail: MailService;

  constructor(options: SendGridOptions) {
    const client = new Client();
    client.setApiKey(options.apiKey);
    // setApiKey resets baseUrl to the region's host, so the override must come after it.
    client.setDefaultRequest('baseUrl', options.baseUrl.replace(/\/+$/, ''));
    this.mail = new MailService();
    this.mail.setClient(client);
    // Sets the client's axios timeout; without one a hung connection would outlive the activity.
    this.mail.setTimeout(options.timeoutMs);
  }

  async send(email: OutboundEmail): Promise<{ providerMessageId: string }> {
    let response;
    try {
      [response] = await this.mail.send({
        to: email.to,
        from: { email: email.from.address, name: email.from.name },
        subject: email.subject,
        // text/plain must come before text/html in v3 content; the helper orders them so.
        text: email.text,
        html: email.html,
        headers: email.headers,
        // Ids only: custom_args and categories are visible in SendGrid's UI and its webhooks.
        customArgs: { messageId: email.messageId, ...(email.contactId ? { contactId: email.contactId } : {}) },
        ...(email.templateKey ? { categories: [email.templateKey] } : {}),
      });
    } catch (error) {
      throw mapSendGridError(error);
    }
    const providerMessageId = headerString(response.headers, 'x-message-id');
    // A 2xx without X-Message-Id still means "accepted"; the row's own id is the fallback key.
    return { providerMessageId: providerMessageId ?? `sendgrid-${email.messageId}` };
  }
}

function mapSendGridError(error: unknown): Error {
  if (isResponseError(error)) {
    const body = error.response.body as { errors?: Array<{ message?: unknown; field?: unknown }> } | undefined;
    const reasons = (body?.errors ?? [])
      .map((entry) => (typeof entry.message === 'string' ? (typeof entry.field === 'string' && entry.field ? `${entry.field}: ${entry.message}` : entry.message) : null))
      .filter((reason): reason is string => reason !== null);
    const reason = reasons.length > 0 ? reasons.join('; ') : `HTTP ${error.code} ${error.message}`.trim();
    return fromHttpStatus('sendgrid', error.code, reason, error.response.headers ?? {});
  }
  return fromTransportError('sendgrid', error);
}

function isResponseError(error: unknown): error is SendGridResponseError {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'number' &&
    'response' in error &&
    typeof error.response === 'object' &&
    error.response !== null
  );
}

function headerString(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === 'string' && value) return value;
  }
  return undefined;
}
