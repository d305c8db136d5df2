import { describe, expect, it } from '@jest/globals';
import { manualTaskSource, taskSourceLink, type TaskSource } from '../../domain/task-source';

const ids = {
  user: '11111111-1111-4111-8111-111111111111',
  key: '22222222-2222-4222-8222-222222222222',
  trigger: '33333333-3333-4333-8333-333333333333',
  change: '44444444-4444-4444-8444-444444444444',
  sequence: '55555555-5555-4555-8555-555555555555',
  contact: '66666666-6666-4666-8666-666666666666',
  enrollment: '77777777-7777-4777-8777-777777777777',
};
const linkOf = (source: TaskSource) => taskSourceLink(source.sourceType, source.sourceRef, source.sourceKey);

describe('task source links', () => {
  it('links a manual task to the user, or the service key, that wrote it', () => {
    expect(linkOf(manualTaskSource({ userId: ids.user, apiKeyId: ids.key }))).toEqual({ kind: 'manual', userId: ids.user, apiKeyId: null });
    expect(linkOf(manualTaskSource({ userId: null, apiKeyId: ids.key }))).toEqual({ kind: 'manual', userId: null, apiKeyId: ids.key });
  });

  it('links a workflow task to its workflow id', () => {
    expect(taskSourceLink('workflow', `contact:${ids.contact}`, `contact:${ids.contact}:first-follow-up`)).toEqual({ kind: 'workflow', workflowId: `contact:${ids.contact}` });
  });

  it('links a trigger task to the trigger, the stage change and the action, as the trigger actions store them', () => {
    // activities/trigger-actions.ts: sourceRef names the trigger, the key is triggerActionKey.
    const stored = { sourceType: 'trigger' as const, sourceRef: `trigger:${ids.trigger}`, sourceKey: `trigger:${ids.trigger}:${ids.change}:2` };
    expect(linkOf(stored)).toEqual({ kind: 'trigger', triggerId: ids.trigger, stageChangeId: ids.change, actionIndex: 2 });
  });

  it('links a sequence task to the sequence, the enrollment and the step, as the sequence engine stores them', () => {
    // activities/sequence-run.ts: sourceRef is the enrollment workflow id, the key names enrollment, step and visit.
    const stored = { sourceType: 'sequence' as const, sourceRef: `enrollment:${ids.sequence}:${ids.contact}`, sourceKey: `enrollment:${ids.enrollment}:call-step:1` };
    expect(linkOf(stored)).toEqual({ kind: 'sequence', sequenceId: ids.sequence, workflowId: stored.sourceRef, enrollmentId: ids.enrollment, stepKey: 'call-step' });
  });

  it('keeps what the ref gives when the key is missing or of another form', () => {
    expect(taskSourceLink('sequence', `enrollment:${ids.sequence}:${ids.contact}`, null)).toMatchObject({ sequenceId: ids.sequence, enrollmentId: null, stepKey: null });
    expect(taskSourceLink('trigger', `trigger:${ids.trigger}`, `trigger:${ids.change}:${ids.change}:1`)).toEqual({ kind: 'trigger', triggerId: ids.trigger, stageChangeId: null, actionIndex: null });
  });

  it('gives no link for a ref that does not follow the format, or an unknown source type', () => {
    expect(taskSourceLink('manual', null, null)).toBeNull();
    expect(taskSourceLink('manual', 'someone', null)).toBeNull();
    expect(taskSourceLink('trigger', 'trigger:not-a-uuid', null)).toBeNull();
    expect(taskSourceLink('sequence', `deal:${ids.contact}`, null)).toBeNull();
    expect(taskSourceLink('import', 'file.csv', null)).toBeNull();
  });
});
