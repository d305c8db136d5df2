import { describe, expect, it } from '@jest/globals';
import {
  createUnsubscribeToken,
  listUnsubscribeHeaders,
  tokenFromUnsubscribeSubject,
  unsubscribeLinks,
  verifyUnsubscribeToken,
} from '../../domain/unsubscribe-token';

const secret = 'a-test-secret-that-is-at-least-32-characters-long';
const otherSecret = 'another-secret-that-is-also-32-characters-or-more';
const contactId = '5b7c8a2e-0d3f-4c6a-9e1b-2f4d6a8c0e13';
const otherContactId = '9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const config = { UNSUBSCRIBE_SECRET: secret, PUBLIC_URL: 'https://crm.example.com/', PORT: 3000, EMAIL_FROM: 'hello@mail.example.com' };

/** Flips one bit of the decoded token and re-encodes it. */
function withFlippedBit(token: string, byte: number): string {
  const bytes = Buffer.from(token, 'base64url');
  bytes[byte] = bytes[byte]! ^ 0x01;
  return bytes.toString('base64url');
}

describe('unsubscribe tokens', () => {
  it('carry the contact, the channel and the issue time, and verify with the same secret', () => {
    const issuedAt = new Date('2026-11-20T10:00:00Z');
    const token = createUnsubscribeToken(secret, { contactId, channel: 'sms', issuedAt });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(verifyUnsubscribeToken(secret, token)).toEqual({ contactId, channel: 'sms', issuedAt });
  });

  it('are refused under another secret', () => {
    const token = createUnsubscribeToken(secret, { contactId, channel: 'email' });
    expect(verifyUnsubscribeToken(otherSecret, token)).toBeNull();
  });

  it('cannot be turned into a token for another contact or channel by editing the payload', () => {
    const token = createUnsubscribeToken(secret, { contactId, channel: 'email' });
    // Byte 1 starts the contact id, byte 17 is the channel, byte 21 the issue time.
    for (const byte of [0, 1, 16, 17, 21, 30]) expect(verifyUnsubscribeToken(secret, withFlippedBit(token, byte))).toBeNull();
    // Another contact's payload glued to this token's MAC is refused too.
    const other = Buffer.from(createUnsubscribeToken(secret, { contactId: otherContactId, channel: 'email' }), 'base64url');
    const mine = Buffer.from(token, 'base64url');
    const spliced = Buffer.concat([other.subarray(0, 22), mine.subarray(22)]).toString('base64url');
    expect(verifyUnsubscribeToken(secret, spliced)).toBeNull();
  });

  it('treats malformed input as invalid instead of throwing', () => {
    const token = createUnsubscribeToken(secret, { contactId, channel: 'email' });
    for (const bad of ['', 'abc', `${token}A`, token.slice(0, -1), `${token.slice(0, 10)}!${token.slice(11)}`, 'x'.repeat(51), '../../etc/passwd']) {
      expect(verifyUnsubscribeToken(secret, bad)).toBeNull();
    }
  });

  it('refuses a secret shorter than 32 characters', () => {
    expect(() => createUnsubscribeToken('short', { contactId, channel: 'email' })).toThrow(/UNSUBSCRIBE_SECRET/);
    expect(() => verifyUnsubscribeToken(undefined, 'anything')).toThrow(/UNSUBSCRIBE_SECRET/);
  });
});

describe('unsubscribe links and List-Unsubscribe headers', () => {
  it('build the page URL on PUBLIC_URL and a mailto on the sender domain', () => {
    const links = unsubscribeLinks(config, contactId, 'email');
    const token = links.url.slice('https://crm.example.com/u/'.length);
    expect(links.url).toBe(`https://crm.example.com/u/${token}`);
    expect(verifyUnsubscribeToken(secret, token)?.contactId).toBe(contactId);
    expect(links.mailto).toBe(`mailto:unsubscribe@mail.example.com?subject=unsubscribe-${token}`);
  });

  it('prefer REPLY_DOMAIN for the mailto address', () => {
    expect(unsubscribeLinks({ ...config, REPLY_DOMAIN: 'reply.example.com' }, contactId, 'email').mailto).toMatch(/^mailto:unsubscribe@reply\.example\.com\?subject=unsubscribe-/);
  });

  it('give RFC 8058 one-click headers with the https link first', () => {
    const headers = listUnsubscribeHeaders(config, contactId);
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(headers['List-Unsubscribe']).toMatch(/^<https:\/\/crm\.example\.com\/u\/[A-Za-z0-9_-]+>, <mailto:unsubscribe@mail\.example\.com\?subject=unsubscribe-[A-Za-z0-9_-]+>$/);
  });

  it('find the token again in the subject of an unsubscribe email', () => {
    const token = createUnsubscribeToken(secret, { contactId, channel: 'email' });
    expect(tokenFromUnsubscribeSubject(`unsubscribe-${token}`)).toBe(token);
    expect(tokenFromUnsubscribeSubject(`Re: unsubscribe-${token} `)).toBe(token);
    expect(tokenFromUnsubscribeSubject('please unsubscribe me')).toBeNull();
  });
});
