import { createHash, timingSafeEqual } from 'node:crypto';
import busboy from 'busboy';
import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { detectAutoReply } from '../../domain/auto-reply';
import { normalizeEmail } from '../../domain/normalize';
import { tokenFromUnsubscribeSubject, verifyUnsubscribeToken } from '../../domain/unsubscribe-token';
import type { ApiDeps } from '../deps';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { HttpProblem } from '../problem';
import { recordConsentChange } from '../services/consent';
import { claimInboundEvent } from '../services/message-events';
import type { WorkflowGateway } from '../workflow-gateway';

/**
 * SendGrid Inbound Parse: emails sent to the reply domain arrive here as multipart forms.
 * A reply is logged on the contact and signalled to its workflow (sequences stop on a reply);
 * out-of-office notes are logged but not signalled; mail to unsubscribe@ with an unsubscribe
 * token in the subject (the List-Unsubscribe mailto) revokes consent.
 *
 * SendGrid cannot sign these posts, so the URL carries a secret path segment instead.
 */

const maxBodyBytes = 10 * 1024 * 1024;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const excerptLength = 500;

export interface FormFields {
  fields: Record<string, string>;
  /** Uploaded files are counted, not kept: attachments are not stored. */
  files: number;
}

/**
 * Reads a multipart/form-data or application/x-www-form-urlencoded body with busboy, refusing
 * anything over `maxBytes` with 413. Field values are read as latin1 (byte for byte) so that
 * `decodeField` can apply the charset the sender declared.
 */
export function readFormFields(req: Request, limits: { maxBytes: number; maxFields: number }): Promise<FormFields> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limits.maxBytes) return Promise.reject(tooLarge(limits.maxBytes));
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defCharset: 'latin1',
        limits: { fields: limits.maxFields, fieldSize: limits.maxBytes, fileSize: limits.maxBytes, files: 100, parts: limits.maxFields + 100 },
      });
    } catch {
      reject(new HttpProblem(415, 'unsupported-media-type', 'Unsupported Content-Type.', 'Send the body as multipart/form-data or application/x-www-form-urlencoded.'));
      return;
    }
    const fields: Record<string, string> = {};
    let files = 0;
    let received = 0;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      req.resume(); // drain the rest so the connection can answer
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.maxBytes) fail(tooLarge(limits.maxBytes));
    });
    parser.on('field', (name, value) => {
      if (!(name in fields)) fields[name] = value;
    });
    parser.on('file', (_name, stream) => {
      files += 1;
      stream.resume();
    });
    parser.on('error', () => fail(new HttpProblem(400, 'bad-request', 'Bad request.', 'The form body could not be read.')));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      resolve({ fields, files });
    });
    req.pipe(parser);
  });
}

function tooLarge(maxBytes: number): HttpProblem {
  return new HttpProblem(413, 'body-too-large', 'Body too large.', `The body is larger than the ${maxBytes} byte limit.`);
}

/** Re-reads a latin1-read field in its declared charset (SendGrid lists them in `charsets`). */
export function decodeField(value: string | undefined, charset: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  // A character above 0xFF means busboy already decoded it with the part's own charset.
  if ([...value].some((char) => char.codePointAt(0)! > 0xff)) return value;
  const bytes = Buffer.from(value, 'latin1');
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** Header block → lower-cased name → values, with folded lines joined (RFC 5322 2.2.3). */
export function parseHeaderBlock(block: string): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  const unfolded = block.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ');
  for (const line of unfolded.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  return headers;
}

/** Email addresses in an address-list header value, normalised; `Name <a@b>` and bare `a@b`. */
export function extractAddresses(value: string | undefined): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+@[^<>\s]+)>/g)].map((match) => match[1]!);
  const found = bracketed.length > 0 ? bracketed : [...value.matchAll(/[^\s,;<>"]+@[^\s,;<>"]+/g)].map((match) => match[0]);
  return found.map((address) => normalizeEmail(address)).flatMap((result) => (result.ok ? [result.value] : []));
}

/** Message-IDs in In-Reply-To / References, without the angle brackets. */
function messageIds(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((value) => [...value.matchAll(/<([^<>\s]+)>/g)].map((match) => match[1]!));
}

/** The new part of a reply: up to the first quoted line or "On ... wrote:", whitespace collapsed. */
export function replyExcerpt(text: string | undefined, html: string | undefined): string {
  let source = text ?? '';
  if (!source.trim() && html) source = html.replace(/<(style|script)[^>]*>[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' ');
  const lines: string[] = [];
  for (const line of source.replace(/\r\n/g, '\n').split('\n')) {
    if (/^\s*>/.test(line) || /^\s*On .+ wrote:\s*$/.test(line) || /^-{2,}\s*Original Message\s*-{2,}/i.test(line)) break;
    lines.push(line);
  }
  const collapsed = lines.join(' ').replace(/\s+/g, ' ').trim();
  return collapsed.length > excerptLength ? `${collapsed.slice(0, excerptLength - 1)}…` : collapsed;
}

const InboundParseSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    cc: z.string().optional(),
    subject: z.string().optional(),
    text: z.string().optional(),
    html: z.string().optional(),
    headers: z.string(),
    envelope: z.string().optional(),
    charsets: z.string().optional(),
  })
  .meta({ id: 'SendGridInboundParse' });

export function registerInboundEmailDocs(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/webhooks/sendgrid/inbound/{secret}',
    tags: ['Provider webhooks'],
    summary: 'SendGrid Inbound Parse: replies and List-Unsubscribe emails',
    description:
      'The path segment must equal SENDGRID_INBOUND_SECRET (otherwise 404). A reply is matched to its contact by the sender address and to the message it answers by a `reply+{messageId}@REPLY_DOMAIN` recipient or the In-Reply-To/References headers, logged as an email activity and signalled to the contact workflow; automatic replies (Auto-Submitted, X-Autoreply, Precedence, out-of-office subjects) are logged with `autoReply: true` and not signalled. Mail to `unsubscribe@` with `unsubscribe-{token}` as subject revokes consent. Bodies up to 10 MB; attachments are not stored.',
    security: [],
    request: {
      params: z.object({ secret: z.string() }),
      body: { content: { 'multipart/form-data': { schema: InboundParseSchema } } },
    },
    responses: {
      200: jsonBody('Stored (or already stored)', z.object({ status: z.enum(['reply', 'auto_reply', 'unsubscribed', 'unmatched', 'duplicate']) })),
      ...problemResponses(400, 404, 413, 415),
    },
  });
}

interface ParsedInbound {
  from: string | null;
  recipients: string[];
  subject: string;
  text: string | undefined;
  html: string | undefined;
  headers: Record<string, string[]>;
  /** The inbound email's own Message-ID, its idempotency key. */
  emailMessageId: string | null;
}

function parseInbound(fields: Record<string, string>): ParsedInbound {
  let charsets: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(fields.charsets ?? '{}');
    if (parsed && typeof parsed === 'object') charsets = parsed as Record<string, string>;
  } catch {
    charsets = {};
  }
  const field = (name: string) => decodeField(fields[name], charsets[name]);
  const headers = parseHeaderBlock(field('headers') ?? '');
  let envelope: { from?: unknown; to?: unknown } = {};
  try {
    envelope = JSON.parse(fields.envelope ?? '{}') as typeof envelope;
  } catch {
    envelope = {};
  }
  const envelopeTo = Array.isArray(envelope.to) ? envelope.to.filter((value): value is string => typeof value === 'string') : [];
  const from = extractAddresses(field('from') ?? headers.from?.[0])[0] ?? (typeof envelope.from === 'string' ? (extractAddresses(envelope.from)[0] ?? null) : null);
  const recipients = [...new Set([...extractAddresses(field('to')), ...extractAddresses(field('cc')), ...envelopeTo.flatMap((value) => extractAddresses(value))])];
  return {
    from,
    recipients,
    subject: (field('subject') ?? headers.subject?.[0] ?? '').trim(),
    text: field('text'),
    html: field('html'),
    headers,
    emailMessageId: messageIds(headers['message-id'])[0] ?? null,
  };
}

export function inboundEmailRouter(deps: ApiDeps, gateway: WorkflowGateway): Router {
  const { prisma, config } = deps;
  const router = Router();
  const ownDomain = (config.REPLY_DOMAIN ?? config.EMAIL_FROM.slice(config.EMAIL_FROM.lastIndexOf('@') + 1)).toLowerCase();

  function secretMatches(candidate: string): boolean {
    if (!config.SENDGRID_INBOUND_SECRET) return false;
    // Digests have equal length, so timingSafeEqual compares without leaking the secret's length.
    const digest = (value: string) => createHash('sha256').update(value).digest();
    return timingSafeEqual(digest(candidate), digest(config.SENDGRID_INBOUND_SECRET));
  }

  async function findAnsweredMessage(email: ParsedInbound) {
    const replyPattern = /^reply\+([0-9a-f-]{36})@(.+)$/i;
    for (const recipient of email.recipients) {
      const match = replyPattern.exec(recipient);
      if (!match || !uuidPattern.test(match[1]!) || match[2] !== ownDomain) continue;
      const byToken = await prisma.message.findUnique({ where: { id: match[1]!.toLowerCase() } });
      if (byToken) return byToken;
    }
    // The direct parent first (In-Reply-To), then References from the newest back.
    const candidates = [...messageIds(email.headers['in-reply-to']), ...messageIds(email.headers.references).reverse()];
    for (const candidate of candidates) {
      const local = candidate.split('@')[0] ?? '';
      if (uuidPattern.test(local)) {
        const byId = await prisma.message.findUnique({ where: { id: local.toLowerCase() } });
        if (byId) return byId;
      }
      const prefix = local.split('.')[0] ?? '';
      const byProviderId = await prisma.message.findFirst({
        where: { providerMessageId: { in: [...new Set([local, prefix].filter(Boolean))] }, channel: 'email' },
        orderBy: { createdAt: 'desc' },
      });
      if (byProviderId) return byProviderId;
    }
    return null;
  }

  function idempotencyKey(email: ParsedInbound): string {
    if (email.emailMessageId) return email.emailMessageId.slice(0, 500);
    // Without a Message-ID, the content identifies a redelivery of the same post.
    return `sha256:${createHash('sha256')
      .update(JSON.stringify([email.from, email.recipients, email.subject, email.headers.date ?? null, email.text ?? email.html ?? '']))
      .digest('hex')}`;
  }

  async function handleUnsubscribeMail(req: Request, email: ParsedInbound, token: string): Promise<'unsubscribed' | 'duplicate' | 'unmatched'> {
    const claims = verifyUnsubscribeToken(config.UNSUBSCRIBE_SECRET, token);
    if (!claims) return 'unmatched';
    const contact = await prisma.contact.findUnique({ where: { id: claims.contactId }, select: { id: true, lifecycleStage: true, deletedAt: true } });
    if (!contact) return 'unmatched';
    const claim = await prisma.$transaction(async (tx) => {
      const claimed = await claimInboundEvent(tx, 'sendgrid:inbound', idempotencyKey(email), { contactId: contact.id });
      if (claimed.duplicate) return claimed;
      await recordConsentChange(
        tx,
        {
          contactId: contact.id,
          channel: claims.channel,
          status: 'revoked',
          source: claims.channel === 'email' ? 'list_unsubscribe' : 'unsubscribe_link',
          method: 'mailto',
          evidence: { from: email.from, emailMessageId: email.emailMessageId, tokenIssuedAt: claims.issuedAt.toISOString() },
        },
        { actorType: 'contact', actorId: contact.id, requestId: String(req.id) },
      );
      return claimed;
    });
    if (claims.channel === 'email' && !contact.deletedAt) {
      await gateway.signalEmailDeliveryEvent(contact.id, contact.lifecycleStage, {
        eventId: claim.id,
        kind: 'unsubscribe',
        address: email.from ?? '',
        messageId: null,
        reason: 'mailto unsubscribe',
      });
    }
    return claim.duplicate ? 'duplicate' : 'unsubscribed';
  }

  router.post('/:secret', async (req, res) => {
    if (!secretMatches(String(req.params.secret))) {
      // The same answer as any unknown path: a wrong secret must not confirm the endpoint exists.
      throw new HttpProblem(404, 'not-found', 'Not found.', `There is no ${req.method} ${req.baseUrl}/….`);
    }
    if (!req.is('multipart/form-data')) {
      throw new HttpProblem(415, 'unsupported-media-type', 'Unsupported Content-Type.', 'Send the body as multipart/form-data.');
    }
    const { fields } = await readFormFields(req, { maxBytes: maxBodyBytes, maxFields: 100 });
    const email = parseInbound(fields);

    const unsubscribeToken = email.recipients.includes(`unsubscribe@${ownDomain}`) ? tokenFromUnsubscribeSubject(email.subject) : null;
    if (unsubscribeToken) {
      const outcome = await handleUnsubscribeMail(req, email, unsubscribeToken);
      if (outcome !== 'unmatched') {
        res.status(200).json({ status: outcome });
        return;
      }
    }

    const message = await findAnsweredMessage(email);
    const sender = email.from ? await prisma.contactEmail.findUnique({ where: { address: email.from }, select: { contactId: true } }) : null;
    // Someone writing from an address we do not know, in answer to our message, is most likely
    // the contact from another mailbox.
    const contactId = sender?.contactId ?? message?.contactId ?? null;
    const verdict = detectAutoReply({ headers: email.headers, subject: email.subject, from: email.from });

    const claim = await prisma.$transaction(async (tx) => {
      const claimed = await claimInboundEvent(tx, 'sendgrid:inbound', idempotencyKey(email), { contactId });
      if (claimed.duplicate || !contactId) return claimed;
      const activity = await tx.activity.create({
        data: {
          contactId,
          type: 'email',
          subject: email.subject || '(no subject)',
          data: {
            direction: 'inbound',
            from: email.from,
            to: email.recipients,
            subject: email.subject,
            excerpt: replyExcerpt(email.text, email.html),
            messageId: message?.id ?? null,
            emailMessageId: email.emailMessageId,
            autoReply: verdict.autoReply,
            autoReplyReason: verdict.reason,
          },
        },
      });
      await tx.inboundEvent.update({ where: { id: claimed.id }, data: { activityId: activity.id } });
      return { ...claimed, activityId: activity.id };
    });

    if (!claim.contactId) {
      req.log.info({ from: email.from }, 'inbound email from an unknown sender, not about one of our messages');
      res.status(200).json({ status: claim.duplicate ? 'duplicate' : 'unmatched' });
      return;
    }
    // Redeliveries signal again (the first may have failed after storing); the workflow dedupes by id.
    if (!verdict.autoReply) {
      const contact = await prisma.contact.findUnique({ where: { id: claim.contactId }, select: { lifecycleStage: true, deletedAt: true } });
      if (contact && !contact.deletedAt) {
        await gateway.signalEmailDeliveryEvent(claim.contactId, contact.lifecycleStage, {
          eventId: claim.id,
          kind: 'reply',
          address: email.from ?? '',
          messageId: message?.id ?? null,
          reason: null,
        });
      }
    }
    res.status(200).json({ status: claim.duplicate ? 'duplicate' : verdict.autoReply ? 'auto_reply' : 'reply' });
  });
  return router;
}
