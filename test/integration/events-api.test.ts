import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let marketer: string;
let salesOps: string;
let manager: string;
beforeAll(async () => {
  stack = await startTestStack();
  [marketer, salesOps, manager] = await Promise.all([stack.keyFor('marketer'), stack.keyFor('sales_ops'), stack.keyFor('manager')]);
});
afterAll(() => stack.close());

const prisma = () => stack.db.prisma;

interface Reply {
  status: number;
  body: Record<string, unknown> & { errors?: Array<{ field: string; message: string }>; results?: Array<{ id: string; status: string; contactId: string | null }>; data?: Array<Record<string, unknown>> };
}

async function call(method: string, path: string, options: { key?: string; body?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? marketer}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${stack.baseUrl}${path}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Reply['body']) : {} };
}

async function newContact(stage: 'lead' | 'customer' = 'lead') {
  const address = `buyer-${randomUUID().slice(0, 8)}@example.com`;
  const contact = await prisma().contact.create({ data: { firstName: 'Bea', lifecycleStage: stage, emails: { create: { address, isPrimary: true } }, phones: { create: { e164: `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}` } } }, include: { phones: true } });
  return { contact, address, phone: contact.phones[0]!.e164 };
}

const eventId = () => `evt_${randomUUID()}`;

describe('POST /v1/events', () => {
  it('rejects the whole batch when one event is invalid, naming the field with its index, and stores nothing', async () => {
    const { contact, address } = await newContact();
    const reply = await call('POST', '/v1/events', {
      body: {
        events: [
          { id: eventId(), type: 'page_view', contact: { email: address }, url: 'https://example.com/pricing' },
          { id: eventId(), type: 'purchase', contact: { id: contact.id }, amount: 'ten', currency: 'EUR' },
          { id: eventId(), type: 'page_view', contact: { email: address }, url: 'https://example.com/', occurredAt: new Date(Date.now() + 3_600_000).toISOString() },
        ],
      },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([
      { field: 'events/1/amount', message: expect.any(String) },
      { field: 'events/2/occurredAt', message: expect.stringMatching(/future/) },
    ]);
    expect(await prisma().activity.count({ where: { contactId: contact.id } })).toBe(0);
    expect(await prisma().inboundEvent.count({ where: { contactId: contact.id } })).toBe(0);
  });

  it('stores each event as an activity of its contact, found by id, email or phone, and keeps the latest purchase time', async () => {
    const { contact, address, phone } = await newContact();
    const later = '2026-05-02T10:00:00.000Z';
    const earlier = '2026-04-01T10:00:00.000Z';
    const events = [
      { id: eventId(), type: 'page_view', contact: { email: address.toUpperCase() }, url: 'https://example.com/pricing', title: 'Pricing' },
      { id: eventId(), type: 'purchase', contact: { phone }, amount: 49.9, currency: 'EUR', items: [{ sku: 'PRO', name: 'Pro plan', quantity: 1, price: 49.9 }], occurredAt: later },
      { id: eventId(), type: 'purchase', contact: { id: contact.id }, amount: 10, currency: 'USD', occurredAt: earlier },
      { id: eventId(), type: 'email_reply', contact: { id: contact.id }, messageId: 'abc' },
      { id: eventId(), type: 'meeting_booked', contact: { id: contact.id }, with: 'Rita' },
      { id: eventId(), type: 'custom', contact: { id: contact.id }, name: 'trial_started', properties: { plan: 'pro' } },
    ];
    const reply = await call('POST', '/v1/events', { key: salesOps, body: { events } });
    expect(reply.status).toBe(202);
    expect(reply.body.results).toEqual(events.map((event) => ({ id: event.id, status: 'accepted', contactId: contact.id })));

    const activities = await prisma().activity.findMany({ where: { contactId: contact.id }, orderBy: { createdAt: 'asc' } });
    expect(activities.map((activity) => activity.type)).toEqual(['page_view', 'purchase', 'purchase', 'email_reply', 'meeting_booked', 'custom']);
    expect(activities[0]).toMatchObject({ subject: 'Viewed Pricing', data: { url: 'https://example.com/pricing', title: 'Pricing', externalId: events[0]!.id } });
    expect(activities[1]).toMatchObject({ subject: 'Purchased for €49.90', occurredAt: new Date(later), data: { amount: 49.9, currency: 'EUR', items: [{ sku: 'PRO', quantity: 1 }] } });
    expect(activities[5]!.data).toMatchObject({ name: 'trial_started', properties: { plan: 'pro' } });
    expect((await prisma().contact.findUniqueOrThrow({ where: { id: contact.id } })).lastPurchaseAt).toEqual(new Date(later));
    expect(await prisma().inboundEvent.count({ where: { source: 'events', contactId: contact.id } })).toBe(6);
  });

  it('answers a repeated id as a duplicate and stores it once', async () => {
    const { contact } = await newContact();
    const event = { id: eventId(), type: 'page_view', contact: { id: contact.id }, url: 'https://example.com/docs' };
    expect((await call('POST', '/v1/events', { body: { events: [event] } })).body.results).toEqual([{ id: event.id, status: 'accepted', contactId: contact.id }]);
    const again = await call('POST', '/v1/events', { body: { events: [{ ...event, url: 'https://example.com/changed' }, { ...event, id: eventId() }] } });
    expect(again.status).toBe(202);
    expect(again.body.results!.map((result) => result.status)).toEqual(['duplicate', 'accepted']);
    const views = await prisma().activity.findMany({ where: { contactId: contact.id, type: 'page_view' } });
    expect(views.map((view) => (view.data as { url: string }).url).sort()).toEqual(['https://example.com/docs', 'https://example.com/docs']);
  });

  it('does not store events about unknown or deleted contacts, and takes them once the contact exists', async () => {
    const { contact } = await newContact();
    await prisma().contact.update({ where: { id: contact.id }, data: { deletedAt: new Date() } });
    const stranger = { id: eventId(), type: 'email_reply', contact: { email: 'nobody-we-know@example.com' } };
    const reply = await call('POST', '/v1/events', { body: { events: [stranger, { id: eventId(), type: 'email_reply', contact: { id: contact.id } }] } });
    expect(reply.body.results!.map((result) => [result.status, result.contactId])).toEqual([['unknown_contact', null], ['unknown_contact', null]]);
    expect(await prisma().inboundEvent.count({ where: { source: 'events', externalId: stranger.id } })).toBe(0);

    const known = await prisma().contact.create({ data: { emails: { create: { address: 'nobody-we-know@example.com', isPrimary: true } } } });
    expect((await call('POST', '/v1/events', { body: { events: [stranger] } })).body.results).toEqual([{ id: stranger.id, status: 'accepted', contactId: known.id }]);
  });

  it('is open to admin, marketer and sales_ops keys only', async () => {
    const { contact } = await newContact();
    const body = { events: [{ id: eventId(), type: 'email_reply', contact: { id: contact.id } }] };
    expect((await call('POST', '/v1/events', { key: stack.keys.rep, body })).status).toBe(403);
    expect((await call('POST', '/v1/events', { key: manager, body })).status).toBe(403);
    expect((await call('POST', '/v1/events', { key: stack.keys.admin, body })).status).toBe(202);
  });
});

describe('scoring and lifecycle rules', () => {
  it('lets sales ops create, change and delete a scoring rule, audited, and everyone read it', async () => {
    const rule = { name: 'Pricing page', eventType: 'page_view', match: { url: { contains: '/pricing' } }, points: 10 };
    expect((await call('POST', '/v1/scoring-rules', { key: marketer, body: rule })).status).toBe(403);
    const created = await call('POST', '/v1/scoring-rules', { key: salesOps, body: rule });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...rule, active: true });
    const id = created.body.id as string;

    expect((await call('GET', `/v1/scoring-rules/${id}`, { key: stack.keys.rep })).body).toMatchObject({ id, points: 10 });
    const changed = await call('PATCH', `/v1/scoring-rules/${id}`, { key: salesOps, body: { points: 15, active: false } });
    expect(changed.body).toMatchObject({ points: 15, active: false, match: rule.match });
    expect((await call('GET', '/v1/scoring-rules?active=false', { key: manager })).body.data!.map((row) => row.id)).toContain(id);

    // Changing the type re-checks the match against it: a purchase has no url.
    const wrongType = await call('PATCH', `/v1/scoring-rules/${id}`, { key: salesOps, body: { eventType: 'purchase' } });
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.errors).toEqual([{ field: 'match/url', message: 'purchase events have no property url; rules can match amount, currency' }]);

    expect((await call('DELETE', `/v1/scoring-rules/${id}`, { key: salesOps })).status).toBe(204);
    expect((await call('GET', `/v1/scoring-rules/${id}`)).status).toBe(404);
    const audit = await prisma().auditLog.findMany({ where: { entityType: 'scoring_rule', entityId: id }, orderBy: { at: 'asc' } });
    expect(audit.map((entry) => entry.action)).toEqual(['scoring_rule.created', 'scoring_rule.updated', 'scoring_rule.deleted']);
  });

  it('validates lifecycle rules: known stages, a target outside the sources, matchers that fit the event', async () => {
    const bad = await call('POST', '/v1/lifecycle-rules', { key: salesOps, body: { name: 'x', eventType: 'custom', match: { name: { gte: 3 } }, fromStages: ['lead', 'prospect'], toStage: 'lead' } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors!.map((error) => error.field).sort()).toEqual(['fromStages/1']);
    const loop = await call('POST', '/v1/lifecycle-rules', { key: salesOps, body: { name: 'x', eventType: 'custom', match: { name: { gte: 3 } }, fromStages: ['lead'], toStage: 'lead' } });
    expect(loop.body.errors!.map((error) => error.field).sort()).toEqual(['match/name/gte', 'toStage']);
    const good = await call('POST', '/v1/lifecycle-rules', { key: stack.keys.admin, body: { name: 'Trial qualifies', eventType: 'custom', match: { name: { equals: 'trial_started' } }, fromStages: ['lead', 'mql'], toStage: 'sql' } });
    expect(good.status).toBe(201);
    expect((await call('GET', '/v1/lifecycle-rules', { key: stack.keys.rep })).body.data).toEqual([expect.objectContaining({ name: 'Trial qualifies', fromStages: ['lead', 'mql'], toStage: 'sql' })]);
    await call('DELETE', `/v1/lifecycle-rules/${good.body.id as string}`, { key: salesOps });
  });
});

describe('automation settings', () => {
  it('reads the defaults and saves scoring settings for sales ops only', async () => {
    expect((await call('GET', '/v1/settings/scoring', { key: stack.keys.rep })).body).toEqual({ halfLifeDays: 30, mqlThreshold: 50 });
    expect((await call('PUT', '/v1/settings/scoring', { key: marketer, body: { mqlThreshold: 40 } })).status).toBe(403);
    const saved = await call('PUT', '/v1/settings/scoring', { key: salesOps, body: { mqlThreshold: 40 } });
    expect(saved.body).toEqual({ halfLifeDays: 30, mqlThreshold: 40 });
    const invalid = await call('PUT', '/v1/settings/scoring', { key: salesOps, body: { halfLifeDays: 0 } });
    expect(invalid.body.errors!.map((error) => error.field)).toEqual(['halfLifeDays']);
    expect((await call('GET', '/v1/settings/scoring')).body).toEqual({ halfLifeDays: 30, mqlThreshold: 40 });
    await call('PUT', '/v1/settings/scoring', { key: salesOps, body: {} });
  });

  it('accepts only a published, unarchived sequence for re-engagement', async () => {
    expect((await call('GET', '/v1/settings/reengagement')).body).toEqual({ enabled: true, sequenceId: null, afterDays: 180, churnAfterDays: 60 });
    const missing = await call('PUT', '/v1/settings/reengagement', { body: { sequenceId: randomUUID() } });
    expect(missing.body.errors).toEqual([{ field: 'sequenceId', message: 'is not an existing sequence' }]);
    const draft = await prisma().sequence.create({ data: { name: 'Win back (draft)' } });
    const unpublished = await call('PUT', '/v1/settings/reengagement', { body: { sequenceId: draft.id } });
    expect(unpublished.body.errors).toEqual([{ field: 'sequenceId', message: 'is a sequence with no published version yet' }]);
    const published = await prisma().sequence.create({ data: { name: 'Win back', publishedVersion: 1 } });
    const saved = await call('PUT', '/v1/settings/reengagement', { body: { sequenceId: published.id, afterDays: 120 } });
    expect(saved.status).toBe(200);
    expect(saved.body).toEqual({ enabled: true, sequenceId: published.id, afterDays: 120, churnAfterDays: 60 });
    expect(await prisma().auditLog.count({ where: { entityType: 'automation_setting', entityId: 'reengagement' } })).toBe(1);
    await call('PUT', '/v1/settings/reengagement', { body: {} });
  });
});

describe('tracked events through the contact workflow', () => {
  it('a pricing-page view sent over HTTP moves a lead to sql, recorded on the timeline and in the audit log', async () => {
    await stack.startWorker();
    const rule = await call('POST', '/v1/lifecycle-rules', { key: salesOps, body: { name: 'Pricing page', eventType: 'page_view', match: { url: { contains: '/pricing' } }, fromStages: ['lead'], toStage: 'sql' } });
    const { contact } = await newContact();
    const reply = await call('POST', '/v1/events', { body: { events: [{ id: eventId(), type: 'page_view', contact: { id: contact.id }, url: 'https://example.com/Pricing' }] } });
    expect(reply.status).toBe(202);
    await eventually(() => prisma().contact.findUniqueOrThrow({ where: { id: contact.id } }), (row) => row.lifecycleStage === 'sql');
    expect(await prisma().activity.findFirstOrThrow({ where: { contactId: contact.id, type: 'lifecycle_changed' } })).toMatchObject({
      subject: 'Lifecycle stage lead → sql: rule "Pricing page"',
      data: expect.objectContaining({ from: 'lead', to: 'sql', reason: 'rule', ruleId: rule.body.id }),
    });
    expect(await prisma().auditLog.findFirstOrThrow({ where: { entityId: contact.id, action: 'contact.lifecycle_changed' } })).toMatchObject({ before: { lifecycleStage: 'lead' }, after: { lifecycleStage: 'sql', reason: 'rule' } });
  });
});

describe('scores as the contacts API shows them', () => {
  it('are decayed to now by the scoring half-life, in one contact and in lists', async () => {
    const { contact } = await newContact();
    const month = 30 * 86_400_000;
    await prisma().contact.update({ where: { id: contact.id }, data: { score: 80, scoreAsOf: new Date(Date.now() - month) } });
    expect((await call('GET', `/v1/contacts/${contact.id}`)).body.score).toBe(40);
    await prisma().automationSetting.upsert({ where: { key: 'scoring' }, create: { key: 'scoring', value: { halfLifeDays: 15 } }, update: { value: { halfLifeDays: 15 } } });
    try {
      const listed = await call('GET', `/v1/contacts?email=${encodeURIComponent((await prisma().contactEmail.findFirstOrThrow({ where: { contactId: contact.id } })).address)}`);
      expect(listed.body.data?.map((row) => row.score)).toEqual([20]);
    } finally {
      await prisma().automationSetting.delete({ where: { key: 'scoring' } });
    }
  });
});
