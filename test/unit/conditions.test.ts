import { describe, expect, it } from '@jest/globals';
import { evaluateCondition, messageFactsFrom, messageStepsOf, type ConditionFacts, type MessageFacts } from '../../domain/conditions';

const none: MessageFacts = { delivered: false, opened: false, clicked: false, replied: false, bounced: false };
const facts = (overrides: Partial<ConditionFacts> = {}): ConditionFacts => ({
  messages: {},
  lifecycleStage: 'lead',
  tags: [],
  score: 0,
  customFields: {},
  ...overrides,
});

describe('branch conditions', () => {
  it('reads what happened to an earlier step\'s message, and false for a step that sent nothing', () => {
    const opened = { type: 'message', step: 'intro', event: 'opened' } as const;
    expect(evaluateCondition(opened, facts({ messages: { intro: { ...none, delivered: true, opened: true } } }))).toBe(true);
    expect(evaluateCondition(opened, facts({ messages: { intro: { ...none, delivered: true } } }))).toBe(false);
    expect(evaluateCondition(opened, facts({ messages: { intro: undefined } }))).toBe(false);
    expect(evaluateCondition(opened, facts())).toBe(false);
  });

  it('checks the lifecycle stage, tags and score', () => {
    expect(evaluateCondition({ type: 'lifecycle', in: ['mql', 'sql'] }, facts({ lifecycleStage: 'sql' }))).toBe(true);
    expect(evaluateCondition({ type: 'lifecycle', in: ['mql', 'sql'] }, facts({ lifecycleStage: 'lead' }))).toBe(false);
    expect(evaluateCondition({ type: 'tag', has: 'vip' }, facts({ tags: ['trial', 'vip'] }))).toBe(true);
    expect(evaluateCondition({ type: 'tag', has: 'vip' }, facts({ tags: ['trial'] }))).toBe(false);
    expect(evaluateCondition({ type: 'score', gte: 50 }, facts({ score: 50 }))).toBe(true);
    expect(evaluateCondition({ type: 'score', gte: 50 }, facts({ score: 49 }))).toBe(false);
    expect(evaluateCondition({ type: 'score', gte: 10, lt: 20 }, facts({ score: 20 }))).toBe(false);
    expect(evaluateCondition({ type: 'score', lt: 20 }, facts({ score: -5 }))).toBe(true);
  });

  it('compares custom fields by value and type, and tells present from absent or null', () => {
    const customFields = { plan: 'pro', seats: 5, trial: false, cleared: null };
    expect(evaluateCondition({ type: 'field', field: 'plan', equals: 'pro' }, facts({ customFields }))).toBe(true);
    expect(evaluateCondition({ type: 'field', field: 'seats', equals: '5' }, facts({ customFields }))).toBe(false);
    expect(evaluateCondition({ type: 'field', field: 'seats', equals: 5 }, facts({ customFields }))).toBe(true);
    expect(evaluateCondition({ type: 'field', field: 'trial', equals: false }, facts({ customFields }))).toBe(true);
    expect(evaluateCondition({ type: 'field', field: 'trial', exists: true }, facts({ customFields }))).toBe(true);
    expect(evaluateCondition({ type: 'field', field: 'cleared', exists: true }, facts({ customFields }))).toBe(false);
    expect(evaluateCondition({ type: 'field', field: 'missing', exists: false }, facts({ customFields }))).toBe(true);
    expect(evaluateCondition({ type: 'field', field: 'missing', equals: 'x' }, facts({ customFields }))).toBe(false);
  });

  it('combines conditions with all, any and not', () => {
    const vipLead = facts({ tags: ['vip'], lifecycleStage: 'lead' });
    expect(evaluateCondition({ type: 'all', conditions: [{ type: 'tag', has: 'vip' }, { type: 'lifecycle', in: ['lead'] }] }, vipLead)).toBe(true);
    expect(evaluateCondition({ type: 'all', conditions: [{ type: 'tag', has: 'vip' }, { type: 'lifecycle', in: ['sql'] }] }, vipLead)).toBe(false);
    expect(evaluateCondition({ type: 'any', conditions: [{ type: 'tag', has: 'other' }, { type: 'lifecycle', in: ['lead'] }] }, vipLead)).toBe(true);
    expect(evaluateCondition({ type: 'not', condition: { type: 'tag', has: 'vip' } }, vipLead)).toBe(false);
  });

  it('lists the message steps a condition reads, once each, however deeply nested', () => {
    expect(
      messageStepsOf({
        type: 'any',
        conditions: [
          { type: 'message', step: 'intro', event: 'opened' },
          { type: 'not', condition: { type: 'all', conditions: [{ type: 'message', step: 'follow-up', event: 'clicked' }, { type: 'message', step: 'intro', event: 'replied' }] } },
          { type: 'tag', has: 'vip' },
        ],
      }),
    ).toEqual(['intro', 'follow-up']);
    expect(messageStepsOf({ type: 'score', gte: 1 })).toEqual([]);
  });
});

describe('message facts from what was recorded', () => {
  it('counts a click as an open and an open as a delivery, whatever order the webhooks came in', () => {
    expect(messageFactsFrom({ statuses: ['pending', 'sending', 'accepted', 'clicked'], events: [], replied: false })).toEqual({ ...none, delivered: true, opened: true, clicked: true });
    expect(messageFactsFrom({ statuses: ['accepted'], events: ['click'], replied: false })).toEqual({ ...none, delivered: true, opened: true, clicked: true });
    expect(messageFactsFrom({ statuses: ['accepted', 'delivered'], events: ['delivered'], replied: false })).toEqual({ ...none, delivered: true });
  });

  it('reads opens and bounces from provider event names as well as statuses', () => {
    expect(messageFactsFrom({ statuses: ['accepted'], events: ['open'], replied: false }).opened).toBe(true);
    expect(messageFactsFrom({ statuses: ['accepted'], events: ['bounce'], replied: false })).toEqual({ ...none, bounced: true });
    expect(messageFactsFrom({ statuses: ['accepted', 'bounced'], events: [], replied: false }).bounced).toBe(true);
  });

  it('takes a reply as proof of delivery but not of an open (a plain-text client sends no pixel)', () => {
    expect(messageFactsFrom({ statuses: ['accepted'], events: [], replied: true })).toEqual({ ...none, delivered: true, replied: true });
  });

  it('knows nothing of a message that was only accepted', () => {
    expect(messageFactsFrom({ statuses: ['pending', 'sending', 'accepted'], events: ['processed'], replied: false })).toEqual(none);
  });
});
