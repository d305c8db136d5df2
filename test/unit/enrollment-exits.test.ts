import { describe, expect, it } from '@jest/globals';
import { exitReasonFor, hasReachedStage } from '../../domain/enrollment-exits';
import { SequenceSettingsSchema } from '../../domain/schemas/sequence';

const defaults = SequenceSettingsSchema.parse({});

describe('which contact events end an enrollment', () => {
  it('ends on the events the sequence exits on, with the event as the stop reason', () => {
    expect(exitReasonFor({ kind: 'replied' }, defaults)).toBe('replied');
    expect(exitReasonFor({ kind: 'purchased' }, defaults)).toBe('purchased');
    expect(exitReasonFor({ kind: 'meeting_booked' }, defaults)).toBe('meeting_booked');
  });

  it('ignores events the sequence does not exit on', () => {
    expect(exitReasonFor({ kind: 'company_replied' }, defaults)).toBeNull();
    expect(exitReasonFor({ kind: 'deal_created' }, defaults)).toBeNull();
    expect(exitReasonFor({ kind: 'replied' }, SequenceSettingsSchema.parse({ exitOn: ['purchased'] }))).toBeNull();
    expect(exitReasonFor({ kind: 'company_replied' }, SequenceSettingsSchema.parse({ exitOn: ['company_replied'] }))).toBe('company_replied');
  });

  it('always ends on an unsubscribe, a bounce or a deleted contact, whatever exitOn lists', () => {
    const nothing = { exitOn: [], exitLifecycleStage: undefined };
    expect(exitReasonFor({ kind: 'unsubscribed' }, nothing)).toBe('unsubscribed');
    expect(exitReasonFor({ kind: 'bounced' }, nothing)).toBe('bounced');
    expect(exitReasonFor({ kind: 'contact_deleted' }, nothing)).toBe('contact_deleted');
  });

  it('ends on a stage change that reaches the exit stage or goes past it', () => {
    const settings = SequenceSettingsSchema.parse({ exitOn: ['lifecycle_reached'], exitLifecycleStage: 'sql' });
    expect(exitReasonFor({ kind: 'lifecycle_changed', stage: 'mql' }, settings)).toBeNull();
    expect(exitReasonFor({ kind: 'lifecycle_changed', stage: 'sql' }, settings)).toBe('lifecycle_reached');
    expect(exitReasonFor({ kind: 'lifecycle_changed', stage: 'customer' }, settings)).toBe('lifecycle_reached');
  });

  it('ignores stage changes unless the sequence exits on lifecycle_reached with a stage', () => {
    expect(exitReasonFor({ kind: 'lifecycle_changed', stage: 'customer' }, defaults)).toBeNull();
    expect(exitReasonFor({ kind: 'lifecycle_changed', stage: 'customer' }, SequenceSettingsSchema.parse({ exitOn: ['lifecycle_reached'] }))).toBeNull();
  });
});

describe('reaching a lifecycle stage', () => {
  it('follows the funnel lead < mql < sql < customer', () => {
    expect(hasReachedStage('customer', 'mql')).toBe(true);
    expect(hasReachedStage('mql', 'mql')).toBe(true);
    expect(hasReachedStage('lead', 'mql')).toBe(false);
  });

  it('lets at_risk and churned reach only themselves', () => {
    expect(hasReachedStage('at_risk', 'customer')).toBe(false);
    expect(hasReachedStage('churned', 'lead')).toBe(false);
    expect(hasReachedStage('customer', 'at_risk')).toBe(false);
    expect(hasReachedStage('at_risk', 'at_risk')).toBe(true);
  });
});
