import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { automationSettingKeys, automationSettingSchemas, type AutomationSettingKey } from '../../domain/schemas/automation-settings';
import type { UserRole } from '../../domain/schemas/common';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { getAutomationSetting, putAutomationSetting } from '../services/automation-settings';
import { parseBody } from '../validate';

const readers: UserRole[] = ['admin', 'marketer', 'sales_ops', 'manager', 'rep'];
/** Sales ops own scoring; marketers also choose the re-engagement sequence. */
const writers: Record<AutomationSettingKey, UserRole[]> = {
  scoring: ['admin', 'sales_ops'],
  reengagement: ['admin', 'sales_ops', 'marketer'],
};
const summaries: Record<AutomationSettingKey, string> = {
  scoring: 'Lead scoring: the half-life of points and the MQL threshold',
  reengagement: 'Re-engagement of quiet customers: when they are at risk, the sequence they are enrolled in, when they churn',
};
const notes: Record<AutomationSettingKey, string> = {
  scoring: 'Changes apply to the next event each contact receives.',
  reengagement: 'A contact reads these when its quiet-customer timer is armed (at each purchase) and again when the timer fires: a longer period delays a timer already armed, a shorter one applies from the next purchase. `sequenceId` must name a published, unarchived sequence (422 otherwise).',
};

export function registerSettingsDocs(registry: OpenAPIRegistry): void {
  const tags = ['Automation settings'];
  for (const key of automationSettingKeys) {
    const schema = automationSettingSchemas[key];
    registry.registerPath({
      method: 'get', path: `/v1/settings/${key}`, tags, summary: summaries[key], description: notes[key],
      responses: { 200: jsonBody('The setting, defaults filled in', schema), ...problemResponses(401, 403) },
    });
    registry.registerPath({
      method: 'put', path: `/v1/settings/${key}`, tags, summary: `Replace: ${summaries[key].charAt(0).toLowerCase()}${summaries[key].slice(1)}`,
      description: `Fields left out take their defaults. Roles: ${writers[key].join(', ')}. ${notes[key]}`,
      request: { body: { content: { 'application/json': { schema } } } },
      responses: { 200: jsonBody('Saved', schema), ...problemResponses(400, 401, 403, 415, 422) },
    });
  }
}

export function settingsRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();
  for (const key of automationSettingKeys) {
    router.get(`/${key}`, requireRole(...readers), async (_req, res) => {
      res.json(await getAutomationSetting(prisma, key));
    });
    router.put(`/${key}`, requireRole(...writers[key]), async (req, res) => {
      const value = parseBody(automationSettingSchemas[key], req);
      const principal = req.principal!;
      res.json(await putAutomationSetting(prisma, key, value, { actorId: principal.apiKeyId, userId: principal.userId, requestId: String(req.id) }));
    });
  }
  return router;
}
