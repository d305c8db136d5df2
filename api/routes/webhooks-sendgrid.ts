import express, { Router, type Request } from 'express';
import { EventWebhook, EventWebhookHeader } from '@sendgrid/eventwebhook';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { ConsentChange } from '../../domain/consent';
import { ValidationError } from '../../domain/errors';
import type { MessageStatus } from '../../domain/message-status';
import { normalizeEmail } from '../../domain/normalize';
import type { EmailDeliveryEvent } from '../../workflows/contact-lifecycle';
import type { ApiDeps } from '../deps';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { HttpProblem, fieldErrors } from '../problem';
import { recordConsentChange } from '../services/consent';
import { applyMessageEvent, claimInboundEvent, findInboundEvent } from '../services/message-events';
import type { WorkflowGateway } from '../workflow-gateway';

/**
 * SendGrid's Signed Event Webhook: delivery, engagement, bounce, spam and unsubscribe events
 * in batches. The signature covers the raw bytes, so this router parses its own body and must
 * be mounted before the app's JSON parser.
 */

/** SendGrid batches stay under this size. */
const bodyLimit = '1mb';
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One event as SendGrid posts it; custom args (messageId, contactId) arrive as top-level keys. */
const SendGridEventSchema = z.looseObject({
  event: z.string().min(1).max(64),
  email: z.string().max(320).optional(),
  timestamp: z.number().int().nonnegative(),
  sg_event_id: z.string().min(1).max(200).optional(),
  sg_message_id: z.string().min(1).max(500).optional(),
  type: z.string().max(64).optional(),
  reason: z.string().max(5000).optional(),
  status: z.string().max(64).optional(),
  bounce_classification: z.string().max(200).optional(),
  url: z.string().max(8000).optional(),
  asm_group_id: z.number().int().optional(),
  ip: z.string().max(100).optional(),
  useragent: z.string().max(2000).optional(),
  messageId: z.unknown().optional(),
  contactId: z.unknown().optional(),
  custom_args: z.record(z.string(), z.unknown()).optional(),
  unique_args: z.record(z.string(), z.unknown()).optional(),
});
const SendGridBatchSchema = z.array(SendGridEventSchema).max(10_000).meta({ id: 'SendGridEventBatch', description: 'SendGrid Event Webhook batch' });
type SendGridEvent = z.infer<typeof SendGridEventSchema>;

const WebhookAckSchema = z
  .object({ received: z.number().int(), recorded: z.number().int(), duplicates: z.number().int(), ignored: z.number().int() })
  .meta({ id: 'WebhookAck' });

export function registerSendGridWebhookDocs(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/webhooks/sendgrid',
    tags: ['Provider webhooks'],
    summary: 'SendGrid Signed Event Webhook (delivery, engagement, bounces, spam reports, unsubscribes)',
    description:
      'Authenticated by the ECDSA signature in `X-Twilio-Email-Event-Webhook-Signature` over `X-Twilio-Email-Event-Webhook-Timestamp` + the raw body, checked with SENDGRID_WEBHOOK_PUBLIC_KEY; timestamps older than SENDGRID_WEBHOOK_MAX_AGE_SECONDS are refused. Idempotent by `sg_event_id` and by `sg_message_id` + event + timestamp. Answers 200 only once every event is stored and the contact workflows are signalled; any failure answers 5xx so SendGrid retries.',
    security: [],
    request: {
      headers: z.object({
        'X-Twilio-Email-Event-Webhook-Signature': z.string(),
        'X-Twilio-Email-Event-Webhook-Timestamp': z.string(),
      }),
      body: { content: { 'application/json': { schema: SendGridBatchSchema } } },
    },
    responses: {
      200: jsonBody('Every event is stored (or was already)', WebhookAckSchema),
      ...problemResponses(400, 401, 403, 404, 413, 415, 422),
    },
  });
}

interface EventEffect {
  status: MessageStatus | null;
  /** What the contact workflow is told, if anything. */
  signal: EmailDeliveryEvent['kind'] | null;
  /** Consent revoked for email, if the event means the person said no. */
  revoke: Pick<ConsentChange, 'source' | 'method'> | null;
}

/** What each SendGrid event means here; events not listed are acknowledged and ignored. */
export function sendGridEventEffect(event: Pick<SendGridEvent, 'event' | 'type'>): EventEffect | null {
  switch (event.event) {
    case 'processed':
      return { status: 'queued', signal: null, revoke: null };
    case 'deferred':
      return { status: 'deferred', signal: null, revoke: null };
    case 'delivered':
      return { status: 'delivered', signal: null, revoke: null };
    case 'dropped':
      return { status: 'dropped', signal: null, revoke: null };
    case 'bounce':
      // "blocked" is the receiving server refusing for now (reputation, content): not a dead address.
      return event.type === 'blocked'
        ? { status: 'undelivered', signal: 'blocked', revoke: null }
        : { status: 'bounced', signal: 'hard_bounce', revoke: null };
    case 'open':
      return { status: 'opened', signal: null, revoke: null };
    case 'click':
      return { status: 'clicked', signal: null, revoke: null };
    case 'spamreport':
      return { status: 'spam_reported', signal: 'spam_report', revoke: { source: 'spam_report', method: 'sendgrid:spamreport' } };
    case 'unsubscribe':
    case 'group_unsubscribe':
      return { status: 'unsubscribed', signal: 'unsubscribe', revoke: { source: 'provider', method: `sendgrid:${event.event}` } };
    default:
      return null;
  }
}

/** Custom args are top-level keys in the event; older integrations nest them. */
function customArg(event: SendGridEvent, name: 'messageId' | 'contactId'): string | null {
  const value = event[name] ?? event.custom_args?.[name] ?? event.unique_args?.[name];
  return typeof value === 'string' && uuidPattern.test(value) ? value.toLowerCase() : null;
}

/** sg_message_id is `<X-Message-Id>.<filter suffix>`; the prefix is what the send returned. */
function providerIdPrefix(sgMessageId: string | undefined): string | null {
  if (!sgMessageId) return null;
  const prefix = sgMessageId.split('.')[0] ?? '';
  return prefix.length > 0 ? prefix : null;
}

function messageEventKey(event: SendGridEvent): string | null {
  if (!event.sg_message_id) return null;
  // Two clicks on different links in the same second are two events; a retry repeats the url.
  const suffix = event.event === 'click' && event.url ? `:${event.url}` : '';
  return `${event.sg_message_id}:${event.event}:${event.timestamp}${suffix}`.slice(0, 1000);
}

type Outcome = 'recorded' | 'duplicate' | 'ignored';

export function sendGridWebhookRouter(deps: ApiDeps, gateway: WorkflowGateway): Router {
  const { prisma, config, logger } = deps;
  const router = Router();
  const webhook = new EventWebhook();
  let publicKey: ReturnType<EventWebhook['convertPublicKeyToECDSA']> | null = null;
  if (config.SENDGRID_WEBHOOK_PUBLIC_KEY) {
    try {
      publicKey = webhook.convertPublicKeyToECDSA(config.SENDGRID_WEBHOOK_PUBLIC_KEY);
    } catch {
      // Fail at start-up, not at the first event: a bad key would reject every delivery.
      throw new Error('SENDGRID_WEBHOOK_PUBLIC_KEY is not a valid ECDSA public key (base64 DER or PEM from the SendGrid console)');
    }
  }

  function verify(req: Request, body: Buffer): void {
    const signature = req.get(EventWebhookHeader.SIGNATURE());
    const timestamp = req.get(EventWebhookHeader.TIMESTAMP());
    if (!signature || !timestamp) {
      throw new HttpProblem(401, 'missing-signature', 'Signature required.', 'Send the SendGrid signature and timestamp headers.');
    }
    const invalid = new HttpProblem(403, 'invalid-signature', 'Invalid signature.', 'The signature does not match the body, or the timestamp is too old.');
    if (!/^\d{1,12}$/.test(timestamp)) throw invalid;
    const ageSeconds = Math.abs(Date.now() / 1000 - Number(timestamp));
    if (ageSeconds > config.SENDGRID_WEBHOOK_MAX_AGE_SECONDS) throw invalid;
    let valid = false;
    try {
      valid = publicKey !== null && webhook.verifySignature(publicKey, body, signature, timestamp);
    } catch {
      valid = false; // an undecodable signature is simply a wrong one
    }
    if (!valid) throw invalid;
  }

  function parseBatch(body: Buffer): SendGridEvent[] {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new HttpProblem(400, 'malformed-json', 'Malformed JSON.', 'The body is not valid JSON.', [
        { field: '', message: error instanceof Error ? error.message : 'not valid JSON' },
      ]);
    }
    if (!Array.isArray(json)) throw new ValidationError([{ field: '', message: 'must be an array of events' }], 'The body must be an array of SendGrid events.');
    const parsed = SendGridBatchSchema.safeParse(json);
    if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error), 'The batch has invalid events.');
    return parsed.data;
  }

  async function findMessage(event: SendGridEvent) {
    const messageId = customArg(event, 'messageId');
    if (messageId) {
      const byId = await prisma.message.findUnique({ where: { id: messageId } });
      if (byId) return byId;
    }
    // Bounces and spam reports often come without custom args: the provider id links them to
    // the message, set from the first event that had them if the send did not store it.
    const prefix = providerIdPrefix(event.sg_message_id);
    if (!prefix) return null;
    return prisma.message.findFirst({
      where: { providerMessageId: { in: [prefix, event.sg_message_id!] }, channel: 'email' },
      orderBy: { createdAt: 'desc' },
    });
  }

  async function findContactId(event: SendGridEvent, messageContactId: string | null): Promise<string | null> {
    if (messageContactId) return messageContactId;
    const fromArgs = customArg(event, 'contactId');
    if (fromArgs && (await prisma.contact.findUnique({ where: { id: fromArgs }, select: { id: true } }))) return fromArgs;
    const email = event.email ? normalizeEmail(event.email) : null;
    if (email?.ok) {
      const owner = await prisma.contactEmail.findUnique({ where: { address: email.value }, select: { contactId: true } });
      if (owner) return owner.contactId;
    }
    return null;
  }

  async function processEvent(req: Request, event: SendGridEvent): Promise<Outcome> {
    const effect = sendGridEventEffect(event);
    if (!effect) return 'ignored';
    const key = messageEventKey(event);
    if (!event.sg_event_id && !key) {
      req.log.warn({ event: event.event }, 'SendGrid event without sg_event_id or sg_message_id ignored');
      return 'ignored';
    }
    const message = await findMessage(event);
    const contactId = await findContactId(event, message?.contactId ?? null);
    const occurredAt = new Date(event.timestamp * 1000);
    const email = event.email ? normalizeEmail(event.email) : null;
    const address = email?.ok ? email.value : (message?.toAddress ?? null);

    const stored = await prisma.$transaction(async (tx) => {
      const primary = event.sg_event_id ? await claimInboundEvent(tx, 'sendgrid:event', event.sg_event_id, { contactId }) : null;
      if (primary?.duplicate) {
        const second = key ? await findInboundEvent(tx, 'sendgrid:message-event', key) : null;
        return { duplicate: true, eventId: second?.id ?? primary.id, contactId: second?.contactId ?? primary.contactId };
      }
      // A retried delivery may carry a new sg_event_id for the same event: the second key catches it.
      const second = key ? await claimInboundEvent(tx, 'sendgrid:message-event', key, { contactId }) : null;
      if (second?.duplicate) return { duplicate: true, eventId: second.id, contactId: second.contactId };
      const eventId = second?.id ?? primary!.id;

      if (message) {
        await applyMessageEvent(
          tx,
          {
            messageId: message.id,
            provider: 'sendgrid',
            event: event.event === 'bounce' && event.type === 'blocked' ? 'blocked' : event.event,
            providerEventId: event.sg_event_id ?? null,
            occurredAt,
            // SendGrid's own report, verbatim: the outbox reads sg_message_id from it when reconciling.
            data: event,
          },
          {
            status: effect.status,
            providerMessageId: providerIdPrefix(event.sg_message_id),
            error: effect.signal === 'hard_bounce' || effect.signal === 'blocked' || event.event === 'dropped' ? (event.reason ?? event.bounce_classification ?? null) : null,
          },
        );
      }
      if (effect.revoke && contactId) {
        await recordConsentChange(
          tx,
          {
            contactId,
            channel: 'email',
            status: 'revoked',
            ...effect.revoke,
            ip: event.ip ?? null,
            userAgent: event.useragent ?? null,
            evidence: { sgEventId: event.sg_event_id ?? null, sgMessageId: event.sg_message_id ?? null, messageId: message?.id ?? null, email: event.email ?? null, asmGroupId: event.asm_group_id ?? null },
            at: occurredAt,
          },
          { actorType: 'provider', actorId: 'sendgrid', requestId: String(req.id) },
        );
      }
      return { duplicate: false, eventId, contactId };
    });

    // Redeliveries signal again: the first delivery may have stored everything and then failed
    // to signal. The workflow ignores an event id it has already handled.
    if (effect.signal && stored.contactId && address) {
      const contact = await prisma.contact.findUnique({ where: { id: stored.contactId }, select: { lifecycleStage: true, deletedAt: true } });
      if (contact && !contact.deletedAt) {
        await gateway.signalEmailDeliveryEvent(stored.contactId, contact.lifecycleStage, {
          eventId: stored.eventId,
          kind: effect.signal,
          address,
          messageId: message?.id ?? null,
          reason: event.reason ?? event.bounce_classification ?? null,
        });
      }
    }
    return stored.duplicate ? 'duplicate' : 'recorded';
  }

  router.post('/', express.raw({ type: 'application/json', limit: bodyLimit }), async (req, res) => {
    if (!publicKey) throw new HttpProblem(404, 'not-found', 'Not found.', 'The SendGrid event webhook is not configured (SENDGRID_WEBHOOK_PUBLIC_KEY).');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    verify(req, body);
    const events = parseBatch(body);
    const counts = { received: events.length, recorded: 0, duplicates: 0, ignored: 0 };
    // One event after the other, each in its own transaction: a failure part-way answers 5xx,
    // SendGrid retries the batch, and the events already stored come back as duplicates.
    for (const event of events) {
      const outcome = await processEvent(req, event);
      if (outcome === 'recorded') counts.recorded += 1;
      else if (outcome === 'duplicate') counts.duplicates += 1;
      else counts.ignored += 1;
    }
    logger.debug(counts, 'SendGrid events processed');
    res.status(200).json(counts);
  });
  return router;
}
