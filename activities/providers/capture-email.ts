import type { EmailProvider, OutboundEmail } from './email-provider';

/**
 * Default provider when no credentials are configured: the rendered message already sits in
 * the Message row (subject, html, text, headers), so "sending" is accepting it there and the
 * message is readable through GET /v1/messages instead of reaching an inbox.
 */
export class CaptureEmailProvider implements EmailProvider {
  readonly name = 'capture';

  async send(email: OutboundEmail): Promise<{ providerMessageId: string }> {
    return { providerMessageId: `capture-${email.messageId}` };
  }
}
