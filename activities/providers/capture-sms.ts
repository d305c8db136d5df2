import type { SentMessageQuery } from './email-provider';
import type { OutboundSms, SmsProvider } from './sms-provider';

/**
 * Default SMS provider when no Twilio credentials are configured: like CaptureEmailProvider,
 * the rendered text already sits in the Message row, readable through GET /v1/messages.
 */
export class CaptureSmsProvider implements SmsProvider {
  readonly name = 'capture';

  constructor(readonly from: string) {}

  async send(sms: OutboundSms): Promise<{ providerMessageId: string }> {
    return { providerMessageId: `capture-${sms.messageId}` };
  }

  /**
   * The capture store is the Message row itself, so a capture send is never in doubt: a
   * worker that died mid-"send" left a message that is already captured, and is not resent.
   */
  async findAccepted(query: SentMessageQuery): Promise<string[]> {
    return [`capture-${query.messageId}`];
  }
}
