import express, { Router, type Request, type Response } from 'express';
import twilio from 'twilio';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { MessageStatus } from '../../domain/message-status';
import { normalizePhone } from '../../domain/normalize';
import { classifySmsKeyword, type SmsKeyword } from '../../domain/sms-keywords';
import { publicUrl } from '../../runtime/config';
import type { ApiDeps } from '../deps';
import { problemResponses } from '../openapi-helpers';
import { HttpProblem } from '../problem';
import { recordConsentChange } from '../services/consent';
import { applyMessageEvent, claimInboundEvent } from '../services/message-events';

/**
 * Twilio's SMS webhooks: status callbacks of sent messages and incoming texts (replies and
 * the STOP/START/HELP keywords). Both are form-encoded and signed with X-Twilio-Signature,
 * an HMAC of the public URL and the parameters, checked with the twilio package's own helper.
 */

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const sidPattern = /^[A-Z]{2}[0-9a-fA-F]{32}$/;
/** Twilio's error for a recipient who replied STOP: the carrier will not deliver to them. */
const optedOutErrorCode = '21610';

type TwilioParams = Record<string, string | string[]>;

const StatusCallbackSchema = z
  .looseObject({
    MessageSid: z.string(),
    MessageStatus: z.string(),
    ErrorCode: z.string().optional(),
    To: z.string().optional(),
    From: z.string().optional(),
    AccountSid: z.string().optional(),
  })
  .meta({ id: 'TwilioStatusCallback' });
const InboundSmsSchema = z
  .looseObject({
    MessageSid: z.string(),
    From: z.string(),
    To: z.string(),
    Body: z.string(),
    NumMedia: z.string().optional(),
    AccountSid: z.string().optional(),
  })
  .meta({ id: 'TwilioInboundSms' });

export function registerTwilioWebhookDocs(registry: OpenAPIRegistry): void {
  const tags = ['Provider webhooks'];
  const headers = z.object({ 'X-Twilio-Signature': z.string() });
  registry.registerPath({
    method: 'post',
    path: '/v1/webhooks/twilio/status',
    tags,
    summary: 'Twilio SMS status callback',
    description:
      'Signed with X-Twilio-Signature over TWILIO_WEBHOOK_BASE_URL (default PUBLIC_URL) + the path and query. The message is found by the `messageId` query parameter of the StatusCallback URL, else by MessageSid. Statuses only move forward; repeats are ignored. ErrorCode 21610 records an SMS opt-out.',
    security: [],
    request: {
      headers,
      query: z.object({ messageId: z.uuid().optional() }),
      body: { content: { 'application/x-www-form-urlencoded': { schema: StatusCallbackSchema } } },
    },
    responses: { 204: { description: 'Recorded (or already recorded)' }, ...problemResponses(400, 403, 404, 415) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/webhooks/twilio/inbound',
    tags,
    summary: 'Twilio incoming SMS',
    description:
      'Signed like the status callback. STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE and OPTOUT opt the sender out of SMS; START, YES and UNSTOP opt back in; HELP and INFO are answered with SMS_HELP_TEXT. Other texts are logged as an sms activity on the contact. Answers TwiML.',
    security: [],
    request: { headers, body: { content: { 'application/x-www-form-urlencoded': { schema: InboundSmsSchema } } } },
    responses: {
      200: { description: 'TwiML: a <Message> for HELP and INFO, otherwise an empty <Response/>', content: { 'text/xml': { schema: z.string() } } },
      ...problemResponses(400, 403, 404, 415),
    },
  });
}

/** Twilio's message statuses in our forward-only order; inbound-only statuses are ignored. */
export function twilioStatus(status: string): MessageStatus | null {
  switch (status) {
    case 'accepted':
    case 'scheduled':
      return 'accepted';
    case 'queued':
    // "sending" is Twilio handing it to the carrier: not yet sent, so no further than queued.
    case 'sending':
      return 'queued';
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'partially_delivered':
      return 'delivered';
    case 'read':
      return 'opened';
    case 'undelivered':
      return 'undelivered';
    case 'failed':
    case 'canceled':
      return 'failed';
    default:
      return null;
  }
}

function single(params: TwilioParams, name: string): string | undefined {
  const value = params[name];
  return Array.isArray(value) ? value[0] : value;
}

function twiml(res: Response, reply: string | null): void {
  const response = new twilio.twiml.MessagingResponse();
  if (reply) response.message(reply);
  res.status(200).type('text/xml').send(response.toString());
}

export function twilioWebhookRouter(deps: ApiDeps): Router {
  const { prisma, config } = deps;
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 200 }));

  /** Twilio signs the URL it called, which is the public one, not what this process sees. */
  function signedUrl(req: Request): string {
    const base = (config.TWILIO_WEBHOOK_BASE_URL ?? publicUrl(config)).replace(/\/+$/, '');
    return `${base}${req.originalUrl}`;
  }

  function verifiedParams(req: Request): TwilioParams {
    if (!config.TWILIO_AUTH_TOKEN) throw new HttpProblem(404, 'not-found', 'Not found.', 'Twilio webhooks are not configured (TWILIO_AUTH_TOKEN).');
    const params = (req.body ?? {}) as TwilioParams;
    const signature = req.get('x-twilio-signature');
    if (!signature || !twilio.validateRequest(config.TWILIO_AUTH_TOKEN, signature, signedUrl(req), params)) {
      throw new HttpProblem(403, 'invalid-signature', 'Invalid signature.', 'X-Twilio-Signature is missing or does not match this URL and body.');
    }
    return params;
  }

  async function contactIdByPhone(raw: string | undefined): Promise<string | null> {
    if (!raw) return null;
    const phone = normalizePhone(raw);
    const e164 = phone.ok ? phone.value : raw.trim();
    const owner = await prisma.contactPhone.findUnique({ where: { e164 }, select: { contactId: true } });
    return owner?.contactId ?? null;
  }

  router.post('/status', async (req, res) => {
    const params = verifiedParams(req);
    const sid = single(params, 'MessageSid');
    const reported = single(params, 'MessageStatus') ?? single(params, 'SmsStatus');
    if (!sid || !sidPattern.test(sid) || !reported) {
      throw new HttpProblem(400, 'bad-request', 'Bad request.', 'MessageSid and MessageStatus are required.');
    }
    const errorCode = single(params, 'ErrorCode') || null;
    const queryId = typeof req.query.messageId === 'string' && uuidPattern.test(req.query.messageId) ? req.query.messageId : null;
    const message =
      (queryId ? await prisma.message.findUnique({ where: { id: queryId } }) : null) ??
      (await prisma.message.findFirst({ where: { providerMessageId: sid }, orderBy: { createdAt: 'desc' } }));
    const contactId = message?.contactId ?? (errorCode === optedOutErrorCode ? await contactIdByPhone(single(params, 'To')) : null);

    await prisma.$transaction(async (tx) => {
      // Twilio repeats callbacks; one status of one message is recorded once.
      const claim = await claimInboundEvent(tx, 'twilio:status', `${sid}:${reported}`, { contactId });
      if (claim.duplicate) return;
      if (message) {
        await applyMessageEvent(
          tx,
          {
            messageId: message.id,
            provider: 'twilio',
            event: reported,
            providerEventId: `${sid}:${reported}`,
            occurredAt: new Date(),
            // Twilio's own parameters, verbatim: the outbox reads MessageSid from them when reconciling.
            data: params,
          },
          { status: twilioStatus(reported), providerMessageId: sid, error: errorCode ? `twilio:${errorCode}` : null },
        );
      } else {
        req.log.warn({ messageSid: sid, status: reported }, 'Twilio status callback for an unknown message');
      }
      if (errorCode === optedOutErrorCode && contactId) {
        await recordConsentChange(
          tx,
          {
            contactId,
            channel: 'sms',
            status: 'revoked',
            source: 'provider',
            method: `twilio:${optedOutErrorCode}`,
            evidence: { messageSid: sid, messageId: message?.id ?? null, to: single(params, 'To') ?? null },
          },
          { actorType: 'provider', actorId: 'twilio', requestId: String(req.id) },
        );
      }
    });
    res.status(204).end();
  });

  router.post('/inbound', async (req, res) => {
    const params = verifiedParams(req);
    const sid = single(params, 'MessageSid') ?? single(params, 'SmsMessageSid');
    const from = single(params, 'From');
    if (!sid || !sidPattern.test(sid) || !from) throw new HttpProblem(400, 'bad-request', 'Bad request.', 'MessageSid and From are required.');
    const body = single(params, 'Body') ?? '';
    const to = single(params, 'To') ?? null;
    const keyword = classifySmsKeyword(body);
    const reply = keyword?.kind === 'help' ? config.SMS_HELP_TEXT : null;
    const contactId = await contactIdByPhone(from);
    if (!contactId) {
      // Nobody we know: nothing to record, but HELP still gets its answer.
      req.log.info({ messageSid: sid }, 'inbound SMS from an unknown number');
      twiml(res, reply);
      return;
    }

    await prisma.$transaction(async (tx) => {
      const claim = await claimInboundEvent(tx, 'twilio:inbound', sid, { contactId });
      if (claim.duplicate) return;
      if (keyword && keyword.kind !== 'help') await recordKeyword(tx, req, contactId, keyword, { sid, from, to, body });
      const activity = await tx.activity.create({
        data: {
          contactId,
          type: 'sms',
          subject: keyword ? `Texted ${keyword.keyword}` : 'Text message received',
          data: { direction: 'inbound', body, from, to, messageSid: sid, keyword: keyword?.keyword ?? null, numMedia: Number(single(params, 'NumMedia') ?? 0) || 0 },
        },
      });
      await tx.inboundEvent.update({ where: { id: claim.id }, data: { activityId: activity.id } });
    });
    twiml(res, reply);
  });

  async function recordKeyword(
    tx: Parameters<typeof recordConsentChange>[0],
    req: Request,
    contactId: string,
    keyword: SmsKeyword,
    text: { sid: string; from: string; to: string | null; body: string },
  ): Promise<void> {
    await recordConsentChange(
      tx,
      {
        contactId,
        channel: 'sms',
        status: keyword.kind === 'opt_out' ? 'revoked' : 'granted',
        source: 'sms_keyword',
        method: `keyword:${keyword.keyword}`,
        evidence: { messageSid: text.sid, from: text.from, to: text.to, body: text.body },
      },
      { actorType: 'contact', actorId: contactId, requestId: String(req.id) },
    );
  }

  return router;
}
