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
}
