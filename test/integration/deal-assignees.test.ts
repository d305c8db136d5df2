import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { firstActiveUser } from '../../activities/assignees';
import { createDealIdleActivities } from '../../activities/deal-idle';
import { seedDemoData } from '../../prisma/seed';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createDeal } from '../support/deals';

/**
 * Who gets work meant for a deactivated owner or manager (activities/assignees.ts): the idle
 * ladder's rungs here, a trigger's owner and owner_manager tasks through the same function.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await seedDemoData(db.prisma);
}, 60_000);
afterAll(() => db?.drop());

describe('work meant for a deactivated user', () => {
  it('goes to the nearest active manager above them, and to nobody when the chain runs out', async () => {
    const user = (email: string) => db.prisma.user.findUniqueOrThrow({ where: { email } });
    const [rita, maria] = await Promise.all([user('rita.rep@example.com'), user('maria.manager@example.com')]);
    const sam = await db.prisma.user.create({ data: { email: 'sam.senior@example.com', name: 'Sam Senior', role: 'manager', timeZone: 'Europe/Berlin' } });
    await db.prisma.user.update({ where: { id: maria.id }, data: { managerId: sam.id } });

    expect(await firstActiveUser(db.prisma, rita.id)).toBe(rita.id);
    await db.prisma.user.update({ where: { id: rita.id }, data: { active: false } });
    expect(await firstActiveUser(db.prisma, rita.id)).toBe(maria.id);
    await db.prisma.user.update({ where: { id: maria.id }, data: { active: false } });
    expect(await firstActiveUser(db.prisma, rita.id)).toBe(sam.id);

    const ladder = createDealIdleActivities({ prisma: db.prisma });
    const deal = await createDeal(db.prisma, { stage: 'Proposal', at: new Date(), name: 'Orphaned' });
    const owner = await ladder.escalateIdleDeal({ dealId: deal.id, level: 1, stepKey: `deal:${deal.id}:idle:test:0:1`, idleDays: 7, nextPeriod: { from: new Date().toISOString(), businessDays: 7 } });
    const manager = await ladder.escalateIdleDeal({ dealId: deal.id, level: 2, stepKey: `deal:${deal.id}:idle:test:0:2`, idleDays: 14 });
    expect([owner, manager]).toMatchObject([{ status: 'escalated', assigneeId: sam.id }, { status: 'escalated', assigneeId: sam.id }]);
    const tasks = await db.prisma.task.findMany({ where: { dealId: deal.id }, orderBy: { createdAt: 'asc' } });
    expect(tasks.map((task) => [task.assigneeId, task.type])).toEqual([[sam.id, 'follow_up'], [sam.id, 'review']]);

    await db.prisma.user.update({ where: { id: sam.id }, data: { active: false } });
    expect(await firstActiveUser(db.prisma, rita.id)).toBeNull();
  });
});
