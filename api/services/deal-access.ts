import type { Prisma, PrismaClient } from '../../runtime/prisma';
import { actingUserId, type Principal } from '../middleware/auth';
import { HttpProblem } from '../problem';

/**
 * Whose deals a caller may see and change: reps their own, managers their own and their direct
 * reports', sales ops and admins everyone's. The same scope limits deal lists, single deals,
 * activities on deals and report numbers. A deal outside it answers 404, as tasks do: to a
 * rep, another rep's deal looks like a deal that does not exist.
 */
export type DealScope = { all: true } | { all: false; userId: string; ownerIds: string[] };

export async function dealScopeOf(prisma: PrismaClient | Prisma.TransactionClient, principal: Principal): Promise<DealScope> {
  if (principal.role === 'admin' || principal.role === 'sales_ops') return { all: true };
  const userId = actingUserId(principal);
  if (principal.role !== 'manager') return { all: false, userId, ownerIds: [userId] };
  const reports = await prisma.user.findMany({ where: { managerId: userId }, select: { id: true } });
  return { all: false, userId, ownerIds: [userId, ...reports.map((report) => report.id)] };
}

export function inScope(scope: DealScope, ownerId: string): boolean {
  return scope.all || scope.ownerIds.includes(ownerId);
}

/** Prisma filter on deals for this scope. */
export function dealsInScope(scope: DealScope): Prisma.DealWhereInput {
  return scope.all ? {} : { ownerId: { in: scope.ownerIds } };
}

/**
 * The owners a list or report covers: the requested one (`me` is the caller) if the scope
 * allows it, else the whole scope (null: everyone). Reps always get their own; a manager
 * asking for someone outside the team gets 403.
 */
export function ownerFilter(scope: DealScope, principal: Principal, requested: string | undefined): string[] | null {
  if (principal.role === 'rep' && !scope.all) return [scope.userId];
  if (requested === undefined) return scope.all ? null : scope.ownerIds;
  const ownerId = requested === 'me' ? actingUserId(principal) : requested;
  if (!inScope(scope, ownerId)) {
    throw new HttpProblem(403, 'forbidden', 'Forbidden.', 'You can see your own deals and your reports\' deals only.', [{ field: 'query.ownerId', message: 'is not you or one of your reports' }]);
  }
  return [ownerId];
}
