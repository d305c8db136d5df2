/**
 * Lead routing decisions: sales ops' rules (`routeLead`) and the round robin they and the
 * fallback use (`pickNextRep`). Pure, so every rule is testable without a database; the
 * activity (activities/lead-routing.ts) supplies candidates and cursors and persists the choice.
 */
export interface RoutingCandidate {
  id: string;
  openLeads: number;
  leadCapacity: number | null;
}

/** The next rep with capacity after the one who got the previous lead, in id order. */
export function pickNextRep(candidates: readonly RoutingCandidate[], lastAssignedId: string | null): RoutingCandidate | undefined {
  if (candidates.length === 0) return undefined;
  const ordered = [...candidates].sort((a, b) => a.id.localeCompare(b.id));
  const lastIndex = lastAssignedId ? ordered.findIndex((candidate) => candidate.id === lastAssignedId) : -1;
  // When the last rep left the pool, start after where they would have stood.
  const start = lastIndex >= 0 ? lastIndex + 1 : lastAssignedId ? ordered.findIndex((c) => c.id.localeCompare(lastAssignedId) > 0) : 0;
  for (let offset = 0; offset < ordered.length; offset += 1) {
    const candidate = ordered[((start < 0 ? 0 : start) + offset) % ordered.length]!;
    if (hasCapacity(candidate)) return candidate;
  }
  return undefined;
}

export const routingRuleKinds = ['territory', 'company_owner', 'round_robin'] as const;
export type RoutingRuleKind = (typeof routingRuleKinds)[number];

/** An active rule as routing reads it; rules are tried in position order. */
export interface RoutingRuleView {
  id: string;
  name: string;
  kind: RoutingRuleKind;
  countries: readonly string[];
  regions: readonly string[];
  userIds: readonly string[];
}

export interface LeadFacts {
  country: string | null;
  region: string | null;
  /** Owner of the contact's company, if it has one. */
  companyOwnerId: string | null;
}

export interface RoutingDecision {
  ownerId: string;
  /** The rule that chose the owner; null for the fallback round robin over every active rep. */
  rule: { id: string; name: string; kind: RoutingRuleKind } | null;
  /** The round-robin cursor to move to the owner (`reps` or `rule:{id}`); null when no rotation chose (company owner). */
  pool: string | null;
}

export interface RoutingInput {
  lead: LeadFacts;
  rules: readonly RoutingRuleView[];
  /** Active users who may own leads, with their load: every active rep, each rule's team and the company owner. */
  users: ReadonlyMap<string, RoutingCandidate>;
  /** The fallback pool: ids of every active rep. */
  defaultPool: readonly string[];
  /** Last user each pool handed a lead to. */
  cursors: Readonly<Record<string, string | null>>;
}

export const defaultRoutingPool = 'reps';
export const ruleRoutingPool = (ruleId: string): string => `rule:${ruleId}`;

/**
 * The first rule that yields a user with capacity wins: a company owner rule gives the lead to
 * the owner of the contact's company, a territory rule (the lead's region or country is in its
 * lists) and a round-robin rule rotate through the rule's team with the rule's own cursor. A
 * rule whose team is full passes the lead on to the next rule; after the last one, every active
 * rep shares the lead round robin. Inactive users are not in `users`, so they are skipped.
 */
export function routeLead({ lead, rules, users, defaultPool, cursors }: RoutingInput): RoutingDecision | null {
  for (const rule of rules) {
    const named = { id: rule.id, name: rule.name, kind: rule.kind };
    if (rule.kind === 'company_owner') {
      const owner = lead.companyOwnerId ? users.get(lead.companyOwnerId) : undefined;
      if (owner && hasCapacity(owner)) return { ownerId: owner.id, rule: named, pool: null };
      continue;
    }
    if (rule.kind === 'territory' && !inTerritory(rule, lead)) continue;
    const pool = ruleRoutingPool(rule.id);
    const chosen = pickNextRep(candidatesOf(rule.userIds, users), cursors[pool] ?? null);
    if (chosen) return { ownerId: chosen.id, rule: named, pool };
  }
  const chosen = pickNextRep(candidatesOf(defaultPool, users), cursors[defaultRoutingPool] ?? null);
  return chosen ? { ownerId: chosen.id, rule: null, pool: defaultRoutingPool } : null;
}

/** A region match is the more specific one; a country in the rule's list covers all its regions. */
function inTerritory(rule: Pick<RoutingRuleView, 'countries' | 'regions'>, lead: Pick<LeadFacts, 'country' | 'region'>): boolean {
  return (lead.region !== null && rule.regions.includes(lead.region)) || (lead.country !== null && rule.countries.includes(lead.country));
}

function hasCapacity(candidate: RoutingCandidate): boolean {
  return candidate.leadCapacity === null || candidate.openLeads < candidate.leadCapacity;
}

function candidatesOf(ids: readonly string[], users: ReadonlyMap<string, RoutingCandidate>): RoutingCandidate[] {
  return [...new Set(ids)].flatMap((id) => users.get(id) ?? []);
}
