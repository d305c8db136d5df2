import { ApplicationFailure } from '@temporalio/common';
import { listUnsubscribeHeaders, unsubscribeLinks } from '../domain/unsubscribe-token';
import type { ActivityDeps } from './deps';
import type { MessagingDeps } from './providers';
import type { Transport } from './providers/outbox';
import { createTemplatedSender, type TemplatedSendOutcome, type TemplatedSendRequest } from './templated-send';

export type TemplatedEmailRequest = TemplatedSendRequest;
export type EmailSendOutcome = TemplatedSendOutcome<'no_email_address'>;

/** How the outbox hands an email row to the provider; shared by contact sends and team notifications (user-email.ts). */
export function emailTransport({ emailProvider, emailFrom }: Pick<ActivityDeps, 'emailProvider' | 'emailFrom'>): Transport {
  return {
    provider: emailProvider.name,
    activityType: 'email',
    label: 'Email',
    send: (message) =>
      emailProvider.send({
        messageId: message.id,
        contactId: message.contactId,
        templateKey: message.templateKey,
        to: message.toAddress,
        from: { address: message.fromAddress, name: emailFrom.name },
        subject: message.subject ?? '',
        html: message.html ?? '',
        text: message.text ?? '',
        headers: message.headers as Record<string, string>,
      }),
    ...(emailProvider.findAccepted ? { findAccepted: emailProvider.findAccepted.bind(emailProvider) } : {}),
  };
}

/** Email through the outbox (templated-send.ts): rendered with the layout, unsubscribe link on marketing. */
export function createEmailSendingActivities(deps: ActivityDeps & MessagingDeps) {
  const { templates, emailFrom } = deps;
  const transport = emailTransport(deps);

  const sendTemplatedEmail = createTemplatedSender(deps, {
    channel: 'email',
    transport,
    noAddress: 'no_email_address',
    addressOf: (contact) => contact.emails.find((email) => email.status === 'valid')?.address,
    async compose({ request, contact, to, variables }) {
      const headers: Record<string, string> = { 'X-Touchpoint-Message-Key': request.idempotencyKey };
      let links: { unsubscribe: string } | null = null;
      if (!request.transactional) {
        // Marketing email without a working unsubscribe link is not allowed to leave at all.
        if (!deps.unsubscribe?.UNSUBSCRIBE_SECRET) {
          throw ApplicationFailure.nonRetryable('Marketing email needs UNSUBSCRIBE_SECRET for its unsubscribe link', 'UnsubscribeNotConfigured');
        }
        links = { unsubscribe: unsubscribeLinks(deps.unsubscribe, contact.id, 'email').url };
        Object.assign(headers, listUnsubscribeHeaders(deps.unsubscribe, contact.id));
      }
      const rendered = await templates.renderEmail(
        request.templateKey,
        {
          contact: { ...variables.contact, email: to },
          owner: variables.owner,
          ...(request.deal ? { deal: request.deal } : {}),
          sender: { company: emailFrom.name },
          ...(links ? { links } : {}),
        },
        request.templateVersion,
      );
      return { fromAddress: emailFrom.address, subject: rendered.subject, html: rendered.html, text: rendered.text, headers };
    },
  });

  return { sendTemplatedEmail };
}
