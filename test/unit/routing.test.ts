import { describe, expect, it } from '@jest/globals';
import { pickNextRep, type RoutingCandidate } from '../../domain/routing';

const rep = (id: string, openLeads = 0, leadCapacity: number | null = null): RoutingCandidate => ({ id, openLeads, leadCapacity });

describe('pickNextRep', () => {
  it('returns undefined for an empty pool', () => {
    expect(pickNextRep([], null)).toBeUndefined();
    expect(pickNextRep([], 'rep-a')).toBeUndefined();
  });

  it('starts with the first rep in id order when nobody was assigned yet', () => {
    expect(pickNextRep([rep('rep-c'), rep('rep-a'), rep('rep-b')], null)?.id).toBe('rep-a');
  });

  it('picks the rep after the last assigned one in id order, whatever order the candidates arrive in', () => {
    expect(pickNextRep([rep('rep-c'), rep('rep-a'), rep('rep-b')], 'rep-a')?.id).toBe('rep-b');
    expect(pickNextRep([rep('rep-b'), rep('rep-c'), rep('rep-a')], 'rep-b')?.id).toBe('rep-c');
  });

  it('wraps around from the last rep to the first', () => {
    expect(pickNextRep([rep('rep-a'), rep('rep-b'), rep('rep-c')], 'rep-c')?.id).toBe('rep-a');
  });

  it('hands out leads in turn over repeated calls: a, b, c, a, b', () => {
    const pool = [rep('rep-b'), rep('rep-c'), rep('rep-a')];
    const order: string[] = [];
    let last: string | null = null;
    for (let i = 0; i < 5; i += 1) {
      const chosen = pickNextRep(pool, last);
      if (!chosen) throw new Error('no rep chosen');
      order.push(chosen.id);
      last = chosen.id;
    }
    expect(order).toEqual(['rep-a', 'rep-b', 'rep-c', 'rep-a', 'rep-b']);
  });

  it('skips a rep who is at capacity and takes the next one', () => {
    const pool = [rep('rep-a'), rep('rep-b', 5, 5), rep('rep-c')];
    expect(pickNextRep(pool, 'rep-a')?.id).toBe('rep-c');
  });

  it('skips a rep who is over capacity', () => {
    const pool = [rep('rep-a'), rep('rep-b', 7, 5), rep('rep-c')];
    expect(pickNextRep(pool, 'rep-a')?.id).toBe('rep-c');
  });

  it('skips reps at capacity across the wrap-around', () => {
    const pool = [rep('rep-a', 3, 3), rep('rep-b'), rep('rep-c', 1, 1)];
    expect(pickNextRep(pool, 'rep-b')?.id).toBe('rep-b');
  });

  it('picks a rep who has one lead below capacity', () => {
    expect(pickNextRep([rep('rep-a', 4, 5)], null)?.id).toBe('rep-a');
  });

  it('never picks a rep whose capacity is zero', () => {
    expect(pickNextRep([rep('rep-a', 0, 0), rep('rep-b')], null)?.id).toBe('rep-b');
  });

  it('treats a null capacity as unlimited', () => {
    expect(pickNextRep([rep('rep-a', 10_000, null)], null)?.id).toBe('rep-a');
  });

  it('returns undefined when every rep is at capacity', () => {
    const pool = [rep('rep-a', 2, 2), rep('rep-b', 1, 1), rep('rep-c', 0, 0)];
    expect(pickNextRep(pool, 'rep-a')).toBeUndefined();
    expect(pickNextRep(pool, null)).toBeUndefined();
  });

  it('gives the only rep every lead, including right after they got one', () => {
    expect(pickNextRep([rep('rep-a')], 'rep-a')?.id).toBe('rep-a');
  });

  it('continues after where the last rep would have stood when they left the pool', () => {
    // rep-b got the previous lead and has since been deactivated.
    expect(pickNextRep([rep('rep-a'), rep('rep-c'), rep('rep-d')], 'rep-b')?.id).toBe('rep-c');
  });

  it('wraps to the first rep when the departed last rep sorted after everyone', () => {
    expect(pickNextRep([rep('rep-a'), rep('rep-b')], 'rep-z')?.id).toBe('rep-a');
  });

  it('skips reps at capacity after the departed last rep\'s position', () => {
    expect(pickNextRep([rep('rep-a'), rep('rep-c', 1, 1), rep('rep-d')], 'rep-b')?.id).toBe('rep-d');
  });

  it('uses the same ordering to resume after a departed rep as to sort the pool, for mixed-case ids', () => {
    // The pool sorts as a, C; "b" would have stood between them, so C is next, not a.
    expect(pickNextRep([rep('a'), rep('C')], 'b')?.id).toBe('C');
  });

  it('returns the candidate object itself, with its counts', () => {
    const candidate = rep('rep-a', 2, 5);
    expect(pickNextRep([candidate], null)).toBe(candidate);
  });

  it('does not reorder the array it was given', () => {
    const pool = [rep('rep-c'), rep('rep-a'), rep('rep-b')];
    pickNextRep(pool, null);
    expect(pool.map((candidate) => candidate.id)).toEqual(['rep-c', 'rep-a', 'rep-b']);
  });
});
