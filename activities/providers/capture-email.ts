import type { EmailProvider, OutboundEmail, SentMessageQuery } from './email-provider';

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

  /**
   * The capture store is the Message row itself, so a capture send is never in doubt: a
   * worker that died mid-"send" left a message that is already captured, and is not resent.
   */
  async findAccepted(query: SentMessageQuery): Promise<string[]> {
    return [`capture-${query.messageId}`];
  }
}
