/**
 * The surface every email provider implements (capture, SendGrid). A new provider is a new
 * file implementing this plus one line in createProviders (index.ts), never a branch in the
 * sending code.
 */
export interface OutboundEmail {
  /** Id of the Message row; providers pass it back in webhooks (SendGrid custom_args). */
  messageId: string;
  /** Ids only: what providers may carry for us must never be personal data. */
  contactId: string | null;
  templateKey: string | null;
  to: string;
  from: { address: string; name: string };
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

/** A message as the outbox knows it, for looking for it at the provider after an ambiguous send. */
export interface SentMessageQuery {
  messageId: string;
  to: string;
  from: string;
  body: string;
  /** Earliest time the message could have reached the provider (first call, minus clock skew). */
  since: Date;
}

export interface EmailProvider {
  readonly name: string;
  /**
   * Returns the provider's id for the accepted message. Throws ProviderError (provider-error.ts)
   * for anything else, so that the outbox can tell "refused" from "maybe sent".
   */
  send(email: OutboundEmail): Promise<{ providerMessageId: string }>;
  /**
   * Asks the provider which of its messages could be this one (provider ids, newest first),
   * for providers with a lookup API. SendGrid's proof comes from its event webhook instead
   * (MessageEvent rows), so it has none.
   */
  findAccepted?(query: SentMessageQuery): Promise<string[]>;
}
