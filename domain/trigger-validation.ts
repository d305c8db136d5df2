import { z } from 'zod';
import type { FieldError } from './errors';
import { isIpAddress, isLocalhostName, nonPublicRange } from './network-address';
import { CustomFieldValueSchema, IdSchema, LifecycleStageSchema, TimeZoneSchema } from './schemas/common';
import type { TriggerAction, TriggerDefinition, TriggerEvent } from './schemas/trigger';

/**
 * The checks of a trigger definition that are more than its shape: which fields an
 * `update_field` action may write and with what values, where a webhook may post, which
 * triggers may set an idle limit, and what a definition refers to (stages, users, sequences,
 * templates, template texts) so the service can check that each exists. Pure: the existence
 * checks themselves need the database.
 */

/** The deal fields a trigger may set, each with the values it accepts. */
export const dealFieldValues = {
  name: z.string().trim().min(1).max(200),
  amount: z.number().min(0).max(1e12).nullable(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR'),
  expectedCloseDate: z.iso.date().nullable(),
  ownerId: IdSchema,
  lostReason: z.string().trim().max(500).nullable(),
} as const;

/** The contact fields a trigger may set; any `customFields.<name>` as well. */
export const contactFieldValues = {
  lifecycleStage: LifecycleStageSchema,
  ownerId: IdSchema,
  source: z.string().trim().min(1).max(100).nullable(),
  timeZone: TimeZoneSchema.nullable(),
} as const;

const customFieldPattern = /^customFields\.([a-zA-Z][a-zA-Z0-9_]{0,63})$/;

export type UpdateTarget = 'deal' | 'contact';

/** The schema of the value a field takes, or null when the field is not writable. */
export function fieldValueSchema(target: UpdateTarget, field: string): z.ZodType | null {
  if (target === 'deal') return Object.hasOwn(dealFieldValues, field) ? dealFieldValues[field as keyof typeof dealFieldValues] : null;
  if (Object.hasOwn(contactFieldValues, field)) return contactFieldValues[field as keyof typeof contactFieldValues];
  return customFieldPattern.test(field) ? CustomFieldValueSchema : null;
}

/** The custom field an update writes (`customFields.plan` -> `plan`), or null for a column. */
export function customFieldName(field: string): string | null {
  return customFieldPattern.exec(field)?.[1] ?? null;
}

export function writableFields(target: UpdateTarget): string[] {
  return target === 'deal' ? Object.keys(dealFieldValues) : [...Object.keys(contactFieldValues), 'customFields.<name>'];
}

/** Problems of an update_field action's field and value, relative to the action. */
export function updateFieldProblems(action: { target: UpdateTarget; field: string; value: unknown }): FieldError[] {
  const schema = fieldValueSchema(action.target, action.field);
  if (!schema) return [{ field: 'field', message: `is not a writable ${action.target} field; use one of ${writableFields(action.target).join(', ')}` }];
  const parsed = schema.safeParse(action.value);
  if (parsed.success) return [];
  return [{ field: 'value', message: `${action.field}: ${parsed.error.issues[0]?.message ?? 'is not valid'}` }];
}

/**
 * Problems of a definition's idle limit and action count. Only an enter trigger sets an idle
 * limit: it is the idle clock of the stage entry the trigger fires on, and a leave trigger fires
 * as the deal goes to another stage. An idle limit is reason enough for a trigger ("big deals in
 * Proposal go idle after 3 days"), so such a trigger needs no action; any other needs one.
 */
export function idleLimitProblems(definition: { event: TriggerEvent; idleLimitDays?: number | undefined; actions: readonly unknown[] }): FieldError[] {
  if (definition.idleLimitDays === undefined) {
    return definition.actions.length === 0 ? [{ field: 'actions', message: 'must have at least one action, unless the trigger sets idleLimitDays' }] : [];
  }
  return definition.event === 'enter' ? [] : [{ field: 'idleLimitDays', message: 'is only for enter triggers: it sets the idle limit of the stage the deal enters' }];
}

export interface WebhookPolicy {
  /** Hosts that may be called over plain http (tests, a local relay); every other URL must be https. */
  httpAllowedHosts: readonly string[];
  /** Off (the default): no private, loopback or link-local targets (WEBHOOK_ALLOW_PRIVATE_NETWORKS). */
  allowPrivateNetworks: boolean;
}

/**
 * Why this URL may not be called, or null when it may. Without allowPrivateNetworks, a host
 * that is a non-public IP literal or `localhost` is refused here; names that resolve to such
 * addresses are refused when the worker delivers (activities/webhook-transport.ts), where
 * every address is checked again, since DNS may answer differently by then.
 */
export function webhookUrlProblem(raw: string, policy: WebhookPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials; the request is signed instead';
  if (url.protocol === 'http:') {
    if (!policy.httpAllowedHosts.includes(url.hostname.toLowerCase())) return `must use https (http only to the hosts in WEBHOOK_HTTP_ALLOWED_HOSTS)`;
  } else if (url.protocol !== 'https:') return 'must be an https URL';
  if (policy.allowPrivateNetworks) return null;
  const host = urlHost(url);
  const range = isLocalhostName(host) ? 'loopback' : isIpAddress(host) ? nonPublicRange(host) : null;
  return range ? `must not point at a private address (${host} is ${range}; only public hosts unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is on)` : null;
}

/** The URL's host as a name or a bare IP address (an IPv6 literal without its brackets). */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** What a definition refers to, each with the field path that names it, for the existence checks. */
export interface TriggerReferences {
  stages: Array<{ id: string; field: string }>;
  pipelines: Array<{ id: string; field: string }>;
  users: Array<{ id: string; field: string }>;
  sequences: Array<{ id: string; field: string }>;
  emailTemplates: Array<{ key: string; field: string }>;
}

export function triggerReferences(definition: TriggerDefinition): TriggerReferences {
  const refs: TriggerReferences = { stages: [{ id: definition.stageId, field: 'stageId' }], pipelines: [], users: [], sequences: [], emailTemplates: [] };
  const { filters } = definition;
  if (filters.pipelineId) refs.pipelines.push({ id: filters.pipelineId, field: 'filters/pipelineId' });
  filters.ownerIds?.forEach((id, index) => refs.users.push({ id, field: `filters/ownerIds/${index}` }));
  definition.actions.forEach((action, index) => {
    const at = `actions/${index}`;
    switch (action.type) {
      case 'create_task':
        if (action.assignee.type === 'user') refs.users.push({ id: action.assignee.userId, field: `${at}/assignee/userId` });
        break;
      case 'send_email':
      case 'notify_owner':
        refs.emailTemplates.push({ key: action.template, field: `${at}/template` });
        break;
      case 'enroll_in_sequence':
        refs.sequences.push({ id: action.sequenceId, field: `${at}/sequenceId` });
        break;
      case 'update_field':
        if (action.field === 'ownerId' && typeof action.value === 'string') refs.users.push({ id: action.value, field: `${at}/value` });
        break;
      case 'webhook':
        break;
      default:
        assertNever(action);
    }
  });
  return refs;
}

/** Every Handlebars text of a definition (task titles and descriptions, webhook body strings) with its path. */
export function triggerTexts(definition: TriggerDefinition): Array<{ field: string; source: string }> {
  const texts: Array<{ field: string; source: string }> = [];
  definition.actions.forEach((action: TriggerAction, index) => {
    const at = `actions/${index}`;
    if (action.type === 'create_task') {
      texts.push({ field: `${at}/title`, source: action.title });
      if (action.description) texts.push({ field: `${at}/description`, source: action.description });
    }
    if (action.type === 'webhook' && action.body) collectStrings(action.body, `${at}/body`, texts);
  });
  return texts;
}

function collectStrings(value: unknown, path: string, into: Array<{ field: string; source: string }>): void {
  if (typeof value === 'string') into.push({ field: path, source: value });
  else if (Array.isArray(value)) value.forEach((item, index) => collectStrings(item, `${path}/${index}`, into));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) collectStrings(item, `${path}/${key}`, into);
  }
}

function assertNever(value: never): never {
  throw new Error(`Unhandled trigger action ${JSON.stringify(value)}`);
}
