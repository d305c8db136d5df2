import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { dealStateQuery } from '../../workflows/deal-messages';
import { dealWorkflowId } from '../../workflows/workflow-ids';
import { apiClient } from '../support/api-client';
import { salesFixture } from '../support/sales';
import { eventually, startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let fixture: Awaited<ReturnType<typeof salesFixture>>;
let call: ReturnType<typeof apiClient>;

beforeAll(async () => {
  stack = await startTestStack();
  fixture = await salesFixture(stack.db.prisma);
  call = apiClient(stack, () => stack.keys.admin);
}, 60_000);
afterAll(() => stack.close());

const missing = '00000000-0000-4000-8000-000000000000';
const taskDefinition = (stage = 'Proposal', title = 'Send the {{deal.name}} proposal') => ({
  event: 'enter',
  stageId: fixture.stage(stage).id,
  actions: [{ type: 'create_task', title }],
});
const triggerCount = () => stack.db.prisma.trigger.count();

describe('/v1/triggers validation', () => {
  it('answers 422 naming each bad field of a definition, and stores nothing', async () => {
    const before = await triggerCount();
    const reply = await call('POST', '/v1/triggers', {
      body: {
        name: 'broken',
        definition: {
          event: 'enter',
          stageId: fixture.stage('Proposal').id,
          filters: { amount: { min: 500, max: 100 } },
          actions: [
            { type: 'create_task', title: 'ok' },
            { type: 'send_email', template: 'Not A Key' },
            { type: 'create_task', title: 'ok', assignee: { type: 'user', userId: 'rita' } },
            { type: 'webhook', url: 'http://hooks.example.com/deals' },
            { type: 'update_field', target: 'contact', field: 'email', value: 'x' },
          ],
        },
      },
    });
    expect(reply.status).toBe(422);
    expect(reply.type).toContain('application/problem+json');
    expect(reply.body.errors?.map((error) => error.field).sort()).toEqual([
      'definition/actions/1/template',
      'definition/actions/2/assignee/userId',
      'definition/actions/3/url',
      'definition/actions/4/field',
      'definition/filters/amount/max',
    ]);
    expect(await triggerCount()).toBe(before);
  });

  it('answers 422 naming idleLimitDays when it is not a positive whole number of business days or sits on a leave trigger', async () => {
    const before = await triggerCount();
    for (const [event, idleLimitDays] of [['enter', 0], ['enter', 2.5], ['leave', 3]] as const) {
      const reply = await call('POST', '/v1/triggers', { body: { name: 'idle limit', definition: { ...taskDefinition(), event, idleLimitDays } } });
      expect(reply.status).toBe(422);
      expect(reply.type).toContain('application/problem+json');
      expect(reply.body.errors?.map((error) => error.field)).toEqual(['definition/idleLimitDays']);
    }
    expect(await triggerCount()).toBe(before);
  });

  it('takes an idle limit as a trigger of its own, without actions, but not on a won stage', async () => {
    const idleOnly = await call('POST', '/v1/triggers', {
      body: { name: 'big deals in Proposal', definition: { event: 'enter', stageId: fixture.stage('Proposal').id, filters: { amount: { min: 50_000 } }, idleLimitDays: 3 }, publish: true },
    });
    expect(idleOnly.status).toBe(201);
    expect(idleOnly.body).toMatchObject({ publishedVersion: 1, latest: { definition: { idleLimitDays: 3, actions: [] } } });

    const nothing = await call('POST', '/v1/triggers', { body: { name: 'does nothing', definition: { event: 'enter', stageId: fixture.stage('Proposal').id } } });
    expect(nothing.status).toBe(422);
    expect(nothing.body.errors).toEqual([{ field: 'definition/actions', message: 'must have at least one action, unless the trigger sets idleLimitDays' }]);

    const onWon = await call('POST', '/v1/triggers', { body: { name: 'idle when won', definition: { event: 'enter', stageId: fixture.stage('Won').id, idleLimitDays: 3 }, publish: true } });
    expect(onWon.status).toBe(422);
    expect(onWon.body.errors).toEqual([{ field: 'definition/idleLimitDays', message: 'is for open stages: a won or lost deal does not idle' }]);
  });

  it('checks the Handlebars texts of a draft, with line and column', async () => {
    const reply = await call('POST', '/v1/triggers', {
      body: { name: 'typo', definition: { ...taskDefinition(), actions: [{ type: 'create_task', title: 'Call {{contact.frist}}', description: 'Line one\n{{#if deal.amount}}' }] } },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([
      { field: 'definition/actions/0/title', message: expect.stringMatching(/^line 1, column 8: .*frist/) },
      { field: 'definition/actions/0/description', message: expect.stringMatching(/^line 2, column \d+/) },
    ]);
  });

  it('saves a draft that names things that do not exist, and refuses to publish it with each of them listed', async () => {
    const definition = {
      event: 'enter',
      stageId: missing,
      filters: { pipelineId: missing, ownerIds: [fixture.rita.id, missing] },
      actions: [
        { type: 'notify_owner', template: 'no-such-template' },
        { type: 'enroll_in_sequence', sequenceId: missing },
        { type: 'create_task', title: 'x', assignee: { type: 'user', userId: missing } },
      ],
    };
    const draft = await call<{ id: string; publishedVersion: number | null; latest: { status: string } }>('POST', '/v1/triggers', { body: { name: 'dangling', definition } });
    expect(draft.status).toBe(201);
    expect(draft.body).toMatchObject({ publishedVersion: null, latest: { status: 'draft' } });

    const publish = await call('POST', `/v1/triggers/${draft.body.id}/publish`, { body: {} });
    expect(publish.status).toBe(422);
    expect(publish.body.errors?.map((error) => `${error.field}: ${error.message}`).sort()).toEqual([
      'definition/actions/0/template: there is no email template "no-such-template" (neither stored through /v1/templates nor shipped in templates/email)',
      'definition/actions/1/sequenceId: is not an existing sequence',
      'definition/actions/2/assignee/userId: is not an existing user',
      'definition/filters/ownerIds/1: is not an existing user',
      'definition/filters/pipelineId: is not an existing pipeline',
      'definition/stageId: is not an existing stage',
    ]);
    expect((await stack.db.prisma.trigger.findUniqueOrThrow({ where: { id: draft.body.id } })).publishedVersion).toBeNull();
  });
});

describe('/v1/triggers versions', () => {
  it('keeps a published version unchanged: a PUT saves a new draft, publishing it moves the firing version', async () => {
    const created = await call<{ id: string; signingSecret: string; latestVersion: number; publishedVersion: number }>('POST', '/v1/triggers', {
      body: { name: 'proposal task', definition: taskDefinition(), publish: true },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/triggers/${created.body.id}`);
    expect(created.body).toMatchObject({ latestVersion: 1, publishedVersion: 1, signingSecret: expect.stringMatching(/^whsec_/) });

    const saved = await call('PUT', `/v1/triggers/${created.body.id}`, { body: { definition: taskDefinition('Proposal', 'Version two for {{deal.name}}') } });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ latestVersion: 2, publishedVersion: 1, latest: { version: 2, status: 'draft' } });
    const v1 = await call('GET', `/v1/triggers/${created.body.id}/versions/1`);
    expect(v1.body).toMatchObject({ version: 1, status: 'published', definition: { actions: [{ title: 'Send the {{deal.name}} proposal' }] } });

    const published = await call('POST', `/v1/triggers/${created.body.id}/publish`, { body: {} });
    expect(published.body).toMatchObject({ latestVersion: 2, publishedVersion: 2 });
    expect((await call('POST', `/v1/triggers/${created.body.id}/publish`, { body: { version: 2 } })).status).toBe(409);
    expect((await call('POST', `/v1/triggers/${created.body.id}/publish`, { body: { version: 1 } })).status).toBe(409);
    const versions = await call<{ data: Array<{ version: number; status: string }> }>('GET', `/v1/triggers/${created.body.id}/versions`);
    expect(versions.body.data.map((version) => [version.version, version.status])).toEqual([[2, 'published'], [1, 'published']]);
    expect(await stack.db.prisma.auditLog.count({ where: { entityId: created.body.id, action: 'trigger.published' } })).toBe(2);

    const listed = await call<{ data: Array<{ id: string }> }>('GET', '/v1/triggers');
    expect(listed.body.data.map((row) => row.id)).toContain(created.body.id);
    expect((await call('DELETE', `/v1/triggers/${created.body.id}`)).status).toBe(204);
    expect((await call<{ data: Array<{ id: string }> }>('GET', '/v1/triggers')).body.data.map((row) => row.id)).not.toContain(created.body.id);
    expect((await call('PUT', `/v1/triggers/${created.body.id}`, { body: { definition: taskDefinition() } })).status).toBe(409);
    expect((await call('GET', `/v1/triggers/${created.body.id}`)).body).toMatchObject({ active: false, archivedAt: expect.any(String) });
  });

  it('rotates the signing secret', async () => {
    const created = await call<{ id: string; signingSecret: string }>('POST', '/v1/triggers', { body: { name: 'secret', definition: taskDefinition() } });
    const rotated = await call<{ signingSecret: string }>('POST', `/v1/triggers/${created.body.id}/signing-secret/rotate`);
    expect(rotated.body.signingSecret).toMatch(/^whsec_/);
    expect(rotated.body.signingSecret).not.toBe(created.body.signingSecret);
    expect((await call<{ signingSecret: string }>('GET', `/v1/triggers/${created.body.id}/signing-secret`)).body.signingSecret).toBe(rotated.body.signingSecret);
  });
});

describe('/v1/triggers roles', () => {
  it('lets sales ops and admins write, managers read, and nobody else in', async () => {
    const salesOps = await stack.keyFor('sales_ops', fixture.sam.id);
    const manager = await stack.keyFor('manager', fixture.maria.id);
    const marketer = await stack.keyFor('marketer');
    const created = await call<{ id: string }>('POST', '/v1/triggers', { key: salesOps, body: { name: 'by sales ops', definition: taskDefinition() } });
    expect(created.status).toBe(201);
    expect((await call('GET', `/v1/triggers/${created.body.id}`, { key: manager })).status).toBe(200);
    expect((await call('GET', `/v1/triggers/${created.body.id}/runs`, { key: manager })).status).toBe(200);
    expect((await call('POST', '/v1/triggers', { key: manager, body: { name: 'no', definition: taskDefinition() } })).status).toBe(403);
    expect((await call('GET', `/v1/triggers/${created.body.id}/signing-secret`, { key: manager })).status).toBe(403);
    expect((await call('GET', '/v1/triggers', { key: stack.keys.rep })).status).toBe(403);
    expect((await call('GET', '/v1/triggers', { key: marketer })).status).toBe(403);
    expect((await call('GET', `/v1/triggers/${missing}`)).status).toBe(404);
  });
});

describe('which triggers fire', () => {
  it('a deactivated trigger matches nothing until it is activated again', async () => {
    await stack.startWorker();
    const created = await call<{ id: string }>('POST', '/v1/triggers', { body: { name: 'paused', definition: taskDefinition('Contacted', 'Paused?'), publish: true } });
    expect((await call('POST', `/v1/triggers/${created.body.id}/deactivate`)).body).toMatchObject({ active: false });
    const deal = await call<{ id: string }>('POST', '/v1/deals', { body: { name: 'Paused deal', pipelineId: fixture.pipeline.id, stageId: fixture.stage('New').id, ownerId: fixture.rita.id } });
    expect(deal.status).toBe(201);
    const handle = stack.client.workflow.getHandle(dealWorkflowId(deal.body.id));

    await call('PATCH', `/v1/deals/${deal.body.id}`, { body: { stageId: fixture.stage('Contacted').id } });
    // Handled, not just read from the database: a query may land after the workflow loaded the deal and before the signal.
    await eventually(() => handle.query(dealStateQuery), (state) => state.stageId === fixture.stage('Contacted').id && state.handledStageChangeIds.length === 1);
    expect(await stack.db.prisma.triggerRun.count({ where: { triggerId: created.body.id } })).toBe(0);

    expect((await call('POST', `/v1/triggers/${created.body.id}/activate`)).body).toMatchObject({ active: true });
    await call('PATCH', `/v1/deals/${deal.body.id}`, { body: { stageId: fixture.stage('New').id } });
    await call('PATCH', `/v1/deals/${deal.body.id}`, { body: { stageId: fixture.stage('Contacted').id } });
    await eventually(() => stack.db.prisma.triggerRun.count({ where: { triggerId: created.body.id } }), (count) => count === 1);
    expect(await stack.db.prisma.task.count({ where: { dealId: deal.body.id, title: 'Paused?' } })).toBe(1);
  }, 60_000);
});
