import { describe, expect, it } from '@jest/globals';
import { pickNextRep, routeLead, type LeadFacts, type RoutingCandidate, type RoutingInput, type RoutingRuleView } from '../../domain/routing';

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

describe('routeLead', () => {
  const territory = (id: string, userIds: string[], lists: { countries?: string[]; regions?: string[] }): RoutingRuleView => ({
    id, name: `territory ${id}`, kind: 'territory', countries: lists.countries ?? [], regions: lists.regions ?? [], userIds,
  });
  const roundRobin = (id: string, userIds: string[]): RoutingRuleView => ({ id, name: `team ${id}`, kind: 'round_robin', countries: [], regions: [], userIds });
  const companyOwner: RoutingRuleView = { id: 'owner-rule', name: 'company owner', kind: 'company_owner', countries: [], regions: [], userIds: [] };
  const lead = (facts: Partial<LeadFacts> = {}): LeadFacts => ({ country: null, region: null, companyOwnerId: null, ...facts });
  const route = (input: Partial<RoutingInput> & { people: RoutingCandidate[] }) =>
    routeLead({
      lead: input.lead ?? lead(),
      rules: input.rules ?? [],
      users: new Map(input.people.map((person) => [person.id, person])),
      defaultPool: input.defaultPool ?? input.people.map((person) => person.id),
      cursors: input.cursors ?? {},
    });

  it('sends a lead whose country is in a territory to that territory\'s team, with the rule\'s own cursor', () => {
    const decision = route({
      lead: lead({ country: 'DE' }),
      rules: [territory('dach', ['rep-b', 'rep-c'], { countries: ['DE', 'AT', 'CH'] })],
      people: [rep('rep-a'), rep('rep-b'), rep('rep-c')],
      cursors: { 'rule:dach': 'rep-b', reps: 'rep-c' },
    });
    expect(decision).toEqual({ ownerId: 'rep-c', rule: { id: 'dach', name: 'territory dach', kind: 'territory' }, pool: 'rule:dach' });
  });

  it('matches a territory by region, and a country rule covers every region of the country', () => {
    const rules = [territory('west', ['rep-w'], { regions: ['US-CA', 'US-WA'] }), territory('us', ['rep-u'], { countries: ['US'] })];
    const people = [rep('rep-w'), rep('rep-u')];
    expect(route({ lead: lead({ country: 'US', region: 'US-CA' }), rules, people })?.ownerId).toBe('rep-w');
    expect(route({ lead: lead({ country: 'US', region: 'US-NY' }), rules, people })?.ownerId).toBe('rep-u');
  });

  it('skips a territory the lead is not in and falls back to every rep', () => {
    const decision = route({ lead: lead({ country: 'FR' }), rules: [territory('dach', ['rep-b'], { countries: ['DE'] })], people: [rep('rep-a'), rep('rep-b')] });
    expect(decision).toEqual({ ownerId: 'rep-a', rule: null, pool: 'reps' });
  });

  it('gives the lead to the owner of the contact\'s company', () => {
    const decision = route({ lead: lead({ companyOwnerId: 'rep-b', country: 'DE' }), rules: [companyOwner, territory('dach', ['rep-c'], { countries: ['DE'] })], people: [rep('rep-a'), rep('rep-b'), rep('rep-c')] });
    expect(decision).toEqual({ ownerId: 'rep-b', rule: { id: 'owner-rule', name: 'company owner', kind: 'company_owner' }, pool: null });
  });

  it('passes over a company owner at capacity to the next rule', () => {
    const decision = route({
      lead: lead({ companyOwnerId: 'rep-b', country: 'DE' }),
      rules: [companyOwner, territory('dach', ['rep-c'], { countries: ['DE'] })],
      people: [rep('rep-a'), rep('rep-b', 3, 3), rep('rep-c')],
    });
    expect(decision?.ownerId).toBe('rep-c');
    expect(decision?.rule?.kind).toBe('territory');
  });

  it('passes over a company owner who is no longer active (not among the users)', () => {
    expect(route({ lead: lead({ companyOwnerId: 'gone' }), rules: [companyOwner], people: [rep('rep-a')] })).toEqual({ ownerId: 'rep-a', rule: null, pool: 'reps' });
  });

  it('skips team members at capacity and, when the whole team is full, moves on to the next rule', () => {
    const people = [rep('rep-a'), rep('rep-b', 2, 2), rep('rep-c'), rep('rep-d', 1, 1)];
    expect(route({ lead: lead({ country: 'DE' }), rules: [territory('dach', ['rep-b', 'rep-c'], { countries: ['DE'] })], people, cursors: { 'rule:dach': 'rep-a' } })?.ownerId).toBe('rep-c');
    const full = route({ lead: lead({ country: 'DE' }), rules: [territory('dach', ['rep-b', 'rep-d'], { countries: ['DE'] }), roundRobin('team', ['rep-c'])], people });
    expect(full).toEqual({ ownerId: 'rep-c', rule: { id: 'team', name: 'team team', kind: 'round_robin' }, pool: 'rule:team' });
  });

  it('rotates a round-robin rule through its team in id order, one lead each', () => {
    const people = [rep('rep-a'), rep('rep-b'), rep('rep-c')];
    const order: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 4; i += 1) {
      const decision = route({ rules: [roundRobin('team', ['rep-c', 'rep-a'])], people, cursors: { 'rule:team': cursor } });
      order.push(decision!.ownerId);
      cursor = decision!.ownerId;
    }
    expect(order).toEqual(['rep-a', 'rep-c', 'rep-a', 'rep-c']);
  });

  it('never picks a team member who is not an active user', () => {
    expect(route({ rules: [roundRobin('team', ['inactive', 'rep-b'])], people: [rep('rep-a'), rep('rep-b')] })?.ownerId).toBe('rep-b');
  });

  it('tries rules in the order given: the first that yields a user wins', () => {
    const people = [rep('rep-a'), rep('rep-b')];
    const rules = [roundRobin('first', ['rep-b']), roundRobin('second', ['rep-a'])];
    expect(route({ rules, people })?.rule?.id).toBe('first');
    expect(route({ rules: [...rules].reverse(), people })?.rule?.id).toBe('second');
  });

  it('returns null when no rule and no rep has capacity', () => {
    expect(route({ lead: lead({ country: 'DE', companyOwnerId: 'rep-a' }), rules: [companyOwner, territory('dach', ['rep-a'], { countries: ['DE'] })], people: [rep('rep-a', 1, 1)] })).toBeNull();
  });

  it('uses the default pool, not every known user, for the fallback', () => {
    // A manager on a rule's team is among the users but is not a rep, so the fallback skips them.
    expect(route({ people: [rep('manager-m'), rep('rep-z')], defaultPool: ['rep-z'] })?.ownerId).toBe('rep-z');
  });
});
