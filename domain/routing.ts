/**
 * Round-robin lead routing: the next eligible rep after the one who got the previous lead,
 * skipping reps who are inactive or at capacity. Pure, so the rule is testable without a
 * database; the activity supplies the candidates and persists the cursor.
 */
export interface RoutingCandidate {
  id: string;
  openLeads: number;
  leadCapacity: number | null;
}

export function pickNextRep(candidates: readonly RoutingCandidate[], lastAssignedId: string | null): RoutingCandidate | undefined {
  if (candidates.length === 0) return undefined;
  const ordered = [...candidates].sort((a, b) => a.id.localeCompare(b.id));
  const lastIndex = lastAssignedId ? ordered.findIndex((candidate) => candidate.id === lastAssignedId) : -1;
  // When the last rep left the pool, start after where they would have stood.
  const start = lastIndex >= 0 ? lastIndex + 1 : lastAssignedId ? ordered.findIndex((c) => c.id.localeCompare(lastAssignedId) > 0) : 0;
  for (let offset = 0; offset < ordered.length; offset += 1) {
    const candidate = ordered[((start < 0 ? 0 : start) + offset) % ordered.length]!;
    if (candidate.leadCapacity === null || candidate.openLeads < candidate.leadCapacity) return candidate;
  }
  return undefined;
}
