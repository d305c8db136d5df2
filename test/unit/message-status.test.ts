import { describe, expect, it } from '@jest/globals';
import { canAdvance, finalMessageStatuses, isAcceptedOrLater, isMessageStatus, messageStatusOrder } from '../../domain/message-status';
import { MessageStatus as PrismaMessageStatus } from '../../prisma/generated/enums';

describe('message status order', () => {
  it('is the order of enum MessageStatus in prisma/schema.prisma, so the database and the rule agree', () => {
    expect([...messageStatusOrder]).toEqual(Object.values(PrismaMessageStatus));
  });

  it('moves a message forward through the send: pending, sending, unknown, accepted', () => {
    expect(canAdvance('pending', 'sending')).toBe(true);
    expect(canAdvance('sending', 'unknown')).toBe(true);
    expect(canAdvance('sending', 'accepted')).toBe(true);
    expect(canAdvance('unknown', 'accepted')).toBe(true);
  });

  it('never moves a message back: a late webhook or a retried send cannot undo progress', () => {
    expect(canAdvance('accepted', 'sending')).toBe(false);
    expect(canAdvance('unknown', 'sending')).toBe(false);
    expect(canAdvance('opened', 'delivered')).toBe(false);
    expect(canAdvance('delivered', 'deferred')).toBe(false);
    expect(canAdvance('clicked', 'opened')).toBe(false);
  });

  it('does not "advance" to the same status, so a repeated report changes nothing', () => {
    for (const status of messageStatusOrder) expect(canAdvance(status, status)).toBe(false);
  });

  it('lets delivery reports follow acceptance and bad news follow good news', () => {
    expect(canAdvance('accepted', 'delivered')).toBe(true);
    expect(canAdvance('deferred', 'delivered')).toBe(true);
    expect(canAdvance('delivered', 'bounced')).toBe(true);
    expect(canAdvance('accepted', 'failed')).toBe(true);
  });

  it('treats failed and skipped as final: nothing follows them', () => {
    expect([...finalMessageStatuses].sort()).toEqual(['failed', 'skipped']);
    for (const status of messageStatusOrder) {
      expect(canAdvance('failed', status)).toBe(false);
      expect(canAdvance('skipped', status)).toBe(false);
    }
  });

  it('counts accepted and every delivery state as "the provider has it", but not failed or skipped', () => {
    expect(messageStatusOrder.filter(isAcceptedOrLater)).toEqual([
      'accepted', 'queued', 'sent', 'deferred', 'delivered', 'opened', 'clicked', 'undelivered', 'bounced', 'dropped', 'spam_reported', 'unsubscribed',
    ]);
  });

  it('recognises only the statuses it knows', () => {
    expect(isMessageStatus('delivered')).toBe(true);
    expect(isMessageStatus('suppressed')).toBe(false);
    expect(isMessageStatus('')).toBe(false);
  });
});
