import { describe, expect, it } from '@jest/globals';
import { renderTriggerJson, renderTriggerText, triggerTextProblems } from '../../activities/trigger-texts';

const context = {
  deal: { id: 'd1', name: 'Acme renewal', amount: 12000, currency: 'EUR', stage: 'Proposal', pipeline: 'Sales', expectedCloseDate: '2026-12-15', idleDays: null },
  contact: { firstName: 'Ada', lastName: 'Lovelace', fullName: 'Ada Lovelace', email: 'ada@example.com', phone: null, timeZone: null, locale: null, customFields: { plan: 'pro' } },
  owner: { name: 'Rita Rep', email: 'rita@example.com' },
  stageChange: { from: 'Qualified', to: 'Proposal', at: '2026-03-02T09:00:00.000Z', by: 'Rob Rep' },
};

describe('trigger texts', () => {
  it('are checked strictly against the trigger variables, with line and column', () => {
    expect(triggerTextProblems('Call {{contact.firstName}} about {{deal.name}}')).toEqual([]);
    expect(triggerTextProblems('Call {{contact.nickname}}')).toEqual([expect.stringMatching(/^line 1, column 8: .*nickname/)]);
    expect(triggerTextProblems('{{links.unsubscribe}}')).toEqual([expect.stringMatching(/"links.unsubscribe" is not a variable; the variables are deal, contact, owner, stageChange$/)]);
    expect(triggerTextProblems('{{#if deal.amount}}')).toEqual([expect.stringMatching(/^line 1/)]);
    expect(triggerTextProblems('{{shout deal.name}}')).toEqual([expect.stringContaining('"shout" is not a helper')]);
  });

  it('render as plain text with the template helpers, nothing escaped', () => {
    expect(renderTriggerText('Send <the> contract to {{contact.fullName}} & {{owner.name}}: {{formatCurrency deal.amount deal.currency}}', context))
      .toBe('Send <the> contract to Ada Lovelace & Rita Rep: €12,000.00');
    expect(renderTriggerText('{{stageChange.from}} -> {{stageChange.to}} by {{default stageChange.by "someone"}}', context)).toBe('Qualified -> Proposal by Rob Rep');
  });

  it('render every string of a webhook body and keep its shape and other values', () => {
    expect(renderTriggerJson({ text: '{{deal.name}} is in {{deal.stage}}', n: 3, flags: [true, '{{contact.customFields.plan}}'], empty: null }, context))
      .toEqual({ text: 'Acme renewal is in Proposal', n: 3, flags: [true, 'pro'], empty: null });
  });

  it('refuse at render time a text that was never checked', () => {
    expect(() => renderTriggerText('{{nope}}', context)).toThrow(/not valid/);
  });
});
