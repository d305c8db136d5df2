import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient } from '../support/api-client';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let marketer: string;
const call = apiClient({ get baseUrl() { return stack.baseUrl; } }, () => marketer);

beforeAll(async () => {
  stack = await startTestStack();
  marketer = await stack.keyFor('marketer');
  const intro = { key: 'intro', channel: 'email', name: 'Intro', subject: 'Hello {{default contact.firstName "there"}}', html: '<p>Version 1</p>' };
  expect((await call('POST', '/v1/templates', { body: intro })).status).toBe(201);
  expect((await call('PUT', '/v1/templates/intro', { body: { subject: intro.subject, html: '<p>Version 2</p>' } })).status).toBe(200);
});
afterAll(() => stack.close());

interface SequenceReply {
  id: string;
  latestVersion: number;
  publishedVersion: number | null;
  archived: boolean;
  latest: { version: number; status: string; templatePins: Record<string, number | string>; definition: { steps: unknown[]; settings: Record<string, unknown> } };
  published: { version: number; status: string; templatePins: Record<string, number | string> } | null;
}

const good = {
  steps: [
    { key: 'intro', type: 'email', template: 'intro' },
    { key: 'pause', type: 'wait', duration: 'P2D' },
    { key: 'text', type: 'sms', template: 'welcome' },
    { key: 'check', type: 'branch', condition: { type: 'message', step: 'intro', event: 'opened' }, then: [{ key: 'thanks', type: 'email', template: 'welcome' }], else: [] },
  ],
};

describe('sequences API', () => {
  it('creates a draft as version 1 with the schema defaults filled in, and publishes nothing', async () => {
    const created = await call<SequenceReply>('POST', '/v1/sequences', { body: { name: 'Onboarding', definition: good } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/sequences/${created.body.id}`);
    expect(created.body).toMatchObject({ name: 'Onboarding', latestVersion: 1, publishedVersion: null, archived: false, published: null, latest: { version: 1, status: 'draft', templatePins: {} } });
    expect(created.body.latest.definition.settings).toMatchObject({ reenrollment: { policy: 'never' }, exitOn: expect.arrayContaining(['unsubscribed', 'bounced']) });
  });

  it('refuses to publish with every problem at once, named by step path and key, and stores nothing', async () => {
    const before = await stack.db.prisma.sequence.count();
    const reply = await call('POST', '/v1/sequences', {
      body: {
        name: 'Broken',
        publish: true,
        definition: {
          steps: [
            { key: 'intro', type: 'email', template: 'no-such-template' },
            { key: 'text', type: 'sms', template: 'intro' },
            {
              key: 'follow-up',
              type: 'branch',
              condition: { type: 'message', step: 'later', event: 'clicked' },
              then: [{ key: 'nudge', type: 'email', template: 'welcome' }, { key: 'stop', type: 'end' }, { key: 'intro', type: 'email', template: 'welcome' }],
              else: [{ key: 'again', type: 'goto', target: 'intro' }],
            },
            { key: 'later', type: 'email', template: 'welcome' },
          ],
        },
      },
    });
    expect(reply.status).toBe(422);
    expect(reply.type).toContain('application/problem+json');
    expect(reply.body.errors).toEqual([
      { field: 'definition.steps[2](follow-up).then[2](intro).key', message: '"intro" is also the key of steps[0](intro); step keys must be unique in the whole sequence' },
      { field: 'definition.steps[2](follow-up).condition.step', message: '"later" comes after this branch (or inside it), so nothing is known about it when the branch decides' },
      { field: 'definition.steps[2](follow-up).then[2](intro)', message: 'is never reached: it comes after the end step "stop" in the same list, and no goto leads to it' },
      { field: 'definition.steps[3](later)', message: 'is never reached: every arm of the branch "follow-up" before it ends or jumps elsewhere, and no goto leads to it' },
      { field: 'definition.steps[2](follow-up).else[0](again).target', message: 'loops back to "intro" with no wait step on the way, so the loop would repeat at once without end' },
      { field: 'definition.steps[0](intro).template', message: 'there is no email template "no-such-template" (neither stored through /v1/templates nor shipped in templates/email)' },
      { field: 'definition.steps[1](text).template', message: '"intro" is an email template; an sms step needs an SMS template' },
    ]);
    expect(await stack.db.prisma.sequence.count()).toBe(before);
  });

  it('reports schema errors of a draft by JSON path before any publish check', async () => {
    const reply = await call('POST', '/v1/sequences', { body: { name: 'Bad wait', definition: { steps: [{ key: 'w', type: 'wait', duration: 'P0D' }] } } });
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([{ field: 'definition/steps/0/duration', message: expect.stringContaining('ISO 8601 duration') }]);
  });

  it('pins the template versions at publish: a stored template\'s current version, a file template as file; later template edits do not move the pins', async () => {
    const created = await call<SequenceReply>('POST', '/v1/sequences', { body: { name: 'Pinned', definition: good, publish: true } });
    expect(created.status).toBe(201);
    const pins = { 'email:intro': 2, 'sms:welcome': 'file', 'email:welcome': 'file' };
    expect(created.body).toMatchObject({ publishedVersion: 1, published: { version: 1, status: 'published', templatePins: pins } });

    expect((await call('PUT', '/v1/templates/intro', { body: { subject: 'New', html: '<p>Version 3</p>' } })).status).toBe(200);
    const read = await call<SequenceReply>('GET', `/v1/sequences/${created.body.id}`);
    expect(read.body.published!.templatePins).toEqual(pins);

    const v2 = await call<SequenceReply>('PUT', `/v1/sequences/${created.body.id}`, { body: { definition: good, publish: true } });
    expect(v2.body).toMatchObject({ latestVersion: 2, publishedVersion: 2, published: { version: 2, templatePins: { 'email:intro': 3 } } });
  });

  it('keeps every version as saved: PUT adds a version, a published one cannot be published again, an older draft cannot overtake', async () => {
    const created = await call<SequenceReply>('POST', '/v1/sequences', { body: { name: 'Versions', definition: good } });
    const id = created.body.id;
    const draft2 = await call<SequenceReply>('PUT', `/v1/sequences/${id}`, { body: { name: 'Versions (renamed)', definition: { steps: [{ key: 'only', type: 'email', template: 'welcome' }] } } });
    expect(draft2.body).toMatchObject({ name: 'Versions (renamed)', latestVersion: 2, publishedVersion: null, latest: { version: 2, status: 'draft' } });

    const published = await call<SequenceReply>('POST', `/v1/sequences/${id}/versions/2/publish`);
    expect(published.status).toBe(200);
    expect(published.body).toMatchObject({ publishedVersion: 2, published: { version: 2, templatePins: { 'email:welcome': 'file' } } });
    expect((await call('POST', `/v1/sequences/${id}/versions/2/publish`)).status).toBe(409);
    expect((await call('POST', `/v1/sequences/${id}/versions/1/publish`)).body.detail).toContain('older than the published version 2');
    expect((await call('POST', `/v1/sequences/${id}/versions/9/publish`)).status).toBe(404);

    const versions = await call('GET', `/v1/sequences/${id}/versions`);
    expect(versions.body.data!.map((v) => [v.version, v.status, v.current])).toEqual([[2, 'published', true], [1, 'draft', false]]);
    const v1 = await call<{ definition: { steps: Array<{ key: string }> } }>('GET', `/v1/sequences/${id}/versions/1`);
    expect(v1.body.definition.steps.map((step) => step.key)).toEqual(['intro', 'pause', 'text', 'check']);

    const stored = await stack.db.prisma.sequenceVersion.findMany({ where: { sequenceId: id }, orderBy: { version: 'asc' } });
    expect(stored.map((row) => row.status)).toEqual(['draft', 'published']);
    const audit = await stack.db.prisma.auditLog.findMany({ where: { entityType: 'sequence', entityId: id }, orderBy: { at: 'asc' } });
    expect(audit.map((entry) => entry.action)).toEqual(['sequence.created', 'sequence.version_saved', 'sequence.published']);
  });

  it('publishing a draft validates it like a direct publish', async () => {
    const created = await call<SequenceReply>('POST', '/v1/sequences', { body: { name: 'Late check', definition: { steps: [{ key: 'w', type: 'wait', duration: 'P1D' }] } } });
    const reply = await call('POST', `/v1/sequences/${created.body.id}/versions/1/publish`);
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([{ field: 'definition.steps', message: expect.stringContaining('has no email, sms or task step') }]);
    expect((await stack.db.prisma.sequenceVersion.findFirstOrThrow({ where: { sequenceId: created.body.id } })).status).toBe('draft');
  });

  it('archives with DELETE: no new versions afterwards, archiving again is harmless', async () => {
    const created = await call<SequenceReply>('POST', '/v1/sequences', { body: { name: 'Old', definition: good, publish: true } });
    expect((await call('DELETE', `/v1/sequences/${created.body.id}`)).status).toBe(204);
    expect((await call('DELETE', `/v1/sequences/${created.body.id}`)).status).toBe(204);
    expect((await call<SequenceReply>('GET', `/v1/sequences/${created.body.id}`)).body).toMatchObject({ archived: true, publishedVersion: 1 });
    expect((await call('PUT', `/v1/sequences/${created.body.id}`, { body: { definition: good } })).status).toBe(409);
    expect((await call('DELETE', '/v1/sequences/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('lists newest first with cursor pages', async () => {
    const first = await call('GET', '/v1/sequences?limit=2');
    expect(first.body.data).toHaveLength(2);
    const second = await call('GET', `/v1/sequences?limit=2&cursor=${String(first.body.nextCursor)}`);
    const all = await call('GET', '/v1/sequences?limit=200');
    expect([...first.body.data!, ...second.body.data!].map((row) => row.id)).toEqual(all.body.data!.slice(0, 4).map((row) => row.id));
    expect((await call('GET', '/v1/sequences?cursor=nope')).status).toBe(400);
  });

  it('lets marketers and admins write, sales ops and managers read, and reps nothing', async () => {
    const salesOps = await stack.keyFor('sales_ops');
    const manager = await stack.keyFor('manager');
    const created = await call<SequenceReply>('POST', '/v1/sequences', { key: stack.keys.admin, body: { name: 'By admin', definition: good } });
    expect(created.status).toBe(201);
    for (const key of [salesOps, manager]) {
      expect((await call('GET', `/v1/sequences/${created.body.id}`, { key })).status).toBe(200);
      expect((await call('GET', `/v1/sequences/${created.body.id}/stats`, { key })).status).toBe(200);
      expect((await call('PUT', `/v1/sequences/${created.body.id}`, { key, body: { definition: good } })).status).toBe(403);
      expect((await call('POST', `/v1/sequences/${created.body.id}/versions/1/publish`, { key })).status).toBe(403);
    }
    expect((await call('GET', '/v1/sequences', { key: stack.keys.rep })).status).toBe(403);
  });
});
