import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultPayloadConverter } from '@temporalio/common';
import { dealStateQuery } from '../../workflows/deal-messages';
import { dealWorkflowId } from '../../workflows/workflow-ids';
import { apiClient } from '../support/api-client';
import { salesFixture } from '../support/sales';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/**
 * The deals API against a real database and Temporal server, without a worker: starts and
 * signals are checked in the deal workflows' histories, which is all the API promises.
 */
let stack: TestStack;
let call: ReturnType<typeof apiClient>;
let team: Awaited<ReturnType<typeof salesFixture>>;
let keys: { rita: string; rob: string; maria: string; admin: string };

beforeAll(async () => {
  stack = await startTestStack();
  team = await salesFixture(stack.db.prisma);
  keys = { rita: stack.keys.rep, rob: await stack.keyFor('rep', team.rob.id), maria: await stack.keyFor('manager', team.maria.id), admin: stack.keys.admin };
  call = apiClient(stack, () => keys.rita);
});
afterAll(() => stack.close());

interface DealBody {
  id: string;
  name: string;
  amount: string | null;
  currency: string;
  status: 'open' | 'won' | 'lost';
  ownerId: string;
  contactId: string | null;
  stage: { id: string; name: string };
  stageEnteredAt: string;
  lastTouchAt: string;
  closedAt: string | null;
  lostReason: string | null;
  expectedCloseDate: string | null;
  rotting: boolean;
}

async function newContact(source = 'website') {
  return stack.db.prisma.contact.create({ data: { firstName: 'Pat', source, emails: { create: { address: `pat-${randomUUID().slice(0, 8)}@example.com`, isPrimary: true } } } });
}

async function newDeal(body: Record<string, unknown> = {}, key = keys.rita): Promise<DealBody> {
  const reply = await call<DealBody>('POST', '/v1/deals', { key, body: { name: 'Acme expansion', pipelineId: team.pipeline.id, amount: '1250.50', currency: 'EUR', ...body } });
  expect(reply.status).toBe(201);
  return reply.body;
}

/** The signals a deal's workflow received, in order, with their decoded arguments. */
async function signalsOf(workflowId: string): Promise<Array<{ name: string; args: unknown[] }>> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (!signal) return [];
    return [{ name: signal.signalName!, args: (signal.input?.payloads ?? []).map((payload) => defaultPayloadConverter.fromPayload(payload)) }];
  });
}

describe('deals API', () => {
  it('names every invalid field and stores nothing', async () => {
    const before = await stack.db.prisma.deal.count();
    const reply = await call('POST', '/v1/deals', { body: { name: '', pipelineId: 'nope', amount: 1250.5, currency: 'EURO', expectedCloseDate: '31.12.2026' } });
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([
      { field: 'name', message: 'must not be blank' },
      // The message is api/validate.ts's for a wrong type (see the report); the field is what matters here.
      { field: 'amount', message: expect.any(String) },
      { field: 'currency', message: 'must be an ISO 4217 currency code such as EUR' },
      { field: 'pipelineId', message: 'must be a UUID' },
      { field: 'expectedCloseDate', message: 'must be a date as YYYY-MM-DD' },
    ]);
    const decimals = await call('POST', '/v1/deals', { body: { name: 'Yen', pipelineId: team.pipeline.id, amount: '100.50', currency: 'JPY' } });
    expect(decimals.body.errors).toEqual([{ field: 'amount', message: 'JPY amounts have no decimals' }]);
    const references = await call('POST', '/v1/deals', { key: keys.admin, body: { name: 'Ghosts', pipelineId: team.pipeline.id, ownerId: randomUUID(), contactId: randomUUID(), companyId: randomUUID() } });
    expect(references.status).toBe(422);
    expect(references.body.errors).toEqual([
      { field: 'ownerId', message: 'is not an active user' },
      { field: 'contactId', message: 'is not an existing contact' },
      { field: 'companyId', message: 'is not an existing company' },
    ]);
    expect(await stack.db.prisma.deal.count()).toBe(before);
  });

  it('creates a deal with an exact amount in the first stage, records its entry and starts its workflow', async () => {
    const contact = await newContact();
    const company = await stack.db.prisma.company.create({ data: { name: 'Acme' } });
    const deal = await newDeal({ amount: '999999999999.99', contactId: contact.id, companyId: company.id, expectedCloseDate: '2026-12-31' });
    expect(deal).toMatchObject({ amount: '999999999999.99', currency: 'EUR', status: 'open', ownerId: team.rita.id, stage: { name: 'New' }, expectedCloseDate: '2026-12-31', closedAt: null });
    const changes = await stack.db.prisma.dealStageChange.findMany({ where: { dealId: deal.id } });
    expect(changes).toEqual([expect.objectContaining({ fromStageId: null, toStageId: team.stage('New').id, changedById: team.rita.id })]);
    const description = await stack.client.workflow.getHandle(dealWorkflowId(deal.id)).describe();
    expect(description).toMatchObject({ type: 'dealLifecycle', status: { name: 'RUNNING' }, taskQueue: stack.taskQueue });
  });

  it('tells the running enrollments of the deal\'s contact that a deal was created', async () => {
    const contact = await newContact();
    const sequence = await stack.db.prisma.sequence.create({ data: { name: 'Nurture' } });
    const workflowId = `enrollment:${sequence.id}:${contact.id}`;
    // A stand-in enrollment workflow on a queue no worker polls: only its history is read.
    await stack.client.workflow.start('sequenceEnrollment', { workflowId, taskQueue: `idle-${randomUUID()}`, args: [{ enrollmentId: randomUUID() }] });
    await stack.db.prisma.enrollment.create({ data: { sequenceId: sequence.id, version: 1, contactId: contact.id, source: 'api', workflowId, activeKey: `${sequence.id}:${contact.id}` } });
    const deal = await newDeal({ name: 'Goal reached', contactId: contact.id });
    expect(await signalsOf(workflowId)).toEqual([{ name: 'enrollmentEvent', args: [{ eventId: deal.id, kind: 'deal_created' }] }]);
    await stack.client.workflow.getHandle(workflowId).terminate('test done');
  });

  it('moves a deal: records who moved it and when, signals the workflow, and shows the move to another user at once', async () => {
    const deal = await newDeal({ name: 'Visible move' });
    const moved = await call<DealBody>('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: team.stage('Contacted').id } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ status: 'open', stage: { name: 'Contacted' } });

    const change = await stack.db.prisma.dealStageChange.findFirstOrThrow({ where: { dealId: deal.id, fromStageId: { not: null } } });
    expect(change).toMatchObject({ fromStageId: team.stage('New').id, toStageId: team.stage('Contacted').id, changedById: team.rita.id });
    expect(moved.body.stageEnteredAt).toBe(change.changedAt.toISOString());
    expect(await signalsOf(dealWorkflowId(deal.id))).toEqual([
      { name: 'dealStageChanged', args: [{ stageChangeId: change.id, fromStageId: team.stage('New').id, toStageId: team.stage('Contacted').id, at: change.changedAt.toISOString(), byUserId: team.rita.id }] },
    ]);
    const audit = await stack.db.prisma.auditLog.findFirstOrThrow({ where: { entityId: deal.id, action: 'deal.stage_changed' } });
    expect(audit.after).toMatchObject({ stageChangeId: change.id });

    // Maria (Rita's manager) reads the timeline right after the PATCH answered.
    const timeline = await call<{ data: Array<{ kind: string; summary: string; at: string; data: Record<string, unknown> }> }>('GET', `/v1/deals/${deal.id}/timeline`, { key: keys.maria });
    expect(timeline.status).toBe(200);
    expect(timeline.body.data.map((entry) => entry.summary)).toEqual(['Rita Rep moved the deal from New to Contacted', 'Rita Rep created the deal in New']);
    expect(timeline.body.data[0]).toMatchObject({ at: change.changedAt.toISOString(), data: { changedBy: 'Rita Rep', fromStage: 'New', toStage: 'Contacted' } });
  });

  it('records nothing for a PATCH to the stage the deal is already in', async () => {
    const deal = await newDeal({ name: 'Same stage' });
    const reply = await call<DealBody>('PATCH', `/v1/deals/${deal.id}`, { body: { amount: '1250.5' } });
    expect(reply.status).toBe(200);
    expect(await stack.db.prisma.dealStageChange.count({ where: { dealId: deal.id } })).toBe(1);
    expect(await stack.db.prisma.auditLog.count({ where: { entityId: deal.id } })).toBe(1);
    expect(await signalsOf(dealWorkflowId(deal.id))).toEqual([]);
  });

  it('tells the workflow again of the move when a client retries it after the first signal was lost', async () => {
    const deal = await newDeal({ name: 'Lost signal' });
    expect((await call<DealBody>('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: team.stage('Contacted').id } })).status).toBe(200);
    const change = await stack.db.prisma.dealStageChange.findFirstOrThrow({ where: { dealId: deal.id, toStageId: team.stage('Contacted').id } });
    // The same move again, as a client does after a 5xx: nothing new is recorded, the entry is re-announced.
    const retried = await call<DealBody>('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: team.stage('Contacted').id } });
    expect(retried.status).toBe(200);
    expect(await stack.db.prisma.dealStageChange.count({ where: { dealId: deal.id } })).toBe(2);
    const announced = (await signalsOf(dealWorkflowId(deal.id))).filter((signal) => signal.name === 'dealStageChanged');
    expect(announced.map((signal) => (signal.args[0] as { stageChangeId: string }).stageChangeId)).toEqual([change.id, change.id]);
  });

  it('records a retried PATCH with the same Idempotency-Key once and replays the stored answer', async () => {
    const deal = await newDeal({ name: 'Retried' });
    const send = () => call<DealBody>('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: team.stage('Qualified').id }, headers: { 'idempotency-key': `move-${deal.id}` } });
    const first = await send();
    const second = await send();
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await stack.db.prisma.dealStageChange.count({ where: { dealId: deal.id, fromStageId: { not: null } } })).toBe(1);
    expect((await signalsOf(dealWorkflowId(deal.id))).map((signal) => signal.name)).toEqual(['dealStageChanged']);
  });

  it('closes a deal in the won or lost stage, keeps the lost reason, and reopens it in an open stage', async () => {
    const deal = await newDeal({ name: 'Closing' });
    const notLost = await call('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: team.stage('Won').id, lostReason: 'price' } });
    expect(notLost.status).toBe(422);
    expect(notLost.body.errors).toEqual([{ field: 'lostReason', message: 'only for a lost deal; stage "Won" is not the lost stage' }]);

    const won = await call<DealBody>('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: team.stage('Won').id } });
    expect(won.body).toMatchObject({ status: 'won', closedAt: expect.any(String), lostReason: null });
    const lost = await call<DealBody>('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: team.stage('Lost').id, lostReason: 'went with a competitor' } });
    expect(lost.body).toMatchObject({ status: 'lost', closedAt: expect.any(String), lostReason: 'went with a competitor' });
    const reopened = await call<DealBody>('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: team.stage('Negotiation').id } });
    expect(reopened.body).toMatchObject({ status: 'open', closedAt: null, lostReason: null });
    expect((await signalsOf(dealWorkflowId(deal.id))).map((signal) => (signal.args[0] as { toStageId: string }).toStageId)).toEqual([
      team.stage('Won').id,
      team.stage('Lost').id,
      team.stage('Negotiation').id,
    ]);
  });

  it('refuses a move that leaves fields empty that the target stage requires, naming every one', async () => {
    await stack.db.prisma.requiredFieldRule.create({ data: { stageId: team.stage('Proposal').id, fields: ['amount', 'expectedCloseDate'] } });
    try {
      const deal = await newDeal({ name: 'Needs data', amount: null });
      const refused = await call('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: team.stage('Proposal').id } });
      expect(refused.status).toBe(422);
      expect(refused.body.errors!.map((error) => error.field)).toEqual(['amount', 'expectedCloseDate']);
      expect(await stack.db.prisma.dealStageChange.count({ where: { dealId: deal.id } })).toBe(1);
      const filled = await call<DealBody>('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: team.stage('Proposal').id, amount: '5000', expectedCloseDate: '2027-03-31' } });
      expect(filled.status).toBe(200);
      expect(filled.body).toMatchObject({ stage: { name: 'Proposal' }, amount: '5000.00', expectedCloseDate: '2027-03-31' });
    } finally {
      await stack.db.prisma.requiredFieldRule.deleteMany({ where: { stageId: team.stage('Proposal').id } });
    }
  });

  it('refuses a stage of another pipeline', async () => {
    const other = await call<{ id: string; stages: Array<{ id: string }> }>('POST', '/v1/pipelines', {
      key: keys.admin,
      body: { name: 'Other', stages: [{ name: 'Open', probability: 50 }, { name: 'Won', probability: 100, isWon: true }, { name: 'Lost', probability: 0, isLost: true }] },
    });
    const deal = await newDeal({ name: 'Stays home' });
    const reply = await call('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: other.body.stages[0]!.id } });
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([{ field: 'stageId', message: expect.stringContaining('is a stage of another pipeline') }]);
    const created = await call('POST', '/v1/deals', { body: { name: 'Mixed', pipelineId: team.pipeline.id, stageId: other.body.stages[0]!.id } });
    expect(created.status).toBe(422);
  });

  it('lists deals with filters and cursor pagination, rotting ones included', async () => {
    const contact = await newContact();
    const made = [await newDeal({ name: 'Page 1', contactId: contact.id }), await newDeal({ name: 'Page 2', contactId: contact.id }), await newDeal({ name: 'Page 3', contactId: contact.id })];
    await stack.db.prisma.deal.update({ where: { id: made[1]!.id }, data: { rotting: true } });
    const first = await call<{ data: DealBody[]; nextCursor: string | null }>('GET', `/v1/deals?contactId=${contact.id}&limit=2`);
    expect(first.body.data.map((deal) => deal.name)).toEqual(['Page 3', 'Page 2']);
    const second = await call<{ data: DealBody[]; nextCursor: string | null }>('GET', `/v1/deals?contactId=${contact.id}&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ data: [expect.objectContaining({ name: 'Page 1' })], nextCursor: null });
    const rotting = await call<{ data: DealBody[] }>('GET', `/v1/deals?contactId=${contact.id}&rotting=true&status=open&stageId=${team.stage('New').id}`);
    expect(rotting.body.data.map((deal) => [deal.name, deal.rotting])).toEqual([['Page 2', true]]);
    expect((await call('GET', '/v1/deals?status=closed')).status).toBe(400);
  });

  it('deletes softly: the deal is gone from reads, its open tasks are cancelled and its workflow is told', async () => {
    const deal = await newDeal({ name: 'Doomed' });
    const task = await stack.db.prisma.task.create({ data: { type: 'call', title: 'Call about Doomed', dueAt: new Date(), assigneeId: team.rita.id, dealId: deal.id } });
    expect((await call('DELETE', `/v1/deals/${deal.id}`)).status).toBe(403);
    expect((await call('DELETE', `/v1/deals/${deal.id}`, { key: keys.maria })).status).toBe(204);
    expect((await call('GET', `/v1/deals/${deal.id}`)).status).toBe(404);
    expect((await stack.db.prisma.task.findUniqueOrThrow({ where: { id: task.id } })).status).toBe('cancelled');
    expect((await signalsOf(dealWorkflowId(deal.id))).map((signal) => signal.name)).toEqual(['dealDeleted']);
  });
});

describe('activities', () => {
  it('logs an activity on a deal as a touch: last touch moves and the workflow hears of it', async () => {
    const deal = await newDeal({ name: 'Touched' });
    const at = new Date(Date.now() - 60_000).toISOString();
    const reply = await call<{ id: string; type: string; actorUserId: string; touchedDealIds: string[] }>('POST', '/v1/activities', {
      body: { type: 'call', dealId: deal.id, subject: 'Discovery call', body: 'Budget confirmed', occurredAt: at },
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ type: 'call', actorUserId: team.rita.id, touchedDealIds: [deal.id], body: 'Budget confirmed' });
    // The deal was created (and touched) after `at`: the last touch never moves backwards.
    expect((await stack.db.prisma.deal.findUniqueOrThrow({ where: { id: deal.id } })).lastTouchAt.toISOString()).toBe(deal.lastTouchAt);
    const later = await call<{ id: string }>('POST', '/v1/activities', { body: { type: 'note', dealId: deal.id, body: 'Sent the deck' } });
    const touched = await stack.db.prisma.deal.findUniqueOrThrow({ where: { id: deal.id } });
    expect(touched.lastTouchAt.getTime()).toBeGreaterThan(new Date(deal.lastTouchAt).getTime());
    expect(await signalsOf(dealWorkflowId(deal.id))).toEqual([
      { name: 'dealTouched', args: [{ sourceId: reply.body.id, kind: 'activity', at }] },
      { name: 'dealTouched', args: [{ sourceId: later.body.id, kind: 'activity', at: touched.lastTouchAt.toISOString() }] },
    ]);
    const listed = await call<{ data: Array<{ id: string }> }>('GET', `/v1/activities?dealId=${deal.id}`);
    expect(listed.body.data.map((activity) => activity.id)).toEqual([later.body.id, reply.body.id]);
  });

  it('logged on a contact alone, touches every open deal of the contact', async () => {
    const contact = await newContact();
    const ritas = await newDeal({ name: 'Rita\'s', contactId: contact.id });
    const robs = await newDeal({ name: 'Rob\'s', contactId: contact.id }, keys.rob);
    const closed = await newDeal({ name: 'Closed', contactId: contact.id, stageId: team.stage('Won').id });
    const reply = await call<{ id: string; touchedDealIds: string[] }>('POST', '/v1/activities', { body: { type: 'email_reply', contactId: contact.id, subject: 'Re: pricing' } });
    expect(reply.status).toBe(201);
    // Rob's deal is touched too, but Rita only learns the ids of deals she may see.
    expect(reply.body.touchedDealIds).toEqual([ritas.id]);
    for (const deal of [ritas, robs]) expect((await signalsOf(dealWorkflowId(deal.id))).map((signal) => signal.args[0])).toEqual([expect.objectContaining({ sourceId: reply.body.id })]);
    expect((await stack.db.prisma.deal.findUniqueOrThrow({ where: { id: closed.id } })).lastTouchAt.toISOString()).toBe(closed.lastTouchAt);
  });

  it('refuses an activity without a deal or contact, or in the future', async () => {
    const none = await call('POST', '/v1/activities', { body: { type: 'note' } });
    expect(none.body.errors!.map((error) => error.field)).toEqual(['dealId', 'contactId']);
    const contact = await newContact();
    const future = await call('POST', '/v1/activities', { body: { type: 'meeting', contactId: contact.id, occurredAt: new Date(Date.now() + 3_600_000).toISOString() } });
    expect(future.status).toBe(422);
    expect(future.body.errors).toEqual([{ field: 'occurredAt', message: 'is in the future; plan it as a task instead' }]);
    expect(await stack.db.prisma.activity.count({ where: { contactId: contact.id } })).toBe(0);
  });
});

describe('authorization', () => {
  it('a rep cannot read or change another rep\'s deal, and it looks like a missing deal', async () => {
    const deal = await newDeal({ name: 'Rita only' });
    for (const [method, path, body] of [
      ['GET', `/v1/deals/${deal.id}`, undefined],
      ['PATCH', `/v1/deals/${deal.id}`, { stageId: team.stage('Contacted').id }],
      ['GET', `/v1/deals/${deal.id}/timeline`, undefined],
      ['GET', `/v1/activities?dealId=${deal.id}`, undefined],
      ['POST', '/v1/activities', { type: 'note', dealId: deal.id }],
    ] as const) {
      const reply = await call(method, path, { key: keys.rob, ...(body ? { body } : {}) });
      expect([method, path, reply.status]).toEqual([method, path, 404]);
    }
    const list = await call<{ data: DealBody[] }>('GET', `/v1/deals?ownerId=${team.rita.id}&limit=200`, { key: keys.rob });
    expect(list.body.data.every((listed) => listed.ownerId === team.rob.id)).toBe(true);
    expect((await stack.db.prisma.deal.findUniqueOrThrow({ where: { id: deal.id } })).stageId).toBe(team.stage('New').id);
  });

  it('a rep owns the deals they create and cannot hand them to someone else', async () => {
    const forRob = await call('POST', '/v1/deals', { body: { name: 'For Rob', pipelineId: team.pipeline.id, ownerId: team.rob.id } });
    expect(forRob.status).toBe(403);
    const deal = await newDeal({ name: 'Mine' });
    expect((await call('PATCH', `/v1/deals/${deal.id}`, { body: { ownerId: team.rob.id } })).status).toBe(403);
  });

  it('a manager sees and changes the deals of their reports; sales ops see every deal', async () => {
    const deal = await newDeal({ name: 'Team deal' }, keys.rob);
    expect((await call('GET', `/v1/deals/${deal.id}`, { key: keys.maria })).status).toBe(200);
    const reassigned = await call<DealBody>('PATCH', `/v1/deals/${deal.id}`, { key: keys.maria, body: { ownerId: team.rita.id } });
    expect(reassigned.body.ownerId).toBe(team.rita.id);
    const outsider = await stack.db.prisma.user.create({ data: { email: 'olga.other@example.com', name: 'Olga Other', role: 'rep' } });
    expect((await call('PATCH', `/v1/deals/${deal.id}`, { key: keys.maria, body: { ownerId: outsider.id } })).status).toBe(403);
    const salesOps = await stack.keyFor('sales_ops', team.sam.id);
    expect((await call('GET', `/v1/deals/${deal.id}`, { key: salesOps })).status).toBe(200);
    expect((await call('GET', '/v1/deals', { key: await stack.keyFor('marketer') })).status).toBe(403);
  });

  it('a rep cannot read or complete another rep\'s tasks', async () => {
    const task = await stack.db.prisma.task.create({ data: { type: 'call', title: 'Rita\'s call', dueAt: new Date(Date.now() - 3_600_000), assigneeId: team.rita.id } });
    const robs = await call<{ data: Array<{ id: string; assigneeId: string }> }>('GET', `/v1/tasks?assigneeId=${team.rita.id}&limit=200`, { key: keys.rob });
    expect(robs.status).toBe(200);
    expect(robs.body.data.map((listed) => listed.id)).not.toContain(task.id);
    expect(robs.body.data.every((listed) => listed.assigneeId === team.rob.id)).toBe(true);
    const complete = await call('POST', `/v1/tasks/${task.id}/complete`, { key: keys.rob, body: { outcome: 'done' } });
    expect(complete.status).toBe(404);
    expect((await stack.db.prisma.task.findUniqueOrThrow({ where: { id: task.id } })).status).toBe('open');
    const ritas = await call<{ data: Array<{ id: string }> }>('GET', '/v1/tasks?limit=200');
    expect(ritas.body.data.map((listed) => listed.id)).toContain(task.id);
  });
});

describe('with the deal workflow running', () => {
  it('the workflow follows the moves the API records and ends when the deal is won', async () => {
    // The stack stops the worker when it closes.
    await stack.startWorker();
    const deal = await newDeal({ name: 'End to end' });
    const handle = stack.client.workflow.getHandle(dealWorkflowId(deal.id));
    await eventually(() => handle.query(dealStateQuery), (state) => state.stageId === team.stage('New').id);
    await call('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: team.stage('Contacted').id } });
    const change = await stack.db.prisma.dealStageChange.findFirstOrThrow({ where: { dealId: deal.id, toStageId: team.stage('Contacted').id } });
    const state = await eventually(() => handle.query(dealStateQuery), (current) => current.stageId === team.stage('Contacted').id);
    expect(state).toMatchObject({ stageEntryId: change.id, status: 'open' });
    await call('PATCH', `/v1/deals/${deal.id}`, { body: { stageId: team.stage('Won').id } });
    await handle.result();
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });
});
