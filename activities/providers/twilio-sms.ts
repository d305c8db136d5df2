import { AsyncLocalStorage } from 'node:async_hooks';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type TwilioResponse from 'twilio/lib/http/response';
import type { SentMessageQuery } from './email-provider';
import { fromHttpStatus, fromTransportError, ProviderError } from './provider-error';
import type { OutboundSms, SmsProvider } from './sms-provider';

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  /** A phone number in E.164 or a Messaging Service SID (MG...). */
  from: string;
  /** https://api.twilio.com in production; the local fake in tests. */
  apiBaseUrl: string;
  /** Base URL Twilio calls back on: TWILIO_WEBHOOK_BASE_URL, else PUBLIC_URL. */
  webhookBaseUrl: string;
  timeoutMs: number;
}

type HttpResponse = TwilioResponse<unknown>;

const twilioOrigin = 'https://api.twilio.com';

/**
 * The client's documented `httpClient` hook: twilio's own RequestClient, with the
 * api.twilio.com origin swapped for the configured base URL (the fake in tests). Each answer
 * is also handed to the call that asked for it (through AsyncLocalStorage, so concurrent sends
 * never mix them up), because RestException drops the headers and Retry-After lives there.
 */
export class RebasedRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(apiBaseUrl: string, options: ConstructorParameters<typeof twilio.RequestClient>[0], private readonly answers: AsyncLocalStorage<(response: HttpResponse) => void>) {
    super(options);
    this.base = new URL(apiBaseUrl);
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<TwilioResponse<TData>> {
    const response = await super.request<TData>({ ...opts, uri: rebase(opts.uri, this.base) });
    this.answers.getStore()?.(response);
    return response;
  }
}

export function rebase(uri: string, base: URL): string {
  if (!uri.startsWith(twilioOrigin)) return uri;
  const prefix = base.pathname.replace(/\/+$/, '');
  return `${base.origin}${prefix}${uri.slice(twilioOrigin.length)}`;
}

/**
 * SMS through Twilio's Messages API with the official `twilio` package. Twilio reports
 * delivery to the StatusCallback URL, which carries our Message id so the webhook finds the
 * row without trusting anything else in the callback.
 */
export class TwilioSmsProvider implements SmsProvider {
  readonly name = 'twilio';
  readonly from: string;
  private readonly client: twilio.Twilio;
  private readonly answers = new AsyncLocalStorage<(response: HttpResponse) => void>();
  private readonly webhookBaseUrl: string;

  constructor(options: TwilioOptions) {
    this.from = options.from;
    this.webhookBaseUrl = options.webhookBaseUrl.replace(/\/+$/, '');
    // autoRetry stays off: retries belong to the activity, which reconciles before resending.
    const httpClient = new RebasedRequestClient(options.apiBaseUrl, { timeout: options.timeoutMs, autoRetry: false }, this.answers);
    this.client = twilio(options.accountSid, options.authToken, { httpClient });
  }

  statusCallbackUrl(messageId: string): string {
    return `${this.webhookBaseUrl}/v1/webhooks/twilio/status?messageId=${encodeURIComponent(messageId)}`;
  }

  async send(sms: OutboundSms): Promise<{ providerMessageId: string }> {
    const sender = this.from.startsWith('MG') ? { messagingServiceSid: this.from } : { from: this.from };
    const message = await this.call(() =>
      this.client.messages.create({ to: sms.to, body: sms.body, statusCallback: this.statusCallbackUrl(sms.messageId), ...sender }),
    );
    return { providerMessageId: message.sid };
  }

  /**
   * The Message resource does not echo the StatusCallback URL, so our id cannot be matched;
   * the match is to + from + body, created since the first call. Not `dateSentAfter`:
   * date_sent stays empty while a message waits in Twilio's queue, and a queued message is
   * exactly the one that must not be sent again.
   */
  async findAccepted(query: SentMessageQuery): Promise<string[]> {
    const sender = this.from.startsWith('MG') ? {} : { from: this.from };
    const messages = await this.call(() => this.client.messages.list({ to: query.to, ...sender, pageSize: 100, limit: 200 }));
    return messages
      .filter((message) => message.body === query.body && message.dateCreated instanceof Date && message.dateCreated.getTime() >= query.since.getTime())
      .map((message) => message.sid);
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    let last: HttpResponse | undefined;
    try {
      return await this.answers.run((response) => {
        last = response;
      }, run);
    } catch (error) {
      throw mapTwilioError(error, last?.headers ?? {});
    }
  }
}

function mapTwilioError(error: unknown, headers: Record<string, unknown>): Error {
  if (error instanceof ProviderError) return error;
  if (error instanceof Error && 'status' in error && typeof error.status === 'number' && !('isAxiosError' in error)) {
    // RestException (code, message) or TwilioServiceException (code, title, detail).
    const fields = error as Error & { code?: unknown; detail?: unknown; title?: unknown };
    const code = typeof fields.code === 'number' && fields.code > 0 ? String(fields.code) : undefined;
    const text = typeof fields.detail === 'string' ? fields.detail : typeof fields.title === 'string' && !error.message ? fields.title : error.message;
    return fromHttpStatus('twilio', error.status, code ? `${code} ${text}` : text, headers, code);
  }
  return fromTransportError('twilio', error);
}
