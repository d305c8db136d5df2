import type { SentMessageQuery } from './email-provider';

/** The surface every SMS provider implements (capture, Twilio); see email-provider.ts. */
export interface OutboundSms {
  /** Id of the Message row; the status callback URL carries it back. */
  messageId: string;
  /** E.164. */
  to: string;
  body: string;
}

export interface SmsProvider {
  readonly name: string;
  /** The sender recorded on the Message row: a phone number in E.164 or a Messaging Service SID. */
  readonly from: string;
  /** Returns the provider's id (Twilio's Message SID); throws ProviderError otherwise. */
  send(sms: OutboundSms): Promise<{ providerMessageId: string }>;
  /** Candidate provider ids for this message after an ambiguous send (Twilio's Messages list). */
  findAccepted?(query: SentMessageQuery): Promise<string[]>;
}
