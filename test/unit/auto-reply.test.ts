import { describe, expect, it } from '@jest/globals';
import { detectAutoReply } from '../../domain/auto-reply';

const person = { headers: { 'Message-ID': '<abc@mail.example.com>' }, subject: 'Re: Your pricing', from: 'jane@example.com' };

describe('automatic reply detection', () => {
  it('lets an ordinary reply through', () => {
    expect(detectAutoReply(person)).toEqual({ autoReply: false, reason: null });
  });

  it('treats any Auto-Submitted value other than "no" as automatic (RFC 3834)', () => {
    expect(detectAutoReply({ ...person, headers: { 'Auto-Submitted': 'auto-replied' } })).toEqual({ autoReply: true, reason: 'header:auto-submitted=auto-replied' });
    expect(detectAutoReply({ ...person, headers: { 'auto-submitted': 'auto-generated; owner-email="x@y"' } }).autoReply).toBe(true);
    expect(detectAutoReply({ ...person, headers: { 'Auto-Submitted': 'No' } }).autoReply).toBe(false);
  });

  it('recognises the vendor autoresponder headers', () => {
    expect(detectAutoReply({ ...person, headers: { 'X-Autoreply': 'yes' } }).reason).toBe('header:x-autoreply');
    expect(detectAutoReply({ ...person, headers: { 'X-Autorespond': 'Vacation' } }).reason).toBe('header:x-autorespond');
  });

  it('recognises Precedence auto_reply, bulk and junk, but not list', () => {
    for (const value of ['auto_reply', 'bulk', 'Junk']) {
      expect(detectAutoReply({ ...person, headers: { Precedence: value } }).autoReply).toBe(true);
    }
    expect(detectAutoReply({ ...person, headers: { Precedence: 'list' } }).autoReply).toBe(false);
  });

  it.each([
    'Out of Office: Your pricing',
    'Out of office',
    'Automatic reply: Your pricing',
    'AutoReply: Your pricing',
    '[Auto-Reply] Your pricing',
    'Abwesenheitsnotiz: Ihr Angebot',
    'Réponse automatique : Votre offre',
    // The same subject with a decomposed é (e + combining accent), as some mail programs send it.
    'Re\u0301ponse automatique : Votre offre',
    'Automatische Antwort: Ihr Angebot',
  ])('recognises the out-of-office subject "%s"', (subject) => {
    expect(detectAutoReply({ ...person, subject }).autoReply).toBe(true);
  });

  it('does not mistake a person writing about being out of office for an automatic reply', () => {
    expect(detectAutoReply({ ...person, subject: 'Re: are you out of office next week?' }).autoReply).toBe(false);
    expect(detectAutoReply({ ...person, subject: 'Re: Your pricing - automatic reply settings' }).autoReply).toBe(false);
  });

  it('treats mail from a mailer daemon as automatic', () => {
    expect(detectAutoReply({ ...person, from: 'MAILER-DAEMON@mx.example.com' }).autoReply).toBe(true);
  });
});
