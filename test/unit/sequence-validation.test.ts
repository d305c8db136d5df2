import { describe, expect, it } from '@jest/globals';
import { sequenceProblems } from '../../domain/sequence-validation';
import { SequenceDefinitionSchema } from '../../domain/schemas/sequence';

/** Parses like the API does (defaults filled in), so the checks see what publishing sees. */
function problems(steps: unknown[]) {
  return sequenceProblems(SequenceDefinitionSchema.parse({ steps }));
}

const email = (key: string, template = 'intro') => ({ key, type: 'email', template });
const sms = (key: string) => ({ key, type: 'sms', template: 'nudge' });
const wait = (key: string) => ({ key, type: 'wait', duration: 'P2D' });
const goto = (key: string, target: string) => ({ key, type: 'goto', target });
const opened = (step: string) => ({ type: 'message', step, event: 'opened' });

describe('sequence validation at publish', () => {
  it('accepts a sequence with branches, a split and a goto loop that waits', () => {
    expect(
      problems([
        email('intro'),
        wait('two-days'),
        {
          key: 'follow-up',
          type: 'branch',
          condition: { type: 'any', conditions: [opened('intro'), { type: 'tag', has: 'vip' }] },
          then: [{ key: 'call', type: 'task', title: 'Call them' }],
          else: [email('again', 'intro-again')],
        },
        { key: 'ab', type: 'split', variants: [{ key: 'a', percent: 50, steps: [sms('text-a')] }, { key: 'b', percent: 50, steps: [email('mail-b'), goto('retry-b', 'mail-b-wait'), wait('mail-b-wait')] }] },
        wait('check-wait'),
        { key: 'check', type: 'branch', condition: opened('again'), then: [{ key: 'stop', type: 'end' }], else: [goto('loop', 'check-wait')] },
      ]),
    ).toEqual([]);
  });

  it('reports a key used twice, even deep in a branch, naming both places', () => {
    expect(problems([email('intro'), wait('w'), { key: 'b', type: 'branch', condition: opened('intro'), then: [email('intro', 'other')], else: [] }])).toEqual([
      { field: 'steps[2](b).then[0](intro).key', message: '"intro" is also the key of steps[0](intro); step keys must be unique in the whole sequence' },
    ]);
  });

  it('reports two variants of a split with the same key', () => {
    const found = problems([{ key: 'ab', type: 'split', variants: [{ key: 'a', percent: 50, steps: [email('one')] }, { key: 'a', percent: 50, steps: [email('two')] }] }]);
    expect(found).toEqual([{ field: 'steps[0](ab).variants[1](a).key', message: 'the split has two variants with the key "a"' }]);
  });

  it('reports a goto to a key no step has', () => {
    expect(problems([email('intro'), wait('w'), goto('again', 'intor')])).toEqual([{ field: 'steps[2](again).target', message: 'no step has the key "intor"' }]);
  });

  it('refuses jumping into a variant from outside and back to a split from inside it', () => {
    const found = problems([
      { key: 'ab', type: 'split', variants: [{ key: 'a', percent: 50, steps: [email('mail-a'), wait('wait-a'), goto('again', 'ab')] }, { key: 'b', percent: 50, steps: [email('mail-b')] }] },
      wait('later'),
      goto('cross', 'mail-b'),
    ]);
    expect(found.map((problem) => problem.field)).toEqual(['steps[0](ab).variants[0](a).steps[2](again).target', 'steps[2](cross).target']);
    expect(found[0]!.message).toContain('a split cannot contain itself');
    expect(found[1]!.message).toContain('jumps into variant "b" of the split "ab" from outside it');
  });

  it('checks what message conditions refer to, also inside all/any/not', () => {
    const found = problems([
      email('intro'),
      wait('w'),
      sms('text'),
      {
        key: 'decide',
        type: 'branch',
        condition: {
          type: 'all',
          conditions: [opened('w'), opened('later'), { type: 'not', condition: opened('text') }, opened('nobody'), opened('decide')],
        },
        then: [email('later')],
        else: [],
      },
    ]);
    expect(found).toEqual([
      { field: 'steps[3](decide).condition.conditions[0].step', message: '"w" is a wait step; message conditions refer to an email or sms step' },
      { field: 'steps[3](decide).condition.conditions[1].step', message: '"later" comes after this branch (or inside it), so nothing is known about it when the branch decides' },
      { field: 'steps[3](decide).condition.conditions[2].condition.step', message: '"text" is an SMS step; an SMS has no opens' },
      { field: 'steps[3](decide).condition.conditions[3].step', message: 'no step has the key "nobody"' },
      { field: 'steps[3](decide).condition.conditions[4].step', message: '"decide" is a branch step; message conditions refer to an email or sms step' },
    ]);
  });

  it('refuses a condition on a step in another arm, which a contact at the branch was never sent', () => {
    const found = problems([
      email('intro'),
      { key: 'ab', type: 'split', variants: [{ key: 'a', percent: 50, steps: [email('mail-a')] }, { key: 'b', percent: 50, steps: [wait('w'), { key: 'ask', type: 'branch', condition: opened('mail-a'), then: [email('yes')], else: [] }] }] },
    ]);
    expect(found).toEqual([
      {
        field: 'steps[1](ab).variants[1](b).steps[1](ask).condition.step',
        message: '"mail-a" is in the variant "a" of split "ab" and this branch is in another, so a contact reaching the branch was never sent it',
      },
    ]);
  });

  it('reports steps no contact can reach, once per cause, unless a goto leads to them', () => {
    const found = problems([
      email('intro'),
      wait('w'),
      { key: 'b', type: 'branch', condition: opened('intro'), then: [{ key: 'stop', type: 'end' }, email('never'), email('never-2')], else: [goto('skip', 'landing')] },
      email('after-branch'),
      { key: 'finish', type: 'end' },
      email('landing'),
      { key: 'done', type: 'end' },
      { key: 'orphan', type: 'branch', condition: opened('intro'), then: [email('inside-orphan')], else: [] },
    ]);
    expect(found).toEqual([
      { field: 'steps[2](b).then[1](never)', message: 'is never reached, nor is the step after it: it comes after the end step "stop" in the same list, and no goto leads to it' },
      { field: 'steps[3](after-branch)', message: 'is never reached, nor is the step after it: every arm of the branch "b" before it ends or jumps elsewhere, and no goto leads to it' },
      { field: 'steps[7](orphan)', message: 'is never reached: it comes after the end step "done" in the same list, and no goto leads to it' },
    ]);
  });

  it('reports a sequence with nothing a contact or rep would notice', () => {
    expect(problems([wait('w'), { key: 'tag', type: 'update', addTags: ['seen'] }])).toEqual([
      { field: 'steps', message: 'has no email, sms or task step, so enrolling a contact would do nothing they or a rep could see' },
    ]);
  });

  it('reports a goto loop with no wait on the way, also through a branch, and accepts one that waits on a call task', () => {
    expect(problems([email('intro'), goto('again', 'intro')])).toEqual([
      { field: 'steps[1](again).target', message: 'loops back to "intro" with no wait step on the way, so the loop would repeat at once without end' },
    ]);
    expect(problems([email('intro'), { key: 'b', type: 'branch', condition: { type: 'tag', has: 'done' }, then: [], else: [goto('loop', 'intro')] }]).map((p) => p.field)).toEqual([
      'steps[1](b).else[0](loop).target',
    ]);
    expect(problems([{ key: 'call', type: 'task', title: 'Call', waitForCompletion: true }, goto('again', 'call')])).toEqual([]);
    expect(problems([{ key: 'call', type: 'task', title: 'Call' }, goto('again', 'call')]).map((p) => p.field)).toEqual(['steps[1](again).target']);
  });
});
