import { Router, type Request, type Response } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { verifyUnsubscribeToken, type UnsubscribeClaims } from '../../domain/unsubscribe-token';
import type { ApiDeps } from '../deps';
import { recordConsentChange } from '../services/consent';
import type { WorkflowGateway } from '../workflow-gateway';
import { readFormFields } from './inbound-email';

/**
 * Unsubscribe pages behind the links and List-Unsubscribe headers of our messages.
 *
 * GET never unsubscribes: mail scanners and link previews fetch every URL in a message, so the
 * page only asks for a click. POST unsubscribes at once, with no cookie, session or script:
 * that is RFC 8058 one-click, which mailbox providers send as `List-Unsubscribe=One-Click`.
 * The token alone authorises it; it is HMAC-signed for one contact and channel.
 */

const channelWords: Record<UnsubscribeClaims['channel'], string> = { email: 'emails', sms: 'text messages' };

export function registerUnsubscribeDocs(registry: OpenAPIRegistry): void {
  const params = z.object({ token: z.string() });
  const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
  registry.registerPath({
    method: 'get',
    path: '/u/{token}',
    tags: ['Unsubscribe'],
    summary: 'Unsubscribe confirmation page (changes nothing)',
    security: [],
    request: { params },
    responses: { 200: html('A page with one button that POSTs to the same URL'), 400: html('The link is not valid') },
  });
  registry.registerPath({
    method: 'post',
    path: '/u/{token}',
    tags: ['Unsubscribe'],
    summary: 'Unsubscribe now (RFC 8058 one-click)',
    description:
      'Revokes consent for the token\'s contact and channel. The body `List-Unsubscribe=One-Click` (form-encoded or multipart) records source `list_unsubscribe`; the confirmation page\'s button records `unsubscribe_link`. Repeating it changes nothing.',
    security: [],
    request: {
      params,
      body: { required: false, content: { 'application/x-www-form-urlencoded': { schema: z.object({ 'List-Unsubscribe': z.literal('One-Click').optional() }) } } },
    },
    responses: { 200: html('"You are unsubscribed"'), 400: html('The link is not valid'), 500: html('Something went wrong; try again') },
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(res: Response, status: number, title: string, body: string): void {
  res
    .status(status)
    .set('Cache-Control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>` +
        `<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}</style>` +
        `</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    );
}

function invalidLink(res: Response): void {
  page(res, 400, 'This link is not valid', '<p>This unsubscribe link is not valid. Please use the link from the most recent message you received.</p>');
}

export function unsubscribeRouter(deps: ApiDeps, gateway: WorkflowGateway): Router {
  const { prisma, config } = deps;
  const router = Router();

  function claimsOf(req: Request): UnsubscribeClaims | null {
    return verifyUnsubscribeToken(config.UNSUBSCRIBE_SECRET, String(req.params.token));
  }

  router.get('/:token', (req, res) => {
    const claims = claimsOf(req);
    if (!claims) return invalidLink(res);
    // No action attribute: the form posts back to exactly this URL, wherever the API is mounted.
    page(
      res,
      200,
      'Unsubscribe',
      `<p>Click the button to stop receiving marketing ${channelWords[claims.channel]} from us.</p>` +
        `<form method="post"><input type="hidden" name="confirm" value="yes"><button type="submit">Unsubscribe</button></form>`,
    );
  });

  router.post('/:token', async (req, res) => {
    const claims = claimsOf(req);
    if (!claims) return invalidLink(res);
    let fields: Record<string, string> = {};
    if (req.is('application/x-www-form-urlencoded') || req.is('multipart/form-data')) {
      try {
        ({ fields } = await readFormFields(req, { maxBytes: 16 * 1024, maxFields: 20 }));
      } catch {
        fields = {}; // an unreadable body still unsubscribes: the token is what counts
      }
    }
    const oneClick = fields['List-Unsubscribe'] === 'One-Click' && claims.channel === 'email';
    try {
      await unsubscribe(req, claims, oneClick);
    } catch (error) {
      req.log.error({ err: error }, 'unsubscribe failed');
      page(res, 500, 'Something went wrong', '<p>We could not record your request just now. Please try again in a minute.</p>');
      return;
    }
    page(res, 200, 'You are unsubscribed', `<p>You are unsubscribed. You will not receive marketing ${channelWords[claims.channel]} from us any more.</p>`);
  });

  async function unsubscribe(req: Request, claims: UnsubscribeClaims, oneClick: boolean): Promise<void> {
    const contact = await prisma.contact.findUnique({
      where: { id: claims.contactId },
      select: { lifecycleStage: true, deletedAt: true, emails: { where: { isPrimary: true }, select: { address: true } } },
    });
    if (!contact) return; // a genuine token of a contact that no longer exists: nothing left to stop
    const consentEventId = await prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM contacts WHERE id = ${claims.contactId}::uuid FOR NO KEY UPDATE`;
      const current = await tx.contactConsent.findUnique({ where: { contactId_channel: { contactId: claims.contactId, channel: claims.channel } } });
      if (current?.status === 'revoked') {
        // Clicked twice, or prefetched and clicked: the first revocation is the evidence.
        const last = await tx.consentEvent.findFirst({
          where: { contactId: claims.contactId, channel: claims.channel, status: 'revoked' },
          orderBy: { at: 'desc' },
          select: { id: true },
        });
        if (last) return last.id;
      }
      const recorded = await recordConsentChange(
        tx,
        {
          contactId: claims.contactId,
          channel: claims.channel,
          status: 'revoked',
          source: oneClick ? 'list_unsubscribe' : 'unsubscribe_link',
          method: oneClick ? 'one_click' : 'confirmation_page',
          ip: req.ip ?? null,
          userAgent: req.get('user-agent')?.slice(0, 1000) ?? null,
          evidence: { tokenIssuedAt: claims.issuedAt.toISOString() },
        },
        { actorType: 'contact', actorId: claims.contactId, requestId: String(req.id) },
      );
      return recorded.consentEventId;
    });
    // Sequences exit on an unsubscribe; the workflow ignores an event id it has seen.
    if (claims.channel === 'email' && !contact.deletedAt) {
      await gateway.signalEmailDeliveryEvent(claims.contactId, contact.lifecycleStage, {
        eventId: consentEventId,
        kind: 'unsubscribe',
        address: contact.emails[0]?.address ?? '',
        messageId: null,
        reason: oneClick ? 'list-unsubscribe one-click' : 'unsubscribe link',
      });
    }
  }

  return router;
}
