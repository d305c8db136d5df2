import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient } from '../support/api-client';
import { salesFixture } from '../support/sales';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let salesOps: string;
let call: ReturnType<typeof apiClient>;
let team: Awaited<ReturnType<typeof salesFixture>>;

beforeAll(async () => {
  stack = await startTestStack();
  team = await salesFixture(stack.db.prisma);
  salesOps = await stack.keyFor('sales_ops', team.sam.id);
  call = apiClient(stack, () => salesOps);
});
afterAll(() => stack.close());

interface StageBody {
  id: string;
  name: string;
  position: number;
  probability: number;
  idleLimitDays: number | null;
  isWon: boolean;
  isLost: boolean;
  openDeals: number;
}
interface PipelineBody {
  id: string;
  name: string;
  stages: StageBody[];
  archivedAt: string | null;
}

const renewals = {
  name: 'Renewals',
  stages: [
    { name: 'Due', probability: 50, idleLimitDays: 10 },
    { name: 'Demo', probability: 60, idleLimitDays: 5 },
    { name: 'Quote', probability: 80, idleLimitDays: 5 },
    { name: 'Renewed', probability: 100, isWon: true },
    { name: 'Churned', probability: 0, isLost: true },
  ],
};

async function createPipeline(body: unknown = renewals) {
  const created = await call<PipelineBody>('POST', '/v1/pipelines', { body });
  expect(created.status).toBe(201);
  return created.body;
}

async function createDeal(pipeline: PipelineBody, stageName: string, status: 'open' | 'won' | 'lost' = 'open') {
  const stage = pipeline.stages.find((candidate) => candidate.name === stageName)!;
  return stack.db.prisma.deal.create({ data: { name: `${stageName} deal`, pipelineId: pipeline.id, stageId: stage.id, ownerId: team.rita.id, status } });
}

/** The stage list as a PATCH sends it, from the pipeline as read. */
const definition = (stages: StageBody[]) => stages.map(({ id, name, probability, idleLimitDays, isWon, isLost }) => ({ id, name, probability, idleLimitDays, isWon, isLost }));

describe('pipelines API', () => {
  it('lists the seeded pipeline with its stages in order, to every authenticated role', async () => {
    const reply = await call<{ data: PipelineBody[] }>('GET', '/v1/pipelines', { key: stack.keys.rep });
    expect(reply.status).toBe(200);
    const sales = reply.body.data.find((pipeline) => pipeline.name === 'Sales')!;
    expect(sales.stages.map((stage) => [stage.position, stage.name, stage.probability])).toEqual([
      [1, 'New', 10], [2, 'Contacted', 20], [3, 'Qualified', 40], [4, 'Proposal', 60], [5, 'Negotiation', 80], [6, 'Won', 100], [7, 'Lost', 0],
    ]);
  });

  it('lets only sales ops and admins write', async () => {
    for (const role of ['rep', 'manager', 'marketer'] as const) {
      const reply = await call('POST', '/v1/pipelines', { key: await stack.keyFor(role, role === 'rep' ? team.rita.id : undefined), body: renewals });
      expect(reply.status).toBe(403);
    }
    expect(await stack.db.prisma.pipeline.count({ where: { name: 'Renewals' } })).toBe(0);
  });

  it('names each field that breaks a rule and stores nothing', async () => {
    const reply = await call('POST', '/v1/pipelines', {
      body: {
        name: ' ',
        stages: [
          { name: 'Open', probability: 140 },
          { name: 'Won', probability: 90, isWon: true, idleLimitDays: 3 },
          { name: 'open', probability: 10 },
        ],
      },
    });
    expect(reply.status).toBe(422);
    expect(reply.type).toContain('application/problem+json');
    expect(reply.body.errors).toEqual(
      expect.arrayContaining([
        { field: 'name', message: 'must not be blank' },
        { field: 'stages/0/probability', message: expect.stringContaining('100') },
      ]),
    );
    // The list rules run once every stage parses: fix the probability and they show.
    const rules = await call('POST', '/v1/pipelines', {
      body: { name: 'Broken', stages: [{ name: 'Open', probability: 40 }, { name: 'Won', probability: 90, isWon: true, idleLimitDays: 3 }, { name: 'open', probability: 10 }] },
    });
    expect(rules.status).toBe(422);
    expect(rules.body.errors!.map((error) => error.field)).toEqual(['stages', 'stages/1', 'stages/1/probability', 'stages/1/idleLimitDays', 'stages/2/name']);
    expect(await stack.db.prisma.pipeline.count({ where: { name: { in: ['Broken', ' '] } } })).toBe(0);
  });

  it('creates a pipeline with ordered stages and refuses a second live one with the same name', async () => {
    const pipeline = await createPipeline({ ...renewals, name: 'Partners' });
    expect(pipeline.stages.map((stage) => [stage.position, stage.name, stage.idleLimitDays, stage.isWon, stage.isLost])).toEqual([
      [1, 'Due', 10, false, false], [2, 'Demo', 5, false, false], [3, 'Quote', 5, false, false], [4, 'Renewed', null, true, false], [5, 'Churned', null, false, true],
    ]);
    const again = await call('POST', '/v1/pipelines', { body: { ...renewals, name: 'Partners' } });
    expect(again.status).toBe(409);
    expect(again.body.errors).toEqual([{ field: 'name', message: 'is taken by another pipeline' }]);
  });

  it('reorders and renames stages in place: ids, and the deals in them, stay', async () => {
    const pipeline = await createPipeline({ ...renewals, name: 'Reorder' });
    const deal = await createDeal(pipeline, 'Demo');
    const [due, demo, quote, renewed, churned] = pipeline.stages;
    // Due and Quote swap places and names at once: the unique indexes must not trip halfway.
    const stages = definition([{ ...quote!, name: 'Due' }, { ...demo!, name: 'Demonstration' }, { ...due!, name: 'Quote' }, renewed!, churned!]);
    const reply = await call<PipelineBody>('PATCH', `/v1/pipelines/${pipeline.id}`, { body: { stages } });
    expect(reply.status).toBe(200);
    expect(reply.body.stages.map((stage) => [stage.id, stage.position, stage.name])).toEqual([
      [quote!.id, 1, 'Due'], [demo!.id, 2, 'Demonstration'], [due!.id, 3, 'Quote'], [renewed!.id, 4, 'Renewed'], [churned!.id, 5, 'Churned'],
    ]);
    expect(reply.body.stages[1]!.openDeals).toBe(1);
    expect((await stack.db.prisma.deal.findUniqueOrThrow({ where: { id: deal.id } })).stageId).toBe(demo!.id);
    expect(await stack.db.prisma.dealStageChange.count({ where: { dealId: deal.id } })).toBe(0);
  });

  it('refuses to remove a stage holding open deals without a mapping, naming the stage, and changes nothing', async () => {
    const pipeline = await createPipeline({ ...renewals, name: 'No mapping' });
    await createDeal(pipeline, 'Demo');
    const demo = pipeline.stages[1]!;
    const reply = await call('PATCH', `/v1/pipelines/${pipeline.id}`, { body: { name: 'Renamed', stages: definition(pipeline.stages.filter((stage) => stage.id !== demo.id)) } });
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([{ field: `stageMapping/${demo.id}`, message: 'stage "Demo" has 1 open deal; map it to a kept open stage' }]);
    const stored = await stack.db.prisma.pipeline.findUniqueOrThrow({ where: { id: pipeline.id }, include: { stages: true } });
    expect(stored.name).toBe('No mapping');
    expect(stored.stages.filter((stage) => stage.archivedAt === null)).toHaveLength(5);

    const intoWon = await call('PATCH', `/v1/pipelines/${pipeline.id}`, {
      body: { stages: definition(pipeline.stages.filter((stage) => stage.id !== demo.id)), stageMapping: { [demo.id]: pipeline.stages[3]!.id } },
    });
    expect(intoWon.status).toBe(422);
    expect(intoWon.body.errors).toEqual([{ field: `stageMapping/${demo.id}`, message: 'must map to an open stage that this pipeline keeps (one listed with its id)' }]);
  });

  it('removes a stage with a mapping: open deals move with a recorded stage change, closed deals keep it as history', async () => {
    const pipeline = await createPipeline({ ...renewals, name: 'Mapped' });
    const [due, demo, quote, renewed, churned] = pipeline.stages;
    const open = await createDeal(pipeline, 'Demo');
    const closed = await createDeal(pipeline, 'Demo', 'lost');
    const [keepDue, keepQuote, keepRenewed, keepChurned] = definition([due!, quote!, renewed!, churned!]);
    const reply = await call<PipelineBody>('PATCH', `/v1/pipelines/${pipeline.id}`, {
      body: { stages: [keepDue, keepQuote, { name: 'Demo', probability: 55 }, keepRenewed, keepChurned], stageMapping: { [demo!.id]: due!.id } },
    });
    expect(reply.status).toBe(200);
    // A new stage may take the name of a removed one: names are unique among live stages only.
    expect(reply.body.stages.map((stage) => stage.name)).toEqual(['Due', 'Quote', 'Demo', 'Renewed', 'Churned']);
    expect(reply.body.stages[0]!.openDeals).toBe(1);

    const moved = await stack.db.prisma.deal.findUniqueOrThrow({ where: { id: open.id } });
    expect(moved.stageId).toBe(due!.id);
    const [change] = await stack.db.prisma.dealStageChange.findMany({ where: { dealId: open.id } });
    expect(change).toMatchObject({ fromStageId: demo!.id, toStageId: due!.id, changedById: team.sam.id });
    expect(moved.stageEnteredAt.getTime()).toBe(change!.changedAt.getTime());
    expect((await stack.db.prisma.deal.findUniqueOrThrow({ where: { id: closed.id } })).stageId).toBe(demo!.id);
    expect((await stack.db.prisma.stage.findUniqueOrThrow({ where: { id: demo!.id } })).archivedAt).not.toBeNull();

    // The moved deal's timeline names the removed stage it came from.
    const timeline = await call<{ data: Array<{ kind: string; summary: string }> }>('GET', `/v1/deals/${open.id}/timeline`);
    expect(timeline.body.data[0]).toMatchObject({ kind: 'stage_change', summary: 'Sam Sales-Ops moved the deal from Demo to Due' });
    const audit = await stack.db.prisma.auditLog.findFirstOrThrow({ where: { entityType: 'pipeline', entityId: pipeline.id, action: 'pipeline.updated' } });
    expect(audit.after).toMatchObject({ movedDeals: 1 });

    // Moving a deal into the removed stage is no longer possible.
    const into = await call('PATCH', `/v1/deals/${open.id}`, { body: { stageId: demo!.id } });
    expect(into.status).toBe(422);
    expect(into.body.errors).toEqual([{ field: 'stageId', message: 'stage "Demo" was removed from the pipeline' }]);
  });

  it('keeps a stage\'s won or lost flag while it holds deals, and rejects ids of other pipelines', async () => {
    const pipeline = await createPipeline({ ...renewals, name: 'Flags' });
    await createDeal(pipeline, 'Renewed', 'won');
    const stages = definition(pipeline.stages);
    const flipped = [stages[0]!, stages[1]!, stages[2]!, { ...stages[4]!, isLost: false, isWon: true, probability: 100 }, { ...stages[3]!, isWon: false, isLost: true, probability: 0 }];
    const reply = await call('PATCH', `/v1/pipelines/${pipeline.id}`, { body: { stages: flipped } });
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual(expect.arrayContaining([{ field: 'stages/4/isWon', message: 'cannot change while stage "Renewed" holds 1 deal' }]));

    const foreign = await call('PATCH', `/v1/pipelines/${pipeline.id}`, { body: { stages: [{ ...stages[0]!, id: team.stage('New').id }, ...stages.slice(1)] } });
    expect(foreign.status).toBe(422);
    expect(foreign.body.errors).toEqual(expect.arrayContaining([{ field: 'stages/0/id', message: 'is not a live stage of this pipeline; leave the id out to add a new stage' }]));
  });

  it('archives a pipeline only without open deals; it stays readable and frees its name', async () => {
    const busy = await createPipeline({ ...renewals, name: 'Busy' });
    const deal = await createDeal(busy, 'Due');
    expect((await call('DELETE', `/v1/pipelines/${busy.id}`)).status).toBe(409);
    await stack.db.prisma.deal.update({ where: { id: deal.id }, data: { status: 'won' } });
    expect((await call('DELETE', `/v1/pipelines/${busy.id}`)).status).toBe(204);

    const live = await call<{ data: PipelineBody[] }>('GET', '/v1/pipelines');
    expect(live.body.data.map((pipeline) => pipeline.name)).not.toContain('Busy');
    const all = await call<{ data: PipelineBody[] }>('GET', '/v1/pipelines?includeArchived=true');
    expect(all.body.data.find((pipeline) => pipeline.id === busy.id)?.archivedAt).toEqual(expect.any(String));
    expect((await call('GET', `/v1/pipelines/${busy.id}`)).status).toBe(200);
    expect((await call('PATCH', `/v1/pipelines/${busy.id}`, { body: { name: 'Busy again' } })).status).toBe(409);
    await createPipeline({ ...renewals, name: 'Busy' });
  });
});
