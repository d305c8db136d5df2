import { describe, expect, it } from '@jest/globals';
import type { Step } from '../../domain/schemas/sequence';
import { composeMappings, planMigration } from '../../domain/sequence-migration';
import { compileSequence } from '../../domain/sequence-program';

const email = (key: string): Step => ({ key, type: 'email', template: 'intro' });
const wait = (key: string): Step => ({ key, type: 'wait', duration: 'P1D' });
const versions = { from: 1, to: 2 };

describe('planMigration', () => {
  const v1 = compileSequence([email('intro'), wait('day'), { key: 'opened', type: 'branch', condition: { type: 'tag', has: 'vip' }, then: [email('vip')], else: [email('regular')] }]);

  it('maps each key the new version still has to itself and the others as the step map says', () => {
    const v2 = compileSequence([email('intro'), wait('day'), email('vip'), email('everyone')]);
    expect(planMigration(v1, v2, { opened: 'vip', regular: 'everyone' }, versions)).toEqual({
      ok: true,
      mapping: { intro: 'intro', day: 'day', opened: 'vip', vip: 'vip', regular: 'everyone' },
    });
  });

  it('names every old key without a place, and map entries that point at unknown steps of either version', () => {
    const v2 = compileSequence([email('intro'), wait('later')]);
    const plan = planMigration(v1, v2, { vip: 'gone', ghost: 'intro' }, versions);
    expect(plan.ok).toBe(false);
    expect(!plan.ok && plan.errors.map((error) => error.field).sort()).toEqual(['stepMap/day', 'stepMap/ghost', 'stepMap/opened', 'stepMap/regular', 'stepMap/vip']);
    expect(!plan.ok && plan.errors.find((error) => error.field === 'stepMap/ghost')?.message).toBe('v1 has no step "ghost"');
    expect(!plan.ok && plan.errors.find((error) => error.field === 'stepMap/vip')?.message).toBe('v2 has no step "gone" to continue at');
  });

  it('lets a step map send a kept key elsewhere', () => {
    const v2 = compileSequence([email('intro'), wait('day'), email('vip'), email('regular')]);
    const plan = planMigration(v1, v2, { day: 'regular', opened: 'vip' }, versions);
    expect(plan.ok && plan.mapping.day).toBe('regular');
  });
});

describe('composeMappings', () => {
  it('sends each first-version key where its middle step goes next', () => {
    expect(composeMappings({ intro: 'intro', old: 'middle' }, { intro: 'hello', middle: 'last' })).toEqual({ intro: 'hello', old: 'last' });
  });
});
