import type { Step } from './schemas/sequence';

/**
 * Where a step sits in a sequence's tree of step lists. Validation reports problems by this
 * path, stats list steps in this order, and publishing finds the templates from it.
 */
export interface LocatedStep {
  step: Step;
  /** Readable position with the keys on the way, e.g. `steps[2](follow-up).then[0](nudge)`. */
  path: string;
  /** Pre-order position in the whole tree: a step's `order` is larger than every step before it in reading order. */
  order: number;
  /** The list the step is in, and its index there. */
  list: Step[];
  index: number;
  /** The branch or split whose arm holds this step; null at the top level. */
  parent: LocatedStep | null;
  /** Which arm of the parent: `then`, `else`, or the variant key of a split. */
  arm: string | null;
}

/** Every step of the tree in reading order (a step before the steps nested in it). */
export function locateSteps(steps: Step[]): LocatedStep[] {
  const located: LocatedStep[] = [];
  const visit = (list: Step[], prefix: string, parent: LocatedStep | null, arm: string | null) => {
    list.forEach((step, index) => {
      const here: LocatedStep = { step, path: `${prefix}[${index}](${step.key})`, order: located.length, list, index, parent, arm };
      located.push(here);
      if (step.type === 'branch') {
        visit(step.then, `${here.path}.then`, here, 'then');
        visit(step.else, `${here.path}.else`, here, 'else');
      } else if (step.type === 'split') {
        step.variants.forEach((variant, v) => visit(variant.steps, `${here.path}.variants[${v}](${variant.key}).steps`, here, variant.key));
      }
    });
  };
  visit(steps, 'steps', null, null);
  return located;
}

/** The branches and splits a step is nested in, innermost first, with the arm it is in. */
export function enclosingArms(step: LocatedStep): Array<{ owner: LocatedStep; arm: string }> {
  const arms: Array<{ owner: LocatedStep; arm: string }> = [];
  for (let at: LocatedStep = step; at.parent; at = at.parent) arms.push({ owner: at.parent, arm: at.arm! });
  return arms;
}

/** The email and sms steps of a definition with the template each sends. */
export function messageSteps(located: LocatedStep[]): Array<LocatedStep & { step: Extract<Step, { type: 'email' | 'sms' }> }> {
  return located.filter((entry): entry is LocatedStep & { step: Extract<Step, { type: 'email' | 'sms' }> } => entry.step.type === 'email' || entry.step.type === 'sms');
}
