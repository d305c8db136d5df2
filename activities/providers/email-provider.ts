/**
 * The surface every email provider implements (capture now; SendGrid next). A new provider
 * is a new file implementing this, never a branch in a central switch.
 */
export interface OutboundEmail {
  messageId: string;
  to: string;
  from: { address: string; name: string };
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

export interface EmailProvider {
  readonly name: string;
  /** Returns the provider's id for the accepted message. */
  send(email: OutboundEmail): Promise<{ providerMessageId: string }>;
}
