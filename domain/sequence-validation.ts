import type { FieldError } from './errors';
import { enclosingArms, locateSteps, type LocatedStep } from './sequence-tree';
import type { Condition, SequenceDefinition, Step } from './schemas/sequence';

/**
 * Publish-time checks of a sequence definition that its zod schema cannot express: how steps
 * refer to each other and how a contact can move through them. Each problem names the step
 * by its path with the keys on the way, e.g. `steps[2](follow-up).then[0](nudge).target`, so
 * a marketer finds it without counting. Templates are checked by the caller, which can read
 * them (api/services/sequences.ts).
 */
export function sequenceProblems(definition: SequenceDefinition): FieldError[] {
  const located = locateSteps(definition.steps);
  const byKey = new Map<string, LocatedStep>();
  for (const entry of located) if (!byKey.has(entry.step.key)) byKey.set(entry.step.key, entry);
  const flow = controlFlow(located, byKey);
  return [
    ...duplicateKeys(located, byKey),
    ...gotoProblems(located, byKey),
    ...conditionProblems(located, byKey),
    ...unreachableSteps(located, flow),
    ...nothingToDo(located),
    ...loopsWithoutWait(located, flow),
  ];
}

function duplicateKeys(located: LocatedStep[], byKey: Map<string, LocatedStep>): FieldError[] {
  const problems: FieldError[] = [];
  for (const entry of located) {
    const first = byKey.get(entry.step.key)!;
    if (first !== entry) problems.push({ field: `${entry.path}.key`, message: `"${entry.step.key}" is also the key of ${first.path}; step keys must be unique in the whole sequence` });
    if (entry.step.type === 'split') {
      const seen = new Set<string>();
      entry.step.variants.forEach((variant, v) => {
        if (seen.has(variant.key)) problems.push({ field: `${entry.path}.variants[${v}](${variant.key}).key`, message: `the split has two variants with the key "${variant.key}"` });
        seen.add(variant.key);
      });
    }
  }
  return problems;
}

/**
 * A goto may jump anywhere a contact could also arrive by reading on, but not into a split's
 * variant from outside it (the contact would be in a cohort it was never assigned to) and not
 * back to a split from inside it (the split would contain itself).
 */
function gotoProblems(located: LocatedStep[], byKey: Map<string, LocatedStep>): FieldError[] {
  const problems: FieldError[] = [];
  for (const entry of located) {
    if (entry.step.type !== 'goto') continue;
    const field = `${entry.path}.target`;
    const target = byKey.get(entry.step.target);
    if (!target) {
      problems.push({ field, message: `no step has the key "${entry.step.target}"` });
      continue;
    }
    const ownArms = enclosingArms(entry);
    if (ownArms.some(({ owner }) => owner === target && owner.step.type === 'split')) {
      problems.push({ field, message: `jumps back to the split "${target.step.key}" from inside one of its variants; a split cannot contain itself` });
      continue;
    }
    const foreignVariant = enclosingArms(target).find(
      ({ owner, arm }) => owner.step.type === 'split' && !ownArms.some((own) => own.owner === owner && own.arm === arm),
    );
    if (foreignVariant) {
      problems.push({ field, message: `jumps into variant "${foreignVariant.arm}" of the split "${foreignVariant.owner.step.key}" from outside it; contacts enter a variant only through its split` });
    }
  }
  return problems;
}

/** Message conditions must name an email or sms step that a contact reaching the branch may have been sent. */
function conditionProblems(located: LocatedStep[], byKey: Map<string, LocatedStep>): FieldError[] {
  const problems: FieldError[] = [];
  for (const branch of located) {
    if (branch.step.type !== 'branch') continue;
    const check = (condition: Condition, field: string): void => {
      switch (condition.type) {
        case 'message': {
          const problem = messageReferenceProblem(branch, byKey.get(condition.step), condition);
          if (problem) problems.push({ field: `${field}.step`, message: problem });
          return;
        }
        case 'all':
        case 'any':
          condition.conditions.forEach((inner, i) => check(inner, `${field}.conditions[${i}]`));
          return;
        case 'not':
          check(condition.condition, `${field}.condition`);
          return;
        case 'lifecycle':
        case 'tag':
        case 'score':
        case 'field':
          return;
        default: {
          const unhandled: never = condition;
          throw new Error(`Unhandled condition ${JSON.stringify(unhandled)}`);
        }
      }
    };
    check(branch.step.condition, `${branch.path}.condition`);
  }
  return problems;
}

function messageReferenceProblem(branch: LocatedStep, referenced: LocatedStep | undefined, condition: Extract<Condition, { type: 'message' }>): string | null {
  if (!referenced) return `no step has the key "${condition.step}"`;
  const { step } = referenced;
  if (step.type !== 'email' && step.type !== 'sms') return `"${step.key}" is a ${step.type} step; message conditions refer to an email or sms step`;
  if (referenced.order >= branch.order) return `"${step.key}" comes after this branch (or inside it), so nothing is known about it when the branch decides`;
  const branchArms = enclosingArms(branch);
  const apart = enclosingArms(referenced).find(({ owner, arm }) => branchArms.some((own) => own.owner === owner && own.arm !== arm));
  if (apart) {
    return `"${step.key}" is in the ${apart.owner.step.type === 'split' ? `variant "${apart.arm}"` : `"${apart.arm}" arm`} of ${apart.owner.step.type} "${apart.owner.step.key}" and this branch is in another, so a contact reaching the branch was never sent it`;
  }
  if (step.type === 'sms' && condition.event === 'opened') return `"${step.key}" is an SMS step; an SMS has no opens`;
  return null;
}

/** Steps no contact can reach: after an `end` or `goto` in the same list, with no goto pointing at them. */
function unreachableSteps(located: LocatedStep[], flow: ControlFlow): FieldError[] {
  const reached = new Set<LocatedStep>();
  const pending = located.length > 0 ? [located[0]!] : [];
  while (pending.length > 0) {
    const entry = pending.pop()!;
    if (reached.has(entry)) continue;
    reached.add(entry);
    pending.push(...flow.successors(entry));
  }
  const byStep = new Map(located.map((entry) => [entry.step, entry]));
  const problems: FieldError[] = [];
  for (const entry of located) {
    // One problem per cause: the first step of a run of unreachable siblings, not what is
    // nested in it or follows it, which is unreachable with it.
    const previous = entry.list[entry.index - 1];
    if (reached.has(entry) || (entry.parent && !reached.has(entry.parent)) || (previous && !reached.has(byStep.get(previous)!))) continue;
    let following = 0;
    while (entry.list[entry.index + following + 1] && !reached.has(byStep.get(entry.list[entry.index + following + 1]!)!)) following += 1;
    const cause =
      previous?.type === 'end' || previous?.type === 'goto'
        ? `it comes after the ${previous.type} step "${previous.key}" in the same list`
        : previous
          ? `every arm of the ${previous.type} "${previous.key}" before it ends or jumps elsewhere`
          : 'nothing leads into its list';
    problems.push({ field: entry.path, message: `is never reached${following === 1 ? ', nor is the step after it' : following > 1 ? `, nor are the ${following} steps after it` : ''}: ${cause}, and no goto leads to it` });
  }
  return problems;
}

function nothingToDo(located: LocatedStep[]): FieldError[] {
  if (located.some(({ step }) => step.type === 'email' || step.type === 'sms' || step.type === 'task')) return [];
  return [{ field: 'steps', message: 'has no email, sms or task step, so enrolling a contact would do nothing they or a rep could see' }];
}

/**
 * A goto whose target leads back to it without a wait on the way would run its loop at
 * once, forever. A task that waits for its completion counts as a wait.
 */
function loopsWithoutWait(located: LocatedStep[], flow: ControlFlow): FieldError[] {
  const problems: FieldError[] = [];
  for (const entry of located) {
    if (entry.step.type !== 'goto' || !flow.target(entry)) continue;
    const seen = new Set<LocatedStep>();
    const pending = [flow.target(entry)!];
    let spins = false;
    while (pending.length > 0 && !spins) {
      const at = pending.pop()!;
      if (at === entry) spins = true;
      if (seen.has(at) || waits(at)) continue;
      seen.add(at);
      pending.push(...flow.successors(at));
    }
    if (spins) problems.push({ field: `${entry.path}.target`, message: `loops back to "${entry.step.target}" with no wait step on the way, so the loop would repeat at once without end` });
  }
  return problems;
}

function waits({ step }: LocatedStep): boolean {
  return step.type === 'wait' || (step.type === 'task' && step.waitForCompletion);
}

interface ControlFlow {
  /** Where a contact can go from this step. */
  successors(entry: LocatedStep): LocatedStep[];
  /** A goto's target, when it exists. */
  target(entry: LocatedStep): LocatedStep | undefined;
}

/** How a contact moves: on to the next step, into the arms of a branch or split, along a goto; a finished arm continues after its branch or split. */
function controlFlow(located: LocatedStep[], byKey: Map<string, LocatedStep>): ControlFlow {
  const byStep = new Map(located.map((entry) => [entry.step, entry]));
  const next = (entry: LocatedStep): LocatedStep[] => {
    const sibling = entry.list[entry.index + 1];
    if (sibling) return [byStep.get(sibling)!];
    return entry.parent ? next(entry.parent) : [];
  };
  const firstOr = (list: Step[], owner: LocatedStep): LocatedStep[] => {
    const first = list[0];
    return first ? [byStep.get(first)!] : next(owner);
  };
  const target = (entry: LocatedStep) => (entry.step.type === 'goto' ? byKey.get(entry.step.target) : undefined);
  return {
    target,
    successors(entry) {
      const { step } = entry;
      switch (step.type) {
        case 'branch':
          return [...firstOr(step.then, entry), ...firstOr(step.else, entry)];
        case 'split':
          return step.variants.flatMap((variant) => firstOr(variant.steps, entry));
        case 'goto': {
          const to = target(entry);
          return to ? [to] : [];
        }
        case 'end':
          return [];
        case 'email':
        case 'sms':
        case 'wait':
        case 'task':
        case 'update':
          return next(entry);
        default: {
          const unhandled: never = step;
          throw new Error(`Unhandled step ${JSON.stringify(unhandled)}`);
        }
      }
    },
  };
}
