import type { ActivityDeps } from './deps';
import { CaptureSmsProvider } from './providers/capture-sms';
import type { MessagingDeps, SmsProvider } from './providers';
import type { Transport } from './providers/outbox';
import { createTemplatedSender, type TemplatedSendOutcome, type TemplatedSendRequest } from './templated-send';

export type TemplatedSmsRequest = TemplatedSendRequest;
/** `failed` carries Twilio's reason, e.g. 21211 invalid number or 21610 unsubscribed. */
export type SmsSendOutcome = TemplatedSendOutcome<'no_phone_number'>;

/** SMS through the same outbox as email (templated-send.ts), to the contact's first valid phone. */
export function createSmsSendingActivities(deps: ActivityDeps & MessagingDeps) {
  // Capture until Twilio is configured, as for email; callers that predate SMS pass none.
  const smsProvider: SmsProvider = deps.smsProvider ?? new CaptureSmsProvider('capture');
  const transport: Transport = {
    provider: smsProvider.name,
    activityType: 'sms',
    label: 'SMS',
    send: (message) => smsProvider.send({ messageId: message.id, to: message.toAddress, body: message.text ?? '' }),
    ...(smsProvider.findAccepted ? { findAccepted: smsProvider.findAccepted.bind(smsProvider) } : {}),
  };

  const sendTemplatedSms = createTemplatedSender(deps, {
    channel: 'sms',
    transport,
    noAddress: 'no_phone_number',
    addressOf: (contact) => contact.phones.find((phone) => phone.status === 'valid')?.e164,
    async compose({ request, to, variables }) {
      const rendered = await deps.templates.renderSms(request.templateKey, { contact: { ...variables.contact, phone: to }, owner: variables.owner }, request.templateVersion);
      return { fromAddress: smsProvider.from, text: rendered.text };
    },
  });

  return { sendTemplatedSms };
}
