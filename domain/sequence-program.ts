import type { Condition, Step } from './schemas/sequence';

/**
 * A sequence's step tree compiled into a flat list the enrollment workflow walks with one
 * program counter. Branches, splits and gotos become jumps, so the workflow's position is a
 * single number plus visit counts: that is all continue-as-new has to carry, and the program
 * itself is rebuilt from the pinned (immutable) version in the next run.
 *
 * Layout: a branch is followed by its `then` steps, then its `else` steps; a split by each
 * variant's steps in order. The end of a `then` or variant list is a `jump` (no key, never
 * recorded) to the step after the branch or split; the `else` list and the last variant fall
 * through to it. Running off the end of the program completes the enrollment.
 */

type StepOf<T extends Step['type']> = Extract<Step, { type: T }>;

/** An email or sms step with the template version its sequence version pinned (none: the current one). */
export type MessageInstruction = StepOf<'email' | 'sms'> & { templateVersion?: number | undefined };

/** Steps that execute as they are written. */
export type PlainInstruction = MessageInstruction | StepOf<'wait' | 'task' | 'update' | 'end'>;

export type Instruction =
  | PlainInstruction
  /** `then` is the next instruction; `elseAt` is where the else steps start. */
  | { type: 'branch'; key: string; name?: string | undefined; condition: Condition; elseAt: number }
  | { type: 'split'; key: string; name?: string | undefined; variants: Array<{ key: string; percent: number; startAt: number }> }
  | { type: 'goto'; key: string; name?: string | undefined; target: string; targetAt: number }
  /** Not a step: the end of a then or variant list going on after its branch or split. */
  | { type: 'jump'; targetAt: number };

export type InstructionType = Instruction['type'];

export interface SequenceProgram {
  instructions: Instruction[];
  /** Step key -> index of its instruction. */
  keyIndex: Record<string, number>;
}

/** A definition the interpreter cannot lay out (publish validation refuses these before any enrollment). */
export class SequenceProgramError extends Error {
  constructor(
    readonly stepKey: string,
    message: string,
  ) {
    super(`step ${stepKey}: ${message}`);
    this.name = 'SequenceProgramError';
  }
}

export interface CompileOptions {
  /** The pinned version of a stored template, undefined for "current" (file templates, no pin). */
  templateVersion?: (channel: 'email' | 'sms', template: string) => number | undefined;
}

export function compileSequence(steps: readonly Step[], options: CompileOptions = {}): SequenceProgram {
  const instructions: Instruction[] = [];
  const keyIndex: Record<string, number> = {};
  /** Jumps whose target is only known once the rest of their branch or split is laid out. */
  const gotos: Array<{ at: number; target: string; key: string }> = [];

  const emit = (instruction: Instruction): number => {
    if ('key' in instruction) {
      if (instruction.key in keyIndex) throw new SequenceProgramError(instruction.key, 'the key is used by more than one step');
      keyIndex[instruction.key] = instructions.length;
    }
    instructions.push(instruction);
    return instructions.length - 1;
  };

  /** Lays out a list of steps where it stands; a branch or split patches its exits to the step after it. */
  const layOut = (list: readonly Step[]): void => {
    for (const step of list) {
      switch (step.type) {
        case 'branch': {
          const at = emit({ type: 'branch', key: step.key, name: step.name, condition: step.condition, elseAt: -1 });
          const exits = layOutThenJump(step.then);
          (instructions[at] as Extract<Instruction, { type: 'branch' }>).elseAt = instructions.length;
          layOut(step.else);
          patch(exits, instructions.length);
          break;
        }
        case 'split': {
          const variants = step.variants.map((variant) => ({ key: variant.key, percent: variant.percent, startAt: -1 }));
          emit({ type: 'split', key: step.key, name: step.name, variants });
          const exits: number[] = [];
          step.variants.forEach((variant, index) => {
            variants[index]!.startAt = instructions.length;
            if (index < step.variants.length - 1) exits.push(...layOutThenJump(variant.steps));
            else layOut(variant.steps);
          });
          patch(exits, instructions.length);
          break;
        }
        case 'goto':
          gotos.push({ at: emit({ type: 'goto', key: step.key, name: step.name, target: step.target, targetAt: -1 }), target: step.target, key: step.key });
          break;
        case 'email':
        case 'sms':
          emit({ ...step, templateVersion: options.templateVersion?.(step.type, step.template) });
          break;
        default:
          emit(step);
      }
    }
  };

  /** A then or variant list and, unless it ends by itself, the jump out of it. */
  const layOutThenJump = (list: readonly Step[]): number[] => {
    layOut(list);
    const last = list[list.length - 1];
    return last?.type === 'end' || last?.type === 'goto' ? [] : [emit({ type: 'jump', targetAt: -1 })];
  };

  const patch = (jumps: number[], targetAt: number): void => {
    for (const at of jumps) (instructions[at] as Extract<Instruction, { type: 'jump' }>).targetAt = targetAt;
  };

  layOut(steps);
  for (const goto of gotos) {
    const targetAt = keyIndex[goto.target];
    if (targetAt === undefined) throw new SequenceProgramError(goto.key, `goto target ${goto.target} is not a step of this sequence`);
    (instructions[goto.at] as Extract<Instruction, { type: 'goto' }>).targetAt = targetAt;
  }
  return { instructions, keyIndex };
}

/** The key of the step that runs at `pc` (after any jumps), or null when the program ends there. */
export function stepKeyAt(program: SequenceProgram, pc: number): string | null {
  let at = pc;
  // A chain of jumps is at most as long as the program; the bound keeps a bad program finite.
  for (let hops = 0; hops <= program.instructions.length; hops += 1) {
    const instruction = program.instructions[at];
    if (!instruction) return null;
    if (instruction.type !== 'jump') return instruction.key;
    at = instruction.targetAt;
  }
  return null;
}
