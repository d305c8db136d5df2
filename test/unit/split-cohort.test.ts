import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { chooseVariant } from '../../domain/split-cohort';

const ab = [
  { key: 'a', percent: 20 },
  { key: 'b', percent: 30 },
  { key: 'c', percent: 50 },
];

describe('A/B split cohorts', () => {
  it('gives one enrollment the same variant at a split every time', () => {
    const id = randomUUID();
    const first = chooseVariant(id, 'offer', ab);
    for (let attempt = 0; attempt < 5; attempt += 1) expect(chooseVariant(id, 'offer', ab)).toBe(first);
  });

  it('fills the variants in proportion to their percents', () => {
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const total = 20_000;
    for (let index = 0; index < total; index += 1) counts[chooseVariant(randomUUID(), 'offer', ab)]! += 1;
    expect(counts.a! / total).toBeCloseTo(0.2, 1);
    expect(counts.b! / total).toBeCloseTo(0.3, 1);
    expect(counts.c! / total).toBeCloseTo(0.5, 1);
  });

  it('splits sequential ids evenly too (a batch enrolled at once)', () => {
    let a = 0;
    const total = 10_000;
    const fifty = [
      { key: 'a', percent: 50 },
      { key: 'b', percent: 50 },
    ];
    for (let index = 0; index < total; index += 1) if (chooseVariant(`00000000-0000-4000-8000-${String(index).padStart(12, '0')}`, 'split', fifty) === 'a') a += 1;
    expect(a / total).toBeGreaterThan(0.47);
    expect(a / total).toBeLessThan(0.53);
  });

  it('decides two splits of one enrollment independently', () => {
    const fifty = [
      { key: 'x', percent: 50 },
      { key: 'y', percent: 50 },
    ];
    let same = 0;
    const total = 5_000;
    for (let index = 0; index < total; index += 1) {
      const id = randomUUID();
      if (chooseVariant(id, 'first', fifty) === chooseVariant(id, 'second', fifty)) same += 1;
    }
    expect(same / total).toBeGreaterThan(0.45);
    expect(same / total).toBeLessThan(0.55);
  });

  it('never picks a variant with no share, and always the only one with all of it', () => {
    const tilted = [
      { key: 'all', percent: 100 },
      { key: 'none', percent: 0 },
    ];
    for (let index = 0; index < 1000; index += 1) expect(chooseVariant(randomUUID(), 's', tilted)).toBe('all');
  });
});
