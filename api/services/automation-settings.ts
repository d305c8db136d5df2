import { readAutomationSetting } from '../../activities/automation-settings';
import { ValidationError } from '../../domain/errors';
import type { AutomationSetting, AutomationSettingKey } from '../../domain/schemas/automation-settings';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import type { AuditContext } from './contacts';
import { enrollableSequenceProblem } from './sequences';

export function getAutomationSetting<K extends AutomationSettingKey>(prisma: PrismaClient, key: K): Promise<AutomationSetting<K>> {
  return readAutomationSetting(prisma, key);
}

/** Replaces a setting (validated by its schema, defaults filled in) and audits the change. */
export async function putAutomationSetting<K extends AutomationSettingKey>(
  prisma: PrismaClient,
  key: K,
  value: AutomationSetting<K>,
  audit: AuditContext & { userId: string | null },
): Promise<AutomationSetting<K>> {
  return prisma.$transaction(async (tx) => {
    await assertReferences(tx, key, value);
    const before = await tx.automationSetting.findUnique({ where: { key } });
    const json = value as Prisma.InputJsonObject;
    await tx.automationSetting.upsert({ where: { key }, create: { key, value: json, updatedById: audit.userId }, update: { value: json, updatedById: audit.userId } });
    await tx.auditLog.create({
      data: {
        actorType: 'api_key',
        actorId: audit.actorId,
        action: 'automation_setting.updated',
        entityType: 'automation_setting',
        entityId: key,
        ...(before ? { before: before.value as Prisma.InputJsonObject } : {}),
        after: json,
        requestId: audit.requestId,
      },
    });
    return value;
  });
}

/** The re-engagement sequence must be one that can enroll: it exists, is published and not archived. */
async function assertReferences(tx: Prisma.TransactionClient, key: AutomationSettingKey, value: AutomationSetting<AutomationSettingKey>): Promise<void> {
  if (key !== 'reengagement') return;
  const { sequenceId } = value as AutomationSetting<'reengagement'>;
  if (!sequenceId) return;
  const problem = await enrollableSequenceProblem(tx, sequenceId);
  if (problem) throw new ValidationError([{ field: 'sequenceId', message: problem }]);
}
