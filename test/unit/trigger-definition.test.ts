import { describe, expect, it } from '@jest/globals';
import { fieldErrors } from '../../api/problem';
import { triggerDefinitionSchema, TriggerDefinitionSchema, type TriggerDefinition } from '../../domain/schemas/trigger';
import { triggerFires, type DealMatchFacts, type StageMove } from '../../domain/trigger-matching';
import { triggerReferences, triggerTexts, updateFieldProblems, webhookUrlProblem } from '../../domain/trigger-validation';

const stage = '6b0f1c1e-3a54-4c3e-9d41-0d6c5c0f0a01';
const otherStage = '6b0f1c1e-3a54-4c3e-9d41-0d6c5c0f0a02';
const user = '0c6b8f7e-5d4c-4b3a-8a29-1f0e9d8c7b6a';
const pipeline = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const sequence = '1f2e3d4c-5b6a-4978-8867-5a4b3c2d1e0f';

function definition(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event: 'enter',
    stageId: stage,
    actions: [{ type: 'create_task', title: 'Send the contract for {{deal.name}}' }],
    ...overrides,
  };
}

const guarded = { httpAllowedHosts: [] as string[], allowPrivateNetworks: false };

function errorsOf(input: unknown, policy = guarded) {
  const parsed = triggerDefinitionSchema(policy).safeParse(input);
  return parsed.success ? [] : fieldErrors(parsed.error);
}

describe('trigger definition schema', () => {
  it('fills the defaults of a minimal create_task action: due in 1 business day, normal follow_up for the owner', () => {
    const parsed = TriggerDefinitionSchema.parse(definition());
    expect(parsed.filters).toEqual({});
    expect(parsed.actions[0]).toEqual({
      type: 'create_task', title: 'Send the contract for {{deal.name}}', dueInBusinessDays: 1, priority: 'normal', taskType: 'follow_up', assignee: { type: 'owner' },
    });
  });

  it('accepts every action type in one ordered list', () => {
    const parsed = TriggerDefinitionSchema.parse(definition({
      event: 'leave',
      filters: { pipelineId: pipeline, amount: { min: 1000, max: 50_000 }, ownerIds: [user], contactLifecycleStages: ['sql', 'customer'] },
      actions: [
        { type: 'create_task', title: 'Call {{contact.firstName}}', assignee: { type: 'user', userId: user }, priority: 'high', taskType: 'call', dueInBusinessDays: 0 },
        { type: 'send_email', template: 'proposal-follow-up' },
        { type: 'notify_owner', template: 'deal-stage-changed' },
        { type: 'enroll_in_sequence', sequenceId: sequence },
        { type: 'update_field', target: 'contact', field: 'lifecycleStage', value: 'customer' },
        { type: 'update_field', target: 'contact', field: 'customFields.plan', value: 'pro' },
        { type: 'update_field', target: 'deal', field: 'expectedCloseDate', value: '2026-12-31' },
        { type: 'webhook', url: 'https://hooks.example.com/deals', body: { text: 'Deal {{deal.name}} left {{stageChange.from}}' } },
      ],
    }));
    expect(parsed.actions.map((action) => action.type)).toEqual(['create_task', 'send_email', 'notify_owner', 'enroll_in_sequence', 'update_field', 'update_field', 'update_field', 'webhook']);
    expect(parsed.actions[1]).toMatchObject({ transactional: false });
  });

  it('reports each bad field of a definition at once, by its path', () => {
    const errors = errorsOf({
      event: 'moved',
      stageId: 'not-a-uuid',
      filters: { amount: { min: 10, max: 5 } },
      actions: [
        { type: 'create_task', title: ' ' },
        { type: 'send_email', template: 'Bad Key!' },
        { type: 'create_task', title: 'ok', assignee: { type: 'user', userId: 'rita' } },
        { type: 'update_field', target: 'deal', field: 'stageId', value: 'x' },
        { type: 'update_field', target: 'deal', field: 'amount', value: 'a lot' },
        { type: 'webhook', url: 'http://hooks.example.com/x' },
        { type: 'explode' },
      ],
    });
    const fields = errors.map((error) => error.field);
    expect(fields).toEqual(expect.arrayContaining([
      'event',
      'stageId',
      'filters/amount/max',
      'actions/0/title',
      'actions/1/template',
      'actions/2/assignee/userId',
      'actions/3/field',
      'actions/4/value',
      'actions/5/url',
      'actions/6/type',
    ]));
    expect(errors.find((error) => error.field === 'actions/2/assignee/userId')?.message).toBe('must be a UUID');
    expect(errors.find((error) => error.field === 'actions/3/field')?.message).toMatch(/not a writable deal field; use one of name, amount/);
  });

  it('refuses unknown fields and an empty action list', () => {
    expect(errorsOf(definition({ actions: [], colour: 'red' })).map((error) => error.field)).toEqual(expect.arrayContaining(['actions', 'colour']));
    expect(errorsOf(definition({ actions: [{ type: 'notify_owner', template: 'x', extra: 1 }] })).map((error) => error.field)).toEqual(['actions/0/extra']);
  });

  it('takes an idle limit on an enter trigger, with or without actions, and refuses a bad one by field', () => {
    expect(TriggerDefinitionSchema.parse(definition({ idleLimitDays: 3 }))).toMatchObject({ idleLimitDays: 3, actions: [{ type: 'create_task' }] });
    const idleOnly = TriggerDefinitionSchema.parse(definition({ idleLimitDays: 3, filters: { amount: { min: 50_000 } }, actions: undefined }));
    expect(idleOnly).toMatchObject({ idleLimitDays: 3, actions: [] });
    expect(errorsOf(definition({ idleLimitDays: 3, actions: [] }))).toEqual([]);

    expect(errorsOf(definition({ idleLimitDays: 0 })).map((error) => error.field)).toEqual(['idleLimitDays']);
    expect(errorsOf(definition({ idleLimitDays: 2.5 })).map((error) => error.field)).toEqual(['idleLimitDays']);
    expect(errorsOf(definition({ idleLimitDays: 366 })).map((error) => error.field)).toEqual(['idleLimitDays']);
    expect(errorsOf(definition({ idleLimitDays: '3' })).map((error) => error.field)).toEqual(['idleLimitDays']);
    expect(errorsOf(definition({ event: 'leave', idleLimitDays: 3 }))).toEqual([
      { field: 'idleLimitDays', message: 'is only for enter triggers: it sets the idle limit of the stage the deal enters' },
    ]);
    expect(errorsOf(definition({ actions: undefined }))).toEqual([{ field: 'actions', message: 'must have at least one action, unless the trigger sets idleLimitDays' }]);
  });

  it('allows plain http webhooks only to the configured hosts', () => {
    const http = definition({ actions: [{ type: 'webhook', url: 'http://127.0.0.1:4000/hook' }] });
    expect(errorsOf(http)).toEqual([{ field: 'actions/0/url', message: 'must use https (http only to the hosts in WEBHOOK_HTTP_ALLOWED_HOSTS)' }]);
    expect(errorsOf(http, { httpAllowedHosts: ['127.0.0.1'], allowPrivateNetworks: true })).toEqual([]);
  });

  it('refuses a webhook host that is a private IP literal or localhost while WEBHOOK_ALLOW_PRIVATE_NETWORKS is off', () => {
    const at = (url: string) => definition({ actions: [{ type: 'create_task', title: 'x' }, { type: 'webhook', url }] });
    expect(errorsOf(at('https://10.0.0.5/hook'))).toEqual([
      { field: 'actions/1/url', message: 'must not point at a private address (10.0.0.5 is private; only public hosts unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is on)' },
    ]);
    // On the http allow-list too: the allow-list lifts https, not the guard.
    expect(errorsOf(at('http://127.0.0.1:4000/hook'), { httpAllowedHosts: ['127.0.0.1'], allowPrivateNetworks: false })).toEqual([
      { field: 'actions/1/url', message: expect.stringContaining('127.0.0.1 is loopback') },
    ]);
    expect(errorsOf(at('http://127.0.0.1:4000/hook'), { httpAllowedHosts: ['127.0.0.1'], allowPrivateNetworks: true })).toEqual([]);
    expect(errorsOf(at('https://93.184.215.14/hook'))).toEqual([]);
  });
});

describe('trigger validation rules', () => {
  it('checks update_field values against the field they write', () => {
    expect(updateFieldProblems({ target: 'contact', field: 'lifecycleStage', value: 'customer' })).toEqual([]);
    expect(updateFieldProblems({ target: 'contact', field: 'lifecycleStage', value: 'vip' })).toEqual([{ field: 'value', message: expect.stringMatching(/^lifecycleStage: /) }]);
    expect(updateFieldProblems({ target: 'deal', field: 'currency', value: 'euro' })).toEqual([{ field: 'value', message: 'currency: must be an ISO 4217 code such as EUR' }]);
    expect(updateFieldProblems({ target: 'deal', field: 'customFields.plan', value: 'x' })).toEqual([{ field: 'field', message: expect.stringContaining('not a writable deal field') }]);
    expect(updateFieldProblems({ target: 'contact', field: 'customFields.plan', value: null })).toEqual([]);
    expect(updateFieldProblems({ target: 'contact', field: 'customFields.9lives', value: 1 })).toHaveLength(1);
  });

  it('refuses webhook URLs with credentials or other schemes', () => {
    expect(webhookUrlProblem('https://user:pw@hooks.example.com', guarded)).toMatch(/credentials/);
    expect(webhookUrlProblem('ftp://hooks.example.com', guarded)).toBe('must be an https URL');
    expect(webhookUrlProblem('hooks.example.com', guarded)).toBe('must be an absolute URL');
    expect(webhookUrlProblem('https://hooks.example.com/x', guarded)).toBeNull();
  });

  it.each([
    ['https://localhost/hook', 'localhost is loopback'],
    ['https://api.localhost./hook', 'api.localhost. is loopback'],
    ['https://LOCALHOST:8443/hook', 'localhost is loopback'],
    ['https://169.254.169.254/latest/meta-data', '169.254.169.254 is linkLocal'],
    ['https://[::1]/hook', '::1 is loopback'],
    ['https://[fd00::5]/hook', 'fd00::5 is uniqueLocal'],
    ['https://[::ffff:10.0.0.5]/hook', '::ffff:a00:5 is private'],
    ['https://0.0.0.0/hook', '0.0.0.0 is unspecified'],
    // URL parsing turns other spellings of an IPv4 address into dotted form first.
    ['https://2130706433/hook', '127.0.0.1 is loopback'],
    ['https://0x0a.0.0.1/hook', '10.0.0.1 is private'],
  ])('refuses the host of %s while the guard is on', (url, why) => {
    expect(webhookUrlProblem(url, guarded)).toContain(`(${why};`);
    expect(webhookUrlProblem(url, { ...guarded, allowPrivateNetworks: true })).toBeNull();
  });

  it('leaves names to the delivery-time check: they may resolve anywhere by then', () => {
    expect(webhookUrlProblem('https://intranet.example.com/hook', guarded)).toBeNull();
  });

  it('lists what a definition refers to, with the field that names it, for the existence checks', () => {
    const parsed = TriggerDefinitionSchema.parse(definition({
      filters: { pipelineId: pipeline, ownerIds: [user] },
      actions: [
        { type: 'create_task', title: 'x', assignee: { type: 'user', userId: user } },
        { type: 'send_email', template: 'offer' },
        { type: 'enroll_in_sequence', sequenceId: sequence },
        { type: 'update_field', target: 'deal', field: 'ownerId', value: user },
      ],
    }));
    expect(triggerReferences(parsed)).toEqual({
      stages: [{ id: stage, field: 'stageId' }],
      pipelines: [{ id: pipeline, field: 'filters/pipelineId' }],
      users: [
        { id: user, field: 'filters/ownerIds/0' },
        { id: user, field: 'actions/0/assignee/userId' },
        { id: user, field: 'actions/3/value' },
      ],
      sequences: [{ id: sequence, field: 'actions/2/sequenceId' }],
      emailTemplates: [{ key: 'offer', field: 'actions/1/template' }],
    });
  });

  it('lists every Handlebars text: task titles and descriptions and each string of a webhook body', () => {
    const parsed = TriggerDefinitionSchema.parse(definition({
      actions: [
        { type: 'create_task', title: 'T {{deal.name}}', description: 'D' },
        { type: 'webhook', url: 'https://h.example.com', body: { text: 'hi', blocks: [{ note: '{{owner.name}}' }], count: 3 } },
      ],
    }));
    expect(triggerTexts(parsed)).toEqual([
      { field: 'actions/0/title', source: 'T {{deal.name}}' },
      { field: 'actions/0/description', source: 'D' },
      { field: 'actions/1/body/text', source: 'hi' },
      { field: 'actions/1/body/blocks/0/note', source: '{{owner.name}}' },
    ]);
  });
});

describe('which stage changes fire a trigger', () => {
  const deal: DealMatchFacts = { pipelineId: pipeline, amount: 20_000, ownerId: user, contactLifecycleStage: 'sql' };
  const fires = (overrides: Partial<TriggerDefinition>, move: StageMove = { fromStageId: otherStage, toStageId: stage }, facts = deal) =>
    triggerFires({ ...TriggerDefinitionSchema.parse(definition()), ...overrides }, move, facts);

  it('fires on entering its stage, and a leave trigger on leaving it', () => {
    expect(fires({})).toBe(true);
    expect(fires({}, { fromStageId: stage, toStageId: otherStage })).toBe(false);
    expect(fires({ event: 'leave' }, { fromStageId: stage, toStageId: otherStage })).toBe(true);
    expect(fires({ event: 'leave' })).toBe(false);
    expect(fires({ event: 'leave' }, { fromStageId: null, toStageId: stage })).toBe(false);
  });

  it('needs every filter to match', () => {
    expect(fires({ filters: { pipelineId: pipeline, ownerIds: [user], amount: { min: 10_000, max: 20_000 }, contactLifecycleStages: ['sql'] } })).toBe(true);
    expect(fires({ filters: { amount: { min: 20_000.01 } } })).toBe(false);
    expect(fires({ filters: { ownerIds: [sequence] } })).toBe(false);
    expect(fires({ filters: { pipelineId: sequence } })).toBe(false);
    expect(fires({ filters: { contactLifecycleStages: ['customer'] } })).toBe(false);
  });

  it('never matches an amount range without an amount, or a lifecycle filter without a contact', () => {
    expect(fires({ filters: { amount: { min: 0 } } }, undefined, { ...deal, amount: null })).toBe(false);
    expect(fires({ filters: { contactLifecycleStages: ['sql'] } }, undefined, { ...deal, contactLifecycleStage: null })).toBe(false);
  });
});
