import type { FieldError } from './errors';
import type { SequenceProgram } from './sequence-program';

/**
 * Moving running enrollments from one published version of a sequence to another, by step key.
 *
 * An enrollment is always "about to run" some step of its version (or finishing the one it is
 * in, which completes as it started). The migration names, for every step key of the old
 * version, the step of the new version it continues at: the same key when the new version still
 * has it, else the one the marketer maps it to. Requiring an answer for every key, not only for
 * the steps where enrollments sit today, is what makes the plan safe to apply later: an
 * enrollment in a two-week wait reaches its next step long after the plan was checked.
 */
export type StepMapping = Record<string, string>;

export type MigrationPlan = { ok: true; mapping: StepMapping } | { ok: false; errors: FieldError[] };

export function planMigration(from: SequenceProgram, to: SequenceProgram, stepMap: Readonly<Record<string, string>>, versions: { from: number; to: number }): MigrationPlan {
  const errors: FieldError[] = [];
  for (const [key, target] of Object.entries(stepMap)) {
    if (!(key in from.keyIndex)) errors.push({ field: `stepMap/${key}`, message: `v${versions.from} has no step "${key}"` });
    if (!(target in to.keyIndex)) errors.push({ field: `stepMap/${key}`, message: `v${versions.to} has no step "${target}" to continue at` });
  }
  const mapping: StepMapping = {};
  for (const key of Object.keys(from.keyIndex)) {
    const target = stepMap[key] ?? key;
    if (target in to.keyIndex) mapping[key] = target;
    else if (!(key in stepMap)) errors.push({ field: `stepMap/${key}`, message: `v${versions.to} has no step "${key}": map it to the step its enrollments continue at` });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, mapping };
}

/**
 * A mapping applied after another one not yet applied (v1 -> v2 pending, then v2 -> v3): each
 * old key goes where its v2 step goes in v3. Both mappings are total, so the result is too.
 */
export function composeMappings(first: StepMapping, then: StepMapping): StepMapping {
  return Object.fromEntries(Object.entries(first).map(([key, middle]) => [key, then[middle]!]));
}
