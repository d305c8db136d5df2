import { describe, expect, it } from '@jest/globals';
import { becomesCurrent, consentAuditAction, consentChangeErrors, isConsentSource } from '../../domain/consent';

describe('consent sources', () => {
  it('accepts the fixed sources and form:{key}', () => {
    for (const source of ['import', 'api', 'unsubscribe_link', 'list_unsubscribe', 'sms_keyword', 'spam_report', 'provider', 'form:demo-contact']) {
      expect(isConsentSource(source)).toBe(true);
    }
  });

  it('rejects anything else', () => {
    for (const source of ['', 'form:', 'form:has space', 'sms_stop', 'website']) expect(isConsentSource(source)).toBe(false);
  });
});

describe('consent change rules', () => {
  it('allows a form opt-in and a provider revocation', () => {
    expect(consentChangeErrors({ channel: 'email', status: 'granted', source: 'form:demo-contact', method: 'checkbox' })).toEqual([]);
    expect(consentChangeErrors({ channel: 'sms', status: 'revoked', source: 'provider', method: 'twilio:21610' })).toEqual([]);
  });

  it('never lets an unsubscribe link, List-Unsubscribe or a spam report grant consent', () => {
    for (const source of ['unsubscribe_link', 'list_unsubscribe', 'spam_report'] as const) {
      const errors = consentChangeErrors({ channel: 'email', status: 'granted', source });
      expect(errors).toContainEqual({ field: 'status', message: `${source} can only revoke consent` });
    }
  });

  it('ties channel-specific sources to their channel', () => {
    expect(consentChangeErrors({ channel: 'email', status: 'revoked', source: 'sms_keyword' })).toContainEqual({ field: 'channel', message: 'sms_keyword applies to sms only' });
    expect(consentChangeErrors({ channel: 'sms', status: 'revoked', source: 'spam_report' })).toContainEqual({ field: 'channel', message: 'spam_report applies to email only' });
    expect(consentChangeErrors({ channel: 'sms', status: 'revoked', source: 'unsubscribe_link' })).toEqual([]);
  });

  it('reports an unknown source', () => {
    expect(consentChangeErrors({ channel: 'email', status: 'revoked', source: 'nonsense' as 'api' })[0]?.field).toBe('source');
  });
});

describe('which expression is current', () => {
  const current = { status: 'granted' as const, source: 'form:demo', at: new Date('2026-11-20T10:00:00Z') };

  it('a first expression always becomes current', () => {
    expect(becomesCurrent(null, { at: new Date(0) })).toBe(true);
  });

  it('a newer (or simultaneous) expression replaces the current one', () => {
    expect(becomesCurrent(current, { at: new Date('2026-11-20T10:00:01Z') })).toBe(true);
    expect(becomesCurrent(current, { at: current.at })).toBe(true);
  });

  it('a late-arriving older expression is kept as evidence only', () => {
    expect(becomesCurrent(current, { at: new Date('2026-11-20T09:59:59Z') })).toBe(false);
  });

  it('names the audit action after the new status', () => {
    expect(consentAuditAction('granted')).toBe('consent.granted');
    expect(consentAuditAction('revoked')).toBe('consent.revoked');
  });
});
