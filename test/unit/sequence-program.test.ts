import { describe, expect, it } from '@jest/globals';
import type { Step } from '../../domain/schemas/sequence';
import { compileSequence, SequenceProgramError, stepKeyAt, type SequenceProgram } from '../../domain/sequence-program';

const email = (key: string, template = 'intro'): Step => ({ key, type: 'email', template });
const wait = (key: string): Step => ({ key, type: 'wait', duration: 'P1D' });

/**
 * Walks a program the way the workflow does: branches take the decision given for their key,
 * splits the variant given, everything else goes on. Returns the step keys run, in order.
 */
function walk(program: SequenceProgram, decisions: Record<string, boolean | string> = {}, maxSteps = 50): string[] {
  const ran: string[] = [];
  let pc = 0;
  while (pc < program.instructions.length && ran.length < maxSteps) {
    const instruction = program.instructions[pc]!;
    if (instruction.type !== 'jump') ran.push(instruction.key);
    switch (instruction.type) {
      case 'jump':
      case 'goto':
        pc = instruction.targetAt;
        break;
      case 'branch':
        pc = decisions[instruction.key] === true ? pc + 1 : instruction.elseAt;
        break;
      case 'split':
        pc = instruction.variants.find((variant) => variant.key === decisions[instruction.key])!.startAt;
        break;
      case 'end':
        return ran;
      default:
        pc += 1;
    }
  }
  return ran;
}

describe('compiling a sequence into a flat program', () => {
  it('lays out a linear sequence in order with a key index', () => {
    const program = compileSequence([email('intro'), wait('pause'), { key: 'bye', type: 'end' }]);
    expect(program.instructions.map((instruction) => instruction.type)).toEqual(['email', 'wait', 'end']);
    expect(program.keyIndex).toEqual({ intro: 0, pause: 1, bye: 2 });
  });

  it('lets the end of the then list fall through to the step after the branch, skipping the else list', () => {
    const program = compileSequence([
      email('intro'),
      { key: 'opened', type: 'branch', condition: { type: 'message', step: 'intro', event: 'opened' }, then: [email('thanks')], else: [email('nudge'), email('nudge-2')] },
      email('last'),
    ]);
    expect(walk(program, { opened: true })).toEqual(['intro', 'opened', 'thanks', 'last']);
    expect(walk(program, { opened: false })).toEqual(['intro', 'opened', 'nudge', 'nudge-2', 'last']);
    expect(program.instructions.filter((instruction) => instruction.type === 'jump')).toHaveLength(1);
  });

  it('handles empty then and else lists', () => {
    const program = compileSequence([{ key: 'check', type: 'branch', condition: { type: 'tag', has: 'vip' }, then: [], else: [] }, email('after')]);
    expect(walk(program, { check: true })).toEqual(['check', 'after']);
    expect(walk(program, { check: false })).toEqual(['check', 'after']);
  });

  it('needs no jump after a then list that ends by itself', () => {
    const program = compileSequence([
      { key: 'check', type: 'branch', condition: { type: 'tag', has: 'vip' }, then: [email('vip'), { key: 'stop', type: 'end' }], else: [email('regular')] },
      email('after'),
    ]);
    expect(program.instructions.some((instruction) => instruction.type === 'jump')).toBe(false);
    expect(walk(program, { check: true })).toEqual(['check', 'vip', 'stop']);
    expect(walk(program, { check: false })).toEqual(['check', 'regular', 'after']);
  });

  it('sends each split variant through its own steps and then on after the split', () => {
    const program = compileSequence([
      {
        key: 'ab',
        type: 'split',
        variants: [
          { key: 'a', percent: 30, steps: [email('offer-a')] },
          { key: 'b', percent: 30, steps: [email('offer-b'), wait('b-pause')] },
          { key: 'c', percent: 40, steps: [] },
        ],
      },
      email('after'),
    ]);
    expect(walk(program, { ab: 'a' })).toEqual(['ab', 'offer-a', 'after']);
    expect(walk(program, { ab: 'b' })).toEqual(['ab', 'offer-b', 'b-pause', 'after']);
    expect(walk(program, { ab: 'c' })).toEqual(['ab', 'after']);
    const split = program.instructions[0]!;
    expect(split.type === 'split' && split.variants.map((variant) => variant.percent)).toEqual([30, 30, 40]);
  });

  it('nests a branch inside a split variant and returns to the step after the split', () => {
    const program = compileSequence([
      {
        key: 'ab',
        type: 'split',
        variants: [
          { key: 'a', percent: 50, steps: [{ key: 'inner', type: 'branch', condition: { type: 'tag', has: 'x' }, then: [email('x')], else: [email('not-x')] }] },
          { key: 'b', percent: 50, steps: [email('b')] },
        ],
      },
      email('after'),
    ]);
    expect(walk(program, { ab: 'a', inner: true })).toEqual(['ab', 'inner', 'x', 'after']);
    expect(walk(program, { ab: 'a', inner: false })).toEqual(['ab', 'inner', 'not-x', 'after']);
    expect(walk(program, { ab: 'b' })).toEqual(['ab', 'b', 'after']);
  });

  it('resolves goto targets forwards and backwards', () => {
    const program = compileSequence([
      email('intro'),
      wait('pause'),
      { key: 'again', type: 'branch', condition: { type: 'tag', has: 'done' }, then: [{ key: 'skip', type: 'goto', target: 'outro' }], else: [{ key: 'loop', type: 'goto', target: 'pause' }] },
      email('outro'),
    ]);
    expect(walk(program, { again: false }, 8)).toEqual(['intro', 'pause', 'again', 'loop', 'pause', 'again', 'loop', 'pause']);
    expect(walk(program, { again: true })).toEqual(['intro', 'pause', 'again', 'skip', 'outro']);
  });

  it('refuses a goto to a key that does not exist, naming the goto', () => {
    expect(() => compileSequence([{ key: 'lost', type: 'goto', target: 'nowhere' }])).toThrow(SequenceProgramError);
    expect(() => compileSequence([{ key: 'lost', type: 'goto', target: 'nowhere' }])).toThrow('step lost: goto target nowhere');
  });

  it('refuses two steps with one key, wherever they are nested', () => {
    expect(() => compileSequence([email('same'), { key: 'b', type: 'branch', condition: { type: 'tag', has: 'x' }, then: [email('same')], else: [] }])).toThrow(
      'step same: the key is used by more than one step',
    );
  });

  it('names the step that runs at a position, following jumps, and null at the end', () => {
    const program = compileSequence([{ key: 'check', type: 'branch', condition: { type: 'tag', has: 'x' }, then: [email('x')], else: [email('y')] }, email('after')]);
    const jumpAt = program.instructions.findIndex((instruction) => instruction.type === 'jump');
    expect(stepKeyAt(program, jumpAt)).toBe('after');
    expect(stepKeyAt(program, 0)).toBe('check');
    expect(stepKeyAt(program, program.instructions.length)).toBeNull();
  });

  it('puts the pinned template version on each message step, and none where nothing is pinned', () => {
    const program = compileSequence([email('intro', 'welcome'), { key: 'text', type: 'sms', template: 'nudge' }, email('file', 'file-template')], {
      templateVersion: (channel, template) => ({ 'email:welcome': 3, 'sms:nudge': 1 } as Record<string, number>)[`${channel}:${template}`],
    });
    expect(program.instructions.map((instruction) => ('templateVersion' in instruction ? instruction.templateVersion : 'n/a'))).toEqual([3, 1, undefined]);
  });

  it('keeps a compiled program a plain JSON value (it travels through activity results)', () => {
    const program = compileSequence([email('intro'), { key: 'ab', type: 'split', variants: [{ key: 'a', percent: 50, steps: [] }, { key: 'b', percent: 50, steps: [email('b')] }] }]);
    expect(JSON.parse(JSON.stringify(program))).toEqual(program);
  });
});
