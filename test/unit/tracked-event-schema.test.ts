import { describe, expect, it } from '@jest/globals';
import { fieldErrors } from '../../api/problem';
import { LifecycleRuleCreateSchema } from '../../domain/schemas/lifecycle';
import { ScoringRuleCreateSchema } from '../../domain/schemas/scoring';
import { eventProperties, trackedEventBatchSchema } from '../../domain/schemas/tracked-event';

const now = new Date('2026-06-01T12:00:00Z');
const schema = trackedEventBatchSchema(() => now);
const contact = { email: 'Jane.Doe@Example.com' };

function errorsOf(body: unknown) {
  const parsed = schema.safeParse(body);
  return parsed.success ? [] : fieldErrors(parsed.error);
}

describe('tracked event batch schema', () => {
  it('accepts each event type and normalises the contact address', () => {
    const parsed = schema.parse({
      events: [
        { id: 'e1', type: 'page_view', contact, url: 'https://example.com/pricing', title: 'Pricing' },
        { id: 'e2', type: 'purchase', contact: { phone: '+1 415 555 0123' }, amount: 49.9, currency: 'EUR', items: [{ sku: 'PRO-1', name: 'Pro plan', quantity: 1, price: 49.9 }] },
        { id: 'e3', type: 'email_reply', contact: { id: '3f1b7a52-4a57-4c1e-9a7c-2b1f5b0b7c11' } },
        { id: 'e4', type: 'meeting_booked', contact, at: '2026-06-03T15:00:00+02:00', with: 'Rita' },
        { id: 'e5', type: 'custom', contact, name: 'trial_started', properties: { plan: 'pro', seats: 3 }, occurredAt: '2026-06-01T12:04:00Z' },
      ],
    });
    expect(parsed.events[0]!.contact).toEqual({ email: 'jane.doe@example.com' });
    expect(parsed.events[1]!.contact).toEqual({ phone: '+14155550123' });
    expect(parsed.events[1]).toMatchObject({ type: 'purchase', items: [{ sku: 'PRO-1' }] });
  });

  it('names each invalid field with its index in the batch', () => {
    const errors = errorsOf({
      events: [
        { id: 'ok', type: 'page_view', contact, url: 'https://example.com/' },
        { id: 'e2', type: 'page_view', contact, url: 'ftp://example.com/' },
        { id: 'e3', type: 'purchase', contact, amount: -5, currency: 'eur' },
        { id: 'e4', type: 'custom', contact: { email: 'a@example.com', phone: '+14155550123' }, name: '1bad' },
        { id: 'e5', type: 'teleport', contact },
        { id: 'e6', type: 'page_view', contact, url: 'https://example.com/', occurredAt: '2026-06-01T12:06:00Z' },
        { id: 'ok', type: 'page_view', contact, url: 'https://example.com/', extra: 1 },
      ],
    });
    const fields = errors.map((error) => error.field);
    expect(fields).toEqual(expect.arrayContaining(['events/1/url', 'events/2/amount', 'events/2/currency', 'events/3/contact', 'events/3/name', 'events/4/type', 'events/5/occurredAt', 'events/6/extra']));
    expect(errors.find((error) => error.field === 'events/5/occurredAt')?.message).toMatch(/future/);
  });

  it('rejects an id repeated within the batch, naming the first occurrence', () => {
    const errors = errorsOf({ events: [{ id: 'same', type: 'email_reply', contact }, { id: 'same', type: 'email_reply', contact }] });
    expect(errors).toEqual([{ field: 'events/1/id', message: 'repeats the id of events/0' }]);
  });

  it('takes 1 to 500 events', () => {
    expect(errorsOf({ events: [] }).map((error) => error.field)).toEqual(['events']);
    const many = Array.from({ length: 501 }, (_, index) => ({ id: `e${index}`, type: 'email_reply', contact }));
    expect(errorsOf({ events: many }).map((error) => error.field)).toEqual(['events']);
  });

  it('keeps only the small properties rules match on', () => {
    expect(eventProperties('page_view', { url: 'https://example.com/', title: 'Home', referrer: 'https://google.com/' })).toEqual({ url: 'https://example.com/' });
    expect(eventProperties('purchase', { amount: 12.5, currency: 'EUR', items: [{ sku: 'a' }] })).toEqual({ amount: 12.5, currency: 'EUR' });
    expect(eventProperties('custom', { name: 'trial_started', properties: { plan: 'pro' } })).toEqual({ name: 'trial_started' });
    expect(eventProperties('email_reply', { messageId: 'm1' })).toEqual({});
  });
});

describe('rule schemas', () => {
  it('accepts a pricing-page scoring rule', () => {
    expect(ScoringRuleCreateSchema.parse({ name: 'Pricing', eventType: 'page_view', match: { url: { contains: '/pricing' } }, points: 10 })).toMatchObject({ active: true });
  });

  it('names a property the event type does not have, and an operator that does not fit the property', () => {
    const parsed = ScoringRuleCreateSchema.safeParse({ name: 'Bad', eventType: 'page_view', match: { amount: { gte: 5 } }, points: 5 });
    expect(parsed.success ? [] : fieldErrors(parsed.error)).toEqual([{ field: 'match/amount', message: 'page_view events have no property amount; rules can match url' }]);
    const wrongOperator = ScoringRuleCreateSchema.safeParse({ name: 'Bad', eventType: 'purchase', match: { amount: { contains: '5' }, currency: { gte: 1 } }, points: 5 });
    expect(wrongOperator.success ? [] : fieldErrors(wrongOperator.error).map((error) => error.field)).toEqual(['match/amount/contains', 'match/currency/gte']);
  });

  it('refuses a behaviour rule that moves a contact to a stage it starts from', () => {
    const parsed = LifecycleRuleCreateSchema.safeParse({ name: 'Loop', eventType: 'page_view', fromStages: ['lead', 'sql'], toStage: 'sql' });
    expect(parsed.success ? [] : fieldErrors(parsed.error)).toEqual([{ field: 'toStage', message: 'must not be one of fromStages' }]);
  });
});
