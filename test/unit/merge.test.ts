import { describe, expect, it } from '@jest/globals';
import { decideMerge, mergePickErrors, type MergeImage } from '../../domain/merge';

const day = (n: number) => new Date(Date.UTC(2026, 0, n));

function image(id: string, overrides: Partial<MergeImage> = {}): MergeImage {
  return {
    id,
    firstName: null,
    lastName: null,
    ownerId: null,
    companyId: null,
    source: null,
    timeZone: null,
    country: null,
    lifecycleStage: 'lead',
    score: 0,
    scoreAsOf: null,
    lastPurchaseAt: null,
    tags: [],
    customFields: {},
    emails: [],
    phones: [],
    consents: [],
    createdAt: day(1),
    updatedAt: day(1),
    ...overrides,
  };
}

describe('decideMerge: single values', () => {
  it('takes the newest non-empty value per field, by the record\'s last update', () => {
    const survivor = image('s', { firstName: 'Bob', lastName: 'Smith', timeZone: 'Europe/Berlin', updatedAt: day(10) });
    const newer = image('n', { firstName: 'Robert', lastName: null, timeZone: '', updatedAt: day(20) });
    const merged = decideMerge(survivor, [newer]);
    expect(merged.firstName).toBe('Robert');
    expect(merged.lastName).toBe('Smith');
    expect(merged.timeZone).toBe('Europe/Berlin');
    expect(merged.decisions.firstName).toEqual({ from: 'n', rule: 'newest' });
    expect(merged.decisions.lastName).toEqual({ from: 's', rule: 'newest' });
  });

  it('takes a picked contact\'s value over the newest one', () => {
    const survivor = image('s', { firstName: 'Bob', updatedAt: day(10) });
    const newer = image('n', { firstName: 'Robert', updatedAt: day(20) });
    const merged = decideMerge(survivor, [newer], { firstName: 's' });
    expect(merged.firstName).toBe('Bob');
    expect(merged.decisions.firstName).toEqual({ from: 's', rule: 'picked' });
  });

  it('keeps the survivor\'s value when the records were updated at the same time', () => {
    expect(decideMerge(image('s', { ownerId: 'rita' }), [image('l', { ownerId: 'rob' })]).ownerId).toBe('rita');
  });

  it('keeps the earliest record\'s source, the first touch', () => {
    const survivor = image('s', { source: 'import', createdAt: day(5), updatedAt: day(30) });
    const first = image('l', { source: 'website', createdAt: day(2) });
    expect(decideMerge(survivor, [first]).source).toBe('website');
  });

  it('merges custom fields one field at a time by the same rule, picks included', () => {
    const survivor = image('s', { customFields: { budget: 5000, plan: 'pro', industry: '' }, updatedAt: day(10) });
    const newer = image('n', { customFields: { budget: 9000, industry: 'retail', size: 12 }, updatedAt: day(20) });
    const merged = decideMerge(survivor, [newer], { 'customFields.budget': 's' });
    expect(merged.customFields).toEqual({ budget: 5000, plan: 'pro', industry: 'retail', size: 12 });
    expect(merged.decisions['customFields.budget']).toEqual({ from: 's', rule: 'picked' });
  });
});

describe('decideMerge: stage, score, tags', () => {
  it.each([
    [['lead', 'mql'], 'mql'],
    [['sql', 'mql', 'lead'], 'sql'],
    [['mql', 'customer'], 'customer'],
    [['churned', 'sql'], 'churned'],
    [['at_risk', 'churned'], 'at_risk'],
    [['churned', 'customer', 'at_risk'], 'customer'],
  ] as const)('of stages %j the furthest, %s, wins', (stages, expected) => {
    const [first, ...rest] = stages.map((stage, index) => image(`c${index}`, { lifecycleStage: stage }));
    expect(decideMerge(first!, rest).lifecycleStage).toBe(expected);
  });

  it('keeps the highest score with its own as-of time, not the sum', () => {
    const merged = decideMerge(image('s', { score: 30, scoreAsOf: day(3) }), [image('l', { score: 45, scoreAsOf: day(2) })]);
    expect(merged.score).toBe(45);
    expect(merged.scoreAsOf).toEqual(day(2));
  });

  it('keeps the latest purchase and the union of tags', () => {
    const merged = decideMerge(image('s', { tags: ['vip', 'newsletter'], lastPurchaseAt: day(3) }), [image('l', { tags: ['newsletter', 'webinar'], lastPurchaseAt: day(9) })]);
    expect(merged.lastPurchaseAt).toEqual(day(9));
    expect(merged.tags).toEqual(['vip', 'newsletter', 'webinar']);
  });
});

describe('decideMerge: addresses', () => {
  it('keeps the survivor\'s primary email and phone primary', () => {
    const merged = decideMerge(
      image('s', { emails: [{ address: 's@example.com', isPrimary: true }], phones: [{ e164: '+14155550100', isPrimary: true }] }),
      [image('l', { emails: [{ address: 'l@example.com', isPrimary: true }], phones: [{ e164: '+14155550199', isPrimary: true }], updatedAt: day(9) })],
    );
    expect(merged.primaryEmail).toBe('s@example.com');
    expect(merged.primaryPhone).toBe('+14155550100');
  });

  it('promotes the newest merged contact\'s primary only when the survivor has none', () => {
    const merged = decideMerge(image('s', { phones: [{ e164: '+14155550100', isPrimary: true }] }), [
      image('old', { emails: [{ address: 'old@example.com', isPrimary: true }], updatedAt: day(2) }),
      image('new', { emails: [{ address: 'new@example.com', isPrimary: true }], updatedAt: day(8) }),
    ]);
    expect(merged.primaryEmail).toBe('new@example.com');
    expect(merged.decisions.primaryEmail).toEqual({ from: 'new', rule: 'newest' });
  });
});

describe('decideMerge: consent', () => {
  it('keeps a revocation over a newer grant on another record', () => {
    const merged = decideMerge(image('s', { consents: [{ channel: 'email', status: 'granted', source: 'form:demo', at: day(20) }] }), [
      image('l', { consents: [{ channel: 'email', status: 'revoked', source: 'unsubscribe_link', at: day(5) }] }),
    ]);
    expect(merged.consents).toEqual([{ channel: 'email', status: 'revoked', source: 'unsubscribe_link', at: day(5), fromContactId: 'l' }]);
    expect(merged.decisions['consent.email']).toEqual({ from: 'l', rule: 'most_restrictive' });
  });

  it('decides each channel on its own and takes the newest grant when nobody revoked', () => {
    const merged = decideMerge(
      image('s', { consents: [{ channel: 'email', status: 'granted', source: 'form:demo', at: day(2) }, { channel: 'sms', status: 'revoked', source: 'sms_keyword', at: day(3) }] }),
      [image('l', { consents: [{ channel: 'email', status: 'granted', source: 'import', at: day(7) }, { channel: 'sms', status: 'granted', source: 'form:demo', at: day(9) }] })],
    );
    expect(merged.consents.map(({ channel, status, source }) => ({ channel, status, source }))).toEqual([
      { channel: 'email', status: 'granted', source: 'import' },
      { channel: 'sms', status: 'revoked', source: 'sms_keyword' },
    ]);
  });
});

describe('mergePickErrors', () => {
  it('accepts picks of known fields and custom fields from contacts in the merge', () => {
    expect(mergePickErrors({ firstName: 'a', 'customFields.budget': 'b' }, ['a', 'b'])).toEqual([]);
  });

  it('names a field that cannot be picked and a contact outside the merge', () => {
    expect(mergePickErrors({ lifecycleStage: 'a', lastName: 'z' }, ['a', 'b'])).toEqual([
      { field: 'pick/lifecycleStage', message: expect.stringContaining('cannot be picked') },
      { field: 'pick/lastName', message: 'must be the survivor or one of mergeIds' },
    ]);
  });
});
