import { createHash, randomBytes } from 'node:crypto';
import type { UserRole } from '../domain/schemas/common';
import type { Prisma } from '../runtime/prisma';

/**
 * Keys look like `tp_<prefix>_<secret>`. The prefix is a public handle (shown in lists and
 * logs); only the SHA-256 of the whole key is stored. A fast hash is right here: the secret
 * has 256 bits of entropy, so there is nothing for a slow password hash to protect.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Takes a transaction too, so the API writes the key and its audit entry together. */
export async function createApiKey(
  db: Pick<Prisma.TransactionClient, 'apiKey'>,
  input: { name: string; role: UserRole; userId?: string },
): Promise<{ id: string; key: string; prefix: string; createdAt: Date }> {
  const prefix = randomBytes(6).toString('hex');
  const key = `tp_${prefix}_${randomBytes(32).toString('base64url')}`;
  const row = await db.apiKey.create({
    data: { name: input.name, role: input.role, userId: input.userId ?? null, prefix, hash: hashApiKey(key) },
  });
  return { id: row.id, key, prefix, createdAt: row.createdAt };
}
