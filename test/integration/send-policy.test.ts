import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { createActivities } from '../../activities';
import { CaptureEmailProvider } from '../../activities/providers/capture-email';
import { CaptureSmsProvider } from '../../activities/providers/capture-sms';
import { TemplateRenderer } from '../../activities/templates';
import { verifyUnsubscribeToken } from '../../domain/unsubscribe-token';
import { seedDemoData } from '../../prisma/seed';
import { templatesRoot } from '../../runtime/worker';
import { createTestDatabase, type TestDatabase } from '../support/database';

const secret = 'send-policy-test-secret-0123456789abcdef';
let db: TestDatabase;
let activities: ReturnType<typeof createActivities>;

beforeAll(async () => {
  db = await createTestDatabase();
  await seedDemoData(db.prisma);
  activities = createActivities({
    prisma: db.prisma,
    logger: pino({ level: 'silent' }),
    emailProvider: new CaptureEmailProvider(),
    smsProvider: new CaptureSmsProvider('+15005550006'),
    templates: new TemplateRenderer(templatesRoot, db.prisma, { sender: { company: 'Touchpoint', postalAddress: '1 Example Street, Springfield' } }),
    emailFrom: { address: 'hello@example.com', name: 'Touchpoint' },
    publicUrl: 'https://crm.example.com',
    unsubscribe: { UNSUBSCRIBE_SECRET: secret, PUBLIC_URL: 'https://crm.example.com', PORT: 3000, EMAIL_FROM: 'hello@example.com' },
    sendPolicy: { smsQuietHours: { start: '21:00', end: '08:00' }, frequencyCap: 2, frequencyCapPolicy: 'defer', fallbackTimeZone: 'UTC' },
  });
});
afterAll(() => db.drop());

async function consentingContact(email: string, timeZone: string) {
  return db.prisma.contact.create({
    data: {
      firstName: 'Mia',
      timeZone,
      emails: { create: { address: email, isPrimary: true } },
      phones: { create: { e164: `+1415555${String(Math.floor(Math.random() * 9000) + 1000)}`, isPrimary: true } },
      consents: { create: [{ channel: 'email', status: 'granted', source: 'api', at: new Date() }, { channel: 'sms', status: 'granted', source: 'api', at: new Date() }] },
    },
  });
}

describe('marketing sends', () => {
  it('carry a signed unsubscribe link in the footer and RFC 8058 List-Unsubscribe headers', async () => {
    const contact = await consentingContact('mia@example.com', 'Europe/Berlin');
    const outcome = await activities.sendTemplatedEmail({ idempotencyKey: `test:${contact.id}:promo`, contactId: contact.id, templateKey: 'welcome', transactional: false });
    expect(outcome.status).toBe('accepted');
    const message = await db.prisma.message.findFirstOrThrow({ where: { contactId: contact.id } });
    const headers = message.headers as Record<string, string>;
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const url = /<(https:\/\/crm\.example\.com\/u\/[^>]+)>/.exec(headers['List-Unsubscribe'] ?? '')?.[1];
    expect(url).toBeDefined();
    expect(headers['List-Unsubscribe']).toContain('mailto:unsubscribe@example.com');
    expect(verifyUnsubscribeToken(secret, url!.split('/u/')[1]!)).toMatchObject({ contactId: contact.id, channel: 'email' });
    expect(message.html).toContain(url!);
    expect(message.html).toContain('1 Example Street, Springfield');
  });

  it('are held back by the frequency cap until the oldest send leaves the 7-day window', async () => {
    const contact = await consentingContact('capped@example.com', 'UTC');
    for (const step of ['one', 'two']) {
      expect((await activities.sendTemplatedEmail({ idempotencyKey: `test:${contact.id}:${step}`, contactId: contact.id, templateKey: 'welcome', transactional: false })).status).toBe('accepted');
    }
    const first = await db.prisma.message.findFirstOrThrow({ where: { contactId: contact.id }, orderBy: { createdAt: 'asc' } });
    const third = await activities.sendTemplatedEmail({ idempotencyKey: `test:${contact.id}:three`, contactId: contact.id, templateKey: 'welcome', transactional: false });
    expect(third).toEqual({ status: 'deferred', reason: 'frequency_cap', until: new Date(first.createdAt.getTime() + 7 * 86_400_000).toISOString() });
    expect(await db.prisma.message.count({ where: { contactId: contact.id } })).toBe(2);
    // A transactional message is never held back by marketing limits.
    const notice = await activities.sendTemplatedEmail({ idempotencyKey: `test:${contact.id}:notice`, contactId: contact.id, templateKey: 'welcome', transactional: true });
    expect(notice.status).toBe('accepted');
  });

  it('wait for the end of SMS quiet hours in the contact\'s time zone', async () => {
    // Pick the zone where it is now 23:00-ish: quiet. Etc/GMT zones have no DST, which keeps it exact.
    const hourUtc = new Date().getUTCHours();
    const offset = ((23 - hourUtc + 36) % 24) - 12; // local = UTC + offset lands on 23:xx
    const zone = offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
    const contact = await consentingContact('night@example.com', zone);
    const outcome = await activities.sendTemplatedSms({ idempotencyKey: `test:${contact.id}:sms`, contactId: contact.id, templateKey: 'welcome', transactional: false });
    expect(outcome).toMatchObject({ status: 'deferred', reason: 'quiet_hours' });
    const until = new Date((outcome as { until: string }).until);
    const hoursAhead = (until.getTime() - Date.now()) / 3_600_000;
    expect(hoursAhead).toBeGreaterThan(8);
    expect(hoursAhead).toBeLessThanOrEqual(9);
    expect(await db.prisma.message.count({ where: { contactId: contact.id } })).toBe(0);
  });
});
