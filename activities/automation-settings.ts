import { settingValue, type AutomationSetting, type AutomationSettingKey } from '../domain/schemas/automation-settings';
import type { Prisma } from '../runtime/prisma';

/** One automation setting with its defaults filled in; shared by the API and the activities. */
export async function readAutomationSetting<K extends AutomationSettingKey>(db: Pick<Prisma.TransactionClient, 'automationSetting'>, key: K): Promise<AutomationSetting<K>> {
  const row = await db.automationSetting.findUnique({ where: { key } });
  return settingValue(key, row?.value);
}
