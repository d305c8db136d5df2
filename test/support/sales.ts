import type { PrismaClient } from '../../runtime/prisma';

/** The seeded sales team and the stages of the seeded "Sales" pipeline, by name. */
export async function salesFixture(prisma: PrismaClient) {
  const user = (email: string) => prisma.user.findUniqueOrThrow({ where: { email } });
  const [rita, rob, maria, sam] = await Promise.all([
    user('rita.rep@example.com'),
    user('rob.rep@example.com'),
    user('maria.manager@example.com'),
    user('sam.salesops@example.com'),
  ]);
  const pipeline = await prisma.pipeline.findFirstOrThrow({ where: { name: 'Sales', archivedAt: null }, include: { stages: { orderBy: { position: 'asc' } } } });
  const stage = (name: string) => {
    const found = pipeline.stages.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`no stage ${name} in the seeded pipeline`);
    return found;
  };
  return { rita, rob, maria, sam, pipeline, stage };
}
