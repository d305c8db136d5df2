import type { z } from 'zod';
import { ReengagementSettingsSchema } from './lifecycle';
import { ScoringSettingsSchema } from './scoring';

/** Automation settings by key (table automation_settings); each key has its own schema and defaults. */
export const automationSettingSchemas = {
  scoring: ScoringSettingsSchema,
  reengagement: ReengagementSettingsSchema,
} as const;
export type AutomationSettingKey = keyof typeof automationSettingSchemas;
export type AutomationSetting<K extends AutomationSettingKey> = z.output<(typeof automationSettingSchemas)[K]>;
export const automationSettingKeys = Object.keys(automationSettingSchemas) as AutomationSettingKey[];

/**
 * A stored value as the code reads it: defaults fill fields added since it was written. A value
 * that no longer parses (a later schema tightened a bound) reads as the defaults rather than
 * stopping every automation that depends on it.
 */
export function settingValue<K extends AutomationSettingKey>(key: K, stored: unknown): AutomationSetting<K> {
  const schema = automationSettingSchemas[key];
  const parsed = schema.safeParse(stored ?? {});
  return (parsed.success ? parsed.data : schema.parse({})) as AutomationSetting<K>;
}
