import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let salesOps: string;
let ritaId: string;

beforeAll(async () => {
  stack = await startTestStack();
  const sam = await stack.db.prisma.user.findUniqueOrThrow({ where: { email: 'sam.salesops@example.com' } });
  salesOps = await stack.keyFor('sales_ops', sam.id);
  ritaId = (await stack.db.prisma.user.findUniqueOrThrow({ where: { email: 'rita.rep@example.com' } })).id;
}, 60_000);
afterAll(() => stack?.close());

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { errors?: Array<{ field: string; message: string }>; detail?: string };
}

async function call(method: string, url: string, options: { key?: string; body?: unknown; idempotencyKey?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? salesOps}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const res = await fetch(`${stack.baseUrl}${url}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Reply['body']) : {} };
}

const at = (iso: string) => new Date(iso);

describe('POST /v1/contacts/{id}/merge', () => {
  it('moves everything to the survivor by the survivorship rules and records every before image', async () => {
    const prisma = stack.db.prisma;
    const pipeline = await prisma.pipeline.findFirstOrThrow({ where: { name: 'Sales' }, include: { stages: { orderBy: { position: 'asc' } } } });
    const survivor = await prisma.contact.create({
      data: {
        firstName: 'Robert', lastName: 'Smith', lifecycleStage: 'mql', score: 10, tags: ['vip'], source: 'import',
        customFields: { budget: 5000, plan: 'pro' }, createdAt: at('2026-03-01T00:00:00Z'),
        emails: { create: { address: 'robert@acme.com', isPrimary: true } },
        phones: { create: { e164: '+14155550100', isPrimary: true } },
        consents: { create: { channel: 'email', status: 'granted', source: 'form:demo-contact', at: at('2026-10-01T00:00:00Z') } },
      },
    });
    const loser = await prisma.contact.create({
      data: {
        firstName: 'Bob', lastName: 'Smith', lifecycleStage: 'sql', score: 40, tags: ['webinar', 'vip'], source: 'website', timeZone: 'America/New_York',
        customFields: { budget: 9000, industry: 'retail' }, createdAt: at('2026-01-15T00:00:00Z'),
        emails: { create: [{ address: 'bob.smith@gmail.com', isPrimary: true }, { address: 'bob@old-job.com' }] },
        phones: { create: { e164: '+14155550199', isPrimary: true } },
        consents: { create: { channel: 'email', status: 'revoked', source: 'unsubscribe_link', at: at('2026-06-01T00:00:00Z') } },
      },
    });
    // The loser was edited last, so its non-empty values are the newest.
    await prisma.contact.update({ where: { id: loser.id }, data: { ownerId: ritaId } });
    await prisma.consentEvent.create({ data: { contactId: loser.id, channel: 'email', status: 'revoked', source: 'unsubscribe_link', method: 'one_click', at: at('2026-06-01T00:00:00Z') } });
    await prisma.activity.create({ data: { contactId: loser.id, type: 'note', subject: 'Met at the fair' } });
    const task = await prisma.task.create({ data: { type: 'call', title: 'Call Bob', dueAt: new Date(), assigneeId: ritaId, contactId: loser.id } });
    const deal = await prisma.deal.create({ data: { name: 'Bob\'s deal', pipelineId: pipeline.id, stageId: pipeline.stages[0]!.id, ownerId: ritaId, contactId: loser.id } });
    const message = await prisma.message.create({
      data: { idempotencyKey: `test:${loser.id}`, contactId: loser.id, channel: 'email', toAddress: 'bob.smith@gmail.com', fromAddress: 'hello@touchpoint.local', provider: 'capture', status: 'sent' },
    });
    const pair = await prisma.duplicateCandidate.create({
      data: { contactAId: [survivor.id, loser.id].sort()[0]!, contactBId: [survivor.id, loser.id].sort()[1]!, score: 0.54, reasons: ['nickname Bob/Robert'], auditKey: 'test' },
    });

    const request = { mergeIds: [loser.id], pick: { firstName: survivor.id } };
    const reply = await call('POST', `/v1/contacts/${survivor.id}/merge`, { body: request, idempotencyKey: `merge-${survivor.id}` });
    expect(reply.status).toBe(200);
    expect(reply.body.survivor).toMatchObject({
      id: survivor.id,
      firstName: 'Robert',
      lastName: 'Smith',
      lifecycleStage: 'sql',
      ownerId: ritaId,
      source: 'website',
      timeZone: 'America/New_York',
      score: 40,
      tags: ['vip', 'webinar'],
      customFields: { budget: 9000, plan: 'pro', industry: 'retail' },
      emails: [
        { address: 'robert@acme.com', status: 'valid', isPrimary: true },
        expect.objectContaining({ isPrimary: false }),
        expect.objectContaining({ isPrimary: false }),
      ],
      phones: [{ e164: '+14155550100', status: 'valid', isPrimary: true }, { e164: '+14155550199', status: 'valid', isPrimary: false }],
      consent: { email: { status: 'revoked', source: 'unsubscribe_link', at: '2026-06-01T00:00:00.000Z' } },
    });
    expect(reply.body).toMatchObject({
      mergedIds: [loser.id],
      decisions: {
        firstName: { from: survivor.id, rule: 'picked' },
        'customFields.budget': { from: loser.id, rule: 'newest' },
        lifecycleStage: { from: loser.id, rule: 'furthest' },
        'consent.email': { from: loser.id, rule: 'most_restrictive' },
      },
      moved: { emails: 2, phones: 1, activities: 1, tasks: 1, deals: 1, messages: 1, consentEvents: 1, enrollmentsContinued: 0, enrollmentsEnded: 0 },
    });

    expect(await prisma.task.findUniqueOrThrow({ where: { id: task.id } })).toMatchObject({ contactId: survivor.id, status: 'open' });
    expect(await prisma.deal.findUniqueOrThrow({ where: { id: deal.id } })).toMatchObject({ contactId: survivor.id });
    expect(await prisma.message.findUniqueOrThrow({ where: { id: message.id } })).toMatchObject({ contactId: survivor.id });
    expect(await prisma.activity.count({ where: { contactId: loser.id } })).toBe(0);
    const ledger = await prisma.consentEvent.findMany({ where: { contactId: survivor.id }, orderBy: { at: 'asc' } });
    expect(ledger.map(({ status, source, method }) => ({ status, source, method }))).toEqual([
      { status: 'revoked', source: 'unsubscribe_link', method: 'one_click' },
      { status: 'revoked', source: 'unsubscribe_link', method: 'merge' },
    ]);
    expect(await prisma.contact.findUniqueOrThrow({ where: { id: loser.id } })).toMatchObject({ mergedIntoId: survivor.id, deletedAt: expect.any(Date) });
    expect(await prisma.duplicateCandidate.findUniqueOrThrow({ where: { id: pair.id } })).toMatchObject({ status: 'merged' });

    const log = await prisma.auditLog.findFirstOrThrow({ where: { action: 'contact.merged', entityId: survivor.id } });
    const before = log.before as { survivor: Record<string, unknown>; merged: Array<Record<string, unknown>> };
    expect(before.survivor).toMatchObject({ id: survivor.id, firstName: 'Robert', lifecycleStage: 'mql', customFields: { budget: 5000, plan: 'pro' }, consent: { email: expect.objectContaining({ status: 'granted' }) } });
    expect(before.merged).toEqual([expect.objectContaining({ id: loser.id, firstName: 'Bob', score: 40, emails: expect.arrayContaining([expect.objectContaining({ address: 'bob@old-job.com' })]) })]);
    expect(await prisma.auditLog.count({ where: { action: 'contact.merged_into', entityId: loser.id } })).toBe(1);

    // A retry with the same Idempotency-Key gets the stored answer; anything else is refused.
    const replayed = await call('POST', `/v1/contacts/${survivor.id}/merge`, { body: request, idempotencyKey: `merge-${survivor.id}` });
    expect(replayed.status).toBe(200);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body).toEqual(reply.body);
    const again = await call('POST', `/v1/contacts/${survivor.id}/merge`, { body: { mergeIds: [loser.id] } });
    expect(again.status).toBe(409);
    expect(again.body.detail).toBe(`Contact ${loser.id} was already merged into ${survivor.id}; nothing was changed.`);
    expect(again.body.errors).toEqual([{ field: 'mergeIds/0', message: `was already merged into ${survivor.id}` }]);
    const intoLoser = await call('POST', `/v1/contacts/${loser.id}/merge`, { body: { mergeIds: [survivor.id] } });
    expect(intoLoser.status).toBe(409);
    expect(intoLoser.body.detail).toContain(`merge into that contact instead`);
    expect((await call('GET', `/v1/contacts/${loser.id}`)).status).toBe(404);
  });

  it('keeps every address when it merges several contacts at once, and the survivor\'s primary stays primary', async () => {
    const prisma = stack.db.prisma;
    const make = (name: string, address: string) => prisma.contact.create({ data: { firstName: name, lastName: 'Lee', emails: { create: { address, isPrimary: true } } } });
    const survivor = await make('Ann', 'ann@lee.example');
    const second = await make('Annie', 'annie@lee.example');
    const third = await make('Anna', 'anna@lee.example');
    const reply = await call('POST', `/v1/contacts/${survivor.id}/merge`, { body: { mergeIds: [second.id, third.id] } });
    expect(reply.status).toBe(200);
    expect((reply.body.survivor as { emails: unknown[] }).emails).toEqual([
      { address: 'ann@lee.example', status: 'valid', isPrimary: true },
      expect.objectContaining({ isPrimary: false }),
      expect.objectContaining({ isPrimary: false }),
    ]);
    expect(await prisma.contact.count({ where: { mergedIntoId: survivor.id } })).toBe(2);
  });

  it('refuses bad requests, naming the field, and changes nothing', async () => {
    const prisma = stack.db.prisma;
    const survivor = await prisma.contact.create({ data: { firstName: 'Kim', emails: { create: { address: 'kim@example.com', isPrimary: true } } } });
    const other = await prisma.contact.create({ data: { firstName: 'Kimberly', emails: { create: { address: 'kimberly@example.com', isPrimary: true } } } });
    const unknown = '00000000-0000-4000-8000-00000000abcd';

    const self = await call('POST', `/v1/contacts/${survivor.id}/merge`, { body: { mergeIds: [survivor.id] } });
    expect(self.status).toBe(422);
    expect(self.body.errors).toEqual([{ field: 'mergeIds/0', message: 'is the surviving contact itself' }]);
    const missing = await call('POST', `/v1/contacts/${survivor.id}/merge`, { body: { mergeIds: [other.id, unknown] } });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([{ field: 'mergeIds/1', message: 'is not an existing contact' }]);
    const badPick = await call('POST', `/v1/contacts/${survivor.id}/merge`, { body: { mergeIds: [other.id], pick: { lifecycleStage: other.id, firstName: unknown } } });
    expect(badPick.status).toBe(422);
    expect(badPick.body.errors!.map((error) => error.field)).toEqual(['pick/lifecycleStage', 'pick/firstName']);
    expect((await call('POST', `/v1/contacts/${unknown}/merge`, { body: { mergeIds: [other.id] } })).status).toBe(404);
    expect((await call('POST', `/v1/contacts/${survivor.id}/merge`, { body: { mergeIds: [] } })).status).toBe(422);
    expect((await call('POST', `/v1/contacts/${survivor.id}/merge`, { key: stack.keys.rep, body: { mergeIds: [other.id] } })).status).toBe(403);

    expect(await prisma.contact.findUniqueOrThrow({ where: { id: other.id } })).toMatchObject({ deletedAt: null, mergedIntoId: null });
    expect(await prisma.contactEmail.findUniqueOrThrow({ where: { address: 'kimberly@example.com' } })).toMatchObject({ contactId: other.id });
  });
});
