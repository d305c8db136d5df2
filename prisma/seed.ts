import { createApiKey } from '../api/api-keys';
import { loadConfig } from '../runtime/config';
import { createPrisma, type PrismaClient } from '../runtime/prisma';

export const demoFormKey = 'demo-contact';

export interface SeedResult {
  seeded: boolean;
  adminApiKey?: string;
  repApiKey?: string;
  formKey: string;
}

/**
 * Demo team, pipeline and website form for a fresh database. Does nothing when users already
 * exist, so it is safe to run at every start.
 */
export async function seedDemoData(prisma: PrismaClient): Promise<SeedResult> {
  if ((await prisma.user.count()) > 0) return { seeded: false, formKey: demoFormKey };

  const manager = await prisma.user.create({ data: { email: 'maria.manager@example.com', name: 'Maria Manager', role: 'manager', timeZone: 'Europe/Berlin' } });
  const admin = await prisma.user.create({ data: { email: 'alex.admin@example.com', name: 'Alex Admin', role: 'admin', timeZone: 'Europe/Berlin' } });
  await prisma.user.create({ data: { email: 'mark.marketer@example.com', name: 'Mark Marketer', role: 'marketer', timeZone: 'Europe/London' } });
  await prisma.user.create({ data: { email: 'sam.salesops@example.com', name: 'Sam Sales-Ops', role: 'sales_ops', timeZone: 'America/New_York' } });
  const rep = await prisma.user.create({
    data: { email: 'rita.rep@example.com', name: 'Rita Rep', role: 'rep', managerId: manager.id, timeZone: 'Europe/Berlin', leadCapacity: 200 },
  });
  await prisma.user.create({
    data: { email: 'rob.rep@example.com', name: 'Rob Rep', role: 'rep', managerId: manager.id, timeZone: 'America/New_York', leadCapacity: 200 },
  });

  await prisma.pipeline.create({
    data: {
      name: 'Sales',
      stages: {
        create: [
          { name: 'New', position: 1, probability: 10, idleLimitDays: 3 },
          { name: 'Contacted', position: 2, probability: 20, idleLimitDays: 5 },
          { name: 'Qualified', position: 3, probability: 40, idleLimitDays: 7 },
          { name: 'Proposal', position: 4, probability: 60, idleLimitDays: 7 },
          { name: 'Negotiation', position: 5, probability: 80, idleLimitDays: 10 },
          { name: 'Won', position: 6, probability: 100, isWon: true },
          { name: 'Lost', position: 7, probability: 0, isLost: true },
        ],
      },
    },
  });

  await prisma.form.create({
    data: {
      key: demoFormKey,
      name: 'Website contact form',
      allowedOrigins: ['http://localhost:3000', 'http://localhost:8080'],
      defaultCountry: 'US',
      contactRequirement: 'email_or_phone',
      allowCustomFields: true,
      grantsEmailConsent: true,
      source: 'website',
    },
  });

  const adminKey = await createApiKey(prisma, { name: 'demo admin', role: 'admin', userId: admin.id });
  const repKey = await createApiKey(prisma, { name: 'demo rep (Rita)', role: 'rep', userId: rep.id });
  return { seeded: true, adminApiKey: adminKey.key, repApiKey: repKey.key, formKey: demoFormKey };
}

if (require.main === module) {
  const prisma = createPrisma(loadConfig().DATABASE_URL);
  seedDemoData(prisma)
    .then((result) => console.log(JSON.stringify(result, null, 2)))
    .finally(() => prisma.$disconnect())
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
