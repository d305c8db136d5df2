import type { UnsubscribeLinkConfig } from '../../domain/unsubscribe-token';
import { publicUrl, type Config } from '../../runtime/config';
import type { SendPolicy } from '../send-policy';
import { CaptureEmailProvider } from './capture-email';
import { CaptureSmsProvider } from './capture-sms';
import type { EmailProvider } from './email-provider';
import { SendGridEmailProvider } from './sendgrid-email';
import type { SmsProvider } from './sms-provider';
import { TwilioSmsProvider } from './twilio-sms';


export type { EmailProvider } from './email-provider';
export type { SmsProvider } from './sms-provider';

export interface Providers {
  email: EmailProvider;
  sms: SmsProvider;
  /** How long an ambiguous send waits for provider evidence before its one resend. */
  reconcileWindowMs: number;
}

/** Well inside the sending activity's one-minute start-to-close timeout, so a hung call ends as "unknown". */
export const defaultProviderTimeoutMs = 20_000;
/** SendGrid's event webhook batches events for up to about 30 s; ten minutes leaves room for retries of it. */
export const defaultReconcileWindowMs = 10 * 60_000;

/**
 * Each channel is captured (stored, not sent) until its credentials are configured. A new
 * provider is a new file plus one line here.
 */
export function createProviders(config: Config): Providers {
  const timeoutMs = config.PROVIDER_TIMEOUT_MS ?? defaultProviderTimeoutMs;
  const email: EmailProvider = config.SENDGRID_API_KEY
    ? new SendGridEmailProvider({ apiKey: config.SENDGRID_API_KEY, baseUrl: config.SENDGRID_API_BASE_URL, timeoutMs })
    : new CaptureEmailProvider();
  // loadConfig already insists on the token and sender whenever the account SID is set.
  const sms: SmsProvider =
    config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN && config.TWILIO_FROM
      ? new TwilioSmsProvider({
          accountSid: config.TWILIO_ACCOUNT_SID,
          authToken: config.TWILIO_AUTH_TOKEN,
          from: config.TWILIO_FROM,
          apiBaseUrl: config.TWILIO_API_BASE_URL,
          webhookBaseUrl: config.TWILIO_WEBHOOK_BASE_URL ?? publicUrl(config),
          timeoutMs,
        })
      : new CaptureSmsProvider(config.TWILIO_FROM ?? 'capture');
  const reconcileWindowMs = (config.MESSAGE_RECONCILE_WINDOW_SECONDS ?? defaultReconcileWindowMs / 1000) * 1000;
  return { email, sms, reconcileWindowMs };
}

/**
 * What the sending activities need beyond ActivityDeps. Optional so that callers written
 * before SMS (tests that build activities by hand) keep working: SMS then runs in capture
 * mode and the reconcile window is the default.
 */
export interface MessagingDeps {
  smsProvider?: SmsProvider;
  reconcileWindowMs?: number;
  /** Quiet hours and frequency cap for marketing sends; without it none apply. */
  sendPolicy?: SendPolicy;
  /** What marketing emails' unsubscribe links are made from; marketing email refuses to send without it. */
  unsubscribe?: UnsubscribeLinkConfig;
}
