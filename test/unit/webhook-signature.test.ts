import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { generateSigningSecret, signWebhook, verifyWebhookSignature } from '../../domain/webhook-signature';

const secret = 'whsec_test_0123456789abcdefghijklmnopqrstuv';
const body = '{"type":"deal.stage_entered","deal":{"name":"Acme renewal"}}';
const t = 1_764_115_200;
const nowMs = t * 1000;

describe('webhook signatures', () => {
  it('are t=<seconds>,v1=<hex HMAC-SHA256 of "t.body">, reproducible by any receiver', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signWebhook(secret, body, t)).toBe(`t=${t},v1=${expected}`);
  });

  it('verify against the raw bytes, within the tolerance', () => {
    const header = signWebhook(secret, body, t);
    expect(verifyWebhookSignature(header, body, secret, { nowMs })).toEqual({ ok: true, timestamp: t });
    expect(verifyWebhookSignature(header, Buffer.from(body), secret, { nowMs: nowMs + 299_000 })).toEqual({ ok: true, timestamp: t });
  });

  it('fail for a changed body, another secret, a re-serialised body, or a replay outside the tolerance', () => {
    const header = signWebhook(secret, body, t);
    expect(verifyWebhookSignature(header, body.replace('Acme', 'Evil'), secret, { nowMs })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(header, body, `${secret}x`, { nowMs })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(header, JSON.stringify(JSON.parse(body), null, 2), secret, { nowMs })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(header, body, secret, { nowMs: nowMs + 301_000 })).toEqual({ ok: false, reason: 'too_old' });
  });

  it('accept any one matching v1 entry (a receiver rotating secrets) and refuse malformed headers', () => {
    const other = signWebhook('whsec_old', body, t).split(',')[1];
    expect(verifyWebhookSignature(`${signWebhook(secret, body, t)},${other}`, body, secret, { nowMs }).ok).toBe(true);
    expect(verifyWebhookSignature(undefined, body, secret, { nowMs })).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyWebhookSignature(`t=${t}`, body, secret, { nowMs })).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyWebhookSignature('v1=abc,t=x', body, secret, { nowMs })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('use secrets of 256 random bits', () => {
    const one = generateSigningSecret();
    expect(one).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(generateSigningSecret()).not.toBe(one);
  });
});
