import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { consentingContact, createSequence, createTemplate, enroll } from '../support/sequences';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/**
 * A merge of contacts running sequences, with the real enrollment workflows on the dev server.
 * The sequence holds between its two emails on a call task, so the merge happens while both
 * runs wait, and completing the task through the API (a signal) lets them go on: no timers
 * and no skipped time involved.
 */
let stack: TestStack;
let ritaId: string;

beforeAll(async () => {
  stack = await startTestStack();
  await stack.startWorker();
  ritaId = (await stack.db.prisma.user.findUniqueOrThrow({ where: { email: 'rita.rep@example.com' } })).id;
  await createTemplate(stack.db.prisma, 'merge-intro', 'email', [{ subject: 'Hi {{contact.firstName}}', html: '<p>Welcome.</p>' }]);
  await createTemplate(stack.db.prisma, 'merge-followup', 'email', [{ subject: 'Following up, {{contact.firstName}}', html: '<p>Checking in.</p>' }]);
}, 60_000);
afterAll(() => stack?.close());

const introCallFollowup = {
  steps: [
    { key: 'intro', type: 'email', template: 'merge-intro' },
    { key: 'call', type: 'task', title: 'Call them', taskType: 'call', priority: 'normal', dueInBusinessDays: 1, waitForCompletion: true },
    { key: 'followup', type: 'email', template: 'merge-followup' },
  ],
};

async function post(path: string, body: unknown) {
  const res = await fetch(`${stack.baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${stack.keys.admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { moved: Record<string, number> } };
}

/** The run's call task, once it has sent the intro and reached the call step. */
const callTask = (enrollmentId: string) =>
  eventually(() => stack.db.prisma.task.findUnique({ where: { sourceKey: `enrollment:${enrollmentId}:call:1` } }), (task) => task !== null).then((task) => task!);

const start = (sequence: { id: string; publishedVersion: number | null }, contactId: string) => enroll({ client: stack.client }, stack.db.prisma, stack.taskQueue, sequence, contactId);

describe('merging contacts that run sequences', () => {
  it('ends the merged contact\'s run of a sequence the survivor also runs, so its next email goes out once', async () => {
    const sequence = await createSequence(stack.db.prisma, [{ definition: introCallFollowup }]);
    const ada = await consentingContact(stack.db.prisma, { firstName: 'Ada', ownerId: ritaId });
    const adaAgain = await consentingContact(stack.db.prisma, { firstName: 'Ada', ownerId: ritaId });
    const kept = await start(sequence, ada.id);
    const duplicate = await start(sequence, adaAgain.id);
    const keptTask = await callTask(kept.enrollment.id);
    await callTask(duplicate.enrollment.id);

    const reply = await post(`/v1/contacts/${ada.id}/merge`, { mergeIds: [adaAgain.id] });
    expect(reply.status).toBe(200);
    expect(reply.body.moved).toMatchObject({ enrollmentsContinued: 0, enrollmentsEnded: 1, messages: 1 });
    await duplicate.handle.result();
    expect(await stack.db.prisma.enrollment.findUniqueOrThrow({ where: { id: duplicate.enrollment.id } })).toMatchObject({
      contactId: ada.id, status: 'exited', stopReason: 'merged', activeKey: null,
    });

    expect((await post(`/v1/tasks/${keptTask.id}/complete`, { outcome: 'connected' })).status).toBe(200);
    await kept.handle.result();
    const messages = await stack.db.prisma.message.findMany({ where: { contactId: ada.id }, orderBy: { createdAt: 'asc' } });
    expect(messages.map((message) => message.templateKey)).toEqual(['merge-intro', 'merge-intro', 'merge-followup']);
    expect(messages[2]!.idempotencyKey).toBe(`enrollment:${kept.enrollment.id}:followup:1`);
    expect(await stack.db.prisma.enrollment.findUniqueOrThrow({ where: { id: kept.enrollment.id } })).toMatchObject({ status: 'completed', stopReason: 'completed' });
    const duplicateSteps = await stack.db.prisma.enrollmentStep.findMany({ where: { enrollmentId: duplicate.enrollment.id } });
    expect(duplicateSteps.map((step) => step.stepKey)).not.toContain('followup');
  });

  it('moves a run the survivor does not have to the survivor, where it goes on and writes to the survivor\'s primary address', async () => {
    const sequence = await createSequence(stack.db.prisma, [{ definition: introCallFollowup }]);
    const bo = await consentingContact(stack.db.prisma, { firstName: 'Bo', ownerId: ritaId });
    const boAgain = await consentingContact(stack.db.prisma, { firstName: 'Bo', ownerId: ritaId });
    const run = await start(sequence, boAgain.id);
    const task = await callTask(run.enrollment.id);

    const reply = await post(`/v1/contacts/${bo.id}/merge`, { mergeIds: [boAgain.id] });
    expect(reply.status).toBe(200);
    expect(reply.body.moved).toMatchObject({ enrollmentsContinued: 1, enrollmentsEnded: 0, tasks: 1 });
    expect(await stack.db.prisma.enrollment.findUniqueOrThrow({ where: { id: run.enrollment.id } })).toMatchObject({ contactId: bo.id, activeKey: `${sequence.id}:${bo.id}` });

    expect((await post(`/v1/tasks/${task.id}/complete`, { outcome: 'connected' })).status).toBe(200);
    await run.handle.result();
    const primary = await stack.db.prisma.contactEmail.findFirstOrThrow({ where: { contactId: bo.id, isPrimary: true } });
    const followup = await stack.db.prisma.message.findUniqueOrThrow({ where: { idempotencyKey: `enrollment:${run.enrollment.id}:followup:1` } });
    expect(followup).toMatchObject({ contactId: bo.id, toAddress: primary.address });
    expect(await stack.db.prisma.message.count({ where: { templateKey: 'merge-followup', contactId: { in: [bo.id, boAgain.id] } } })).toBe(1);
    expect(await stack.db.prisma.enrollment.findUniqueOrThrow({ where: { id: run.enrollment.id } })).toMatchObject({ status: 'completed', contactId: bo.id });
  });
});
