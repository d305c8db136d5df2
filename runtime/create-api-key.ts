import { parseArgs } from 'node:util';
import { createApiKey } from '../api/api-keys';
import { UserRoleSchema } from '../domain/schemas/common';
import { loadConfig } from './config';
import { createPrisma } from './prisma';

/**
 * `npm run api-key:create -- --name "zapier" --role marketer [--user-email rita@example.com]`
 * prints a new key once; only its hash is stored.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { name: { type: 'string' }, role: { type: 'string' }, 'user-email': { type: 'string' } },
  });
  const role = UserRoleSchema.safeParse(values.role);
  if (!values.name || !role.success) {
    console.error(`usage: npm run api-key:create -- --name <label> --role <${UserRoleSchema.options.join('|')}> [--user-email <email>]`);
    process.exit(2);
  }
  const prisma = createPrisma(loadConfig().DATABASE_URL);
  try {
    let userId: string | undefined;
    if (values['user-email']) {
      const user = await prisma.user.findUnique({ where: { email: values['user-email'].toLowerCase() } });
      if (!user) throw new Error(`No user with email ${values['user-email']}`);
      userId = user.id;
    } else if (role.data === 'rep') {
      throw new Error('A rep key must act for a user: pass --user-email');
    }
    const key = await createApiKey(prisma, { name: values.name, role: role.data, ...(userId ? { userId } : {}) });
    console.log(key.key);
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
