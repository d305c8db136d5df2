import { describe, expect, it } from '@jest/globals';
import { crossesMqlThreshold, describeStageMove, isBefore, stageMoveFor, type BehaviourRuleFacts } from '../../domain/lifecycle';
import { addPoints, type ScoreSnapshot } from '../../domain/scoring';
import type { LifecycleStage } from '../../domain/schemas/common';

const pricingRule: BehaviourRuleFacts = { id: 'r1', name: 'Pricing page qualifies', eventType: 'page_view', match: { url: { contains: '/pricing' } }, fromStages: ['lead'], toStage: 'sql' };
const pricingView = { type: 'page_view' as const, properties: { url: 'https://example.com/pricing' } };
const blogView = { type: 'page_view' as const, properties: { url: 'https://example.com/blog' } };

describe('lifecycle order', () => {
  it('puts lead before mql before sql before customer, and at_risk and churned after customer', () => {
    expect(isBefore('lead', 'mql')).toBe(true);
    expect(isBefore('sql', 'customer')).toBe(true);
    expect(isBefore('customer', 'at_risk')).toBe(true);
    expect(isBefore('churned', 'mql')).toBe(false);
  });
});

describe('MQL threshold', () => {
  it('crosses only when the score goes from below the threshold to at least it, for a lead', () => {
    expect(crossesMqlThreshold('lead', { before: 40, after: 50 }, 50)).toBe(true);
    expect(crossesMqlThreshold('lead', { before: 50, after: 60 }, 50)).toBe(false);
    expect(crossesMqlThreshold('lead', { before: 30, after: 49.9 }, 50)).toBe(false);
    expect(crossesMqlThreshold('sql', { before: 40, after: 60 }, 50)).toBe(false);
  });

  it('moves a lead to mql once over a run of scoring events', () => {
    let stage: LifecycleStage = 'lead';
    let snapshot: ScoreSnapshot = { score: 0, asOf: null };
    const moves: string[] = [];
    const now = new Date('2026-03-01T10:00:00Z');
    for (let i = 0; i < 6; i += 1) {
      const change = addPoints(snapshot, 20, { occurredAt: now, now }, 30);
      snapshot = change.snapshot;
      const move = stageMoveFor({ stage, event: blogView, rules: [], score: change, mqlThreshold: 50 });
      if (move) {
        moves.push(`${stage}->${move.to}`);
        stage = move.to;
      }
    }
    expect(moves).toEqual(['lead->mql']);
    expect(snapshot.score).toBe(120);
  });
});

describe('stage moves', () => {
  it('moves a lead that views the pricing page to sql, and leaves other pages and stages alone', () => {
    expect(stageMoveFor({ stage: 'lead', event: pricingView, rules: [pricingRule], score: null, mqlThreshold: 50 })).toEqual({ to: 'sql', reason: 'rule', ruleId: 'r1', ruleName: 'Pricing page qualifies' });
    expect(stageMoveFor({ stage: 'lead', event: blogView, rules: [pricingRule], score: null, mqlThreshold: 50 })).toBeNull();
    expect(stageMoveFor({ stage: 'customer', event: pricingView, rules: [pricingRule], score: null, mqlThreshold: 50 })).toBeNull();
  });

  it('lets a behaviour rule win over the MQL threshold crossed by the same event', () => {
    const move = stageMoveFor({ stage: 'lead', event: pricingView, rules: [pricingRule], score: { before: 45, after: 55 }, mqlThreshold: 50 });
    expect(move).toMatchObject({ to: 'sql', reason: 'rule' });
  });

  it('applies the first matching rule in the order given', () => {
    const second: BehaviourRuleFacts = { ...pricingRule, id: 'r2', name: 'Any page', match: {}, toStage: 'mql' };
    expect(stageMoveFor({ stage: 'lead', event: pricingView, rules: [second, pricingRule], score: null, mqlThreshold: 50 })).toMatchObject({ ruleId: 'r2', to: 'mql' });
  });

  it('makes any non-customer a customer on a purchase, and a customer stays one', () => {
    const purchase = { type: 'purchase' as const, properties: { amount: 20, currency: 'EUR' } };
    for (const stage of ['lead', 'mql', 'sql', 'at_risk', 'churned'] as const) {
      expect(stageMoveFor({ stage, event: purchase, rules: [], score: null, mqlThreshold: 50 })).toEqual({ to: 'customer', reason: 'purchase' });
    }
    expect(stageMoveFor({ stage: 'customer', event: purchase, rules: [], score: null, mqlThreshold: 50 })).toBeNull();
  });

  it('describes each move for the timeline', () => {
    expect(describeStageMove('lead', { to: 'mql', reason: 'mql_threshold', score: 52, threshold: 50 })).toBe('Lifecycle stage lead → mql: score 52 reached the MQL threshold 50');
    expect(describeStageMove('customer', { to: 'at_risk', reason: 'no_purchase', days: 180 })).toBe('Lifecycle stage customer → at_risk: no purchase for 180 days');
  });
});
