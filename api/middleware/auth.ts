import type { NextFunction, Request, Response } from 'express';
import type { UserRole } from '../../domain/schemas/common';
import type { PrismaClient } from '../../runtime/prisma';
import { hashApiKey } from '../api-keys';
import { HttpProblem } from '../problem';

export interface Principal {
  apiKeyId: string;
  role: UserRole;
  /** The user the key acts for; reps' keys always have one, service keys may not. */
  userId: string | null;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

const unauthenticated = (detail: string) =>
  new HttpProblem(401, 'unauthenticated', 'Authentication required.', detail, undefined, {
    'WWW-Authenticate': 'Bearer realm="touchpoint"',
  });

/** 401: no valid key. Role checks (403) happen per route with `requireRole`. */
export function authenticate(prisma: PrismaClient) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization');
    if (!header) throw unauthenticated('Send an API key as `Authorization: Bearer <key>`.');
    const match = /^Bearer\s+(tp_[a-f0-9]{12}_[A-Za-z0-9_-]{43})$/.exec(header.trim());
    if (!match) throw unauthenticated('The Authorization header is not a Touchpoint API key.');
    const apiKey = await prisma.apiKey.findUnique({ where: { hash: hashApiKey(match[1]!) }, include: { user: { select: { active: true } } } });
    if (!apiKey || apiKey.revokedAt) throw unauthenticated('The API key is unknown or revoked.');
    // Deactivation revokes a user's keys; this also stops keys made for them later (npm run api-key:create).
    if (apiKey.user && !apiKey.user.active) throw unauthenticated('The API key belongs to a deactivated user.');
    req.principal = { apiKeyId: apiKey.id, role: apiKey.role, userId: apiKey.userId };
    next();
  };
}

export function requireRole(...roles: UserRole[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const principal = req.principal;
    if (!principal) throw unauthenticated('Send an API key as `Authorization: Bearer <key>`.');
    if (!roles.includes(principal.role)) {
      throw new HttpProblem(403, 'forbidden', 'Forbidden.', `This needs one of the roles ${roles.join(', ')}; your key has the role ${principal.role}.`);
    }
    next();
  };
}

export function principalOf(req: Request): Principal {
  if (!req.principal) throw unauthenticated('Send an API key as `Authorization: Bearer <key>`.');
  return req.principal;
}

/**
 * The user a key acts for. "My" tasks and deals, and a manager's team, are those of the key's
 * user, so views scoped that way need one; service keys without a user are told so (400).
 */
export function actingUserId(principal: Principal): string {
  if (!principal.userId) {
    throw new HttpProblem(400, 'no-user', 'This API key acts for no user.', 'Reps\' and managers\' views are those of the key\'s user: use a key created for a user, or an admin or sales ops key.');
  }
  return principal.userId;
}
