import { z } from 'zod';
import { idleLimitProblems, webhookUrlProblem, updateFieldProblems, type WebhookPolicy } from '../trigger-validation';
import { CursorQuerySchema, CustomFieldValueSchema, IdleLimitDaysSchema, IdSchema, LifecycleStageSchema, pageSchema } from './common';
import { taskPriorities, taskTypes } from './task';
import { DealTemplateVariablesSchema, TemplateContextSchema, TemplateKeySchema } from './template';

/**
 * A stage-move trigger is data that sales ops write: when a deal enters or leaves a stage (and
 * passes the optional filters), its actions run in order, each exactly once per stage change,
 * inside the deal's workflow (workflows/deal-lifecycle.ts). An enter trigger may also set the
 * idle limit of the stage entry it fires on. Definitions are versioned like sequences; a firing
 * runs the version that was published when it matched.
 */
export const triggerEvents = ['enter', 'leave'] as const;
export type TriggerEvent = (typeof triggerEvents)[number];

const handlebarsText = (max: number, example: string) =>
  z.string().trim().min(1, 'must not be blank').max(max).meta({ description: 'Handlebars over deal, contact, owner and stageChange (see TriggerTextContext).', example });

export const TaskAssigneeSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('owner') }),
    z.strictObject({ type: z.literal('owner_manager') }),
    z.strictObject({ type: z.literal('user'), userId: IdSchema }),
  ])
  .meta({ id: 'TriggerTaskAssignee', description: 'The deal\'s owner, the owner\'s manager, or a named user.' });

/** Builds the action schemas; the webhook URL rule depends on the deployment's http allow-list. */
function actionSchemas(policy: WebhookPolicy) {
  return [
    z.strictObject({
      type: z.literal('create_task'),
      title: handlebarsText(200, 'Send the contract for {{deal.name}}'),
      description: handlebarsText(5000, 'Amount: {{formatCurrency deal.amount deal.currency}}').optional(),
      dueInBusinessDays: z.number().int().min(0).max(60).default(1).meta({ description: 'Business days (Mon-Fri) in the assignee\'s time zone.' }),
      priority: z.enum(taskPriorities).default('normal'),
      taskType: z.enum(taskTypes).default('follow_up'),
      assignee: TaskAssigneeSchema.default({ type: 'owner' }),
    }),
    z.strictObject({
      type: z.literal('send_email'),
      template: TemplateKeySchema,
      transactional: z.boolean().default(false).meta({ description: 'false (marketing): needs the contact\'s email consent and carries an unsubscribe link; true: an answer the contact expects, sent unless they revoked consent.' }),
    }),
    z.strictObject({ type: z.literal('notify_owner'), template: TemplateKeySchema.meta({ description: 'Email template sent to the owner\'s user address (transactional).' }) }),
    z.strictObject({ type: z.literal('enroll_in_sequence'), sequenceId: IdSchema }),
    z
      .strictObject({
        type: z.literal('update_field'),
        target: z.enum(['deal', 'contact']),
        field: z.string().max(80).meta({ description: 'deal: name, amount, currency, expectedCloseDate, ownerId, lostReason; contact: lifecycleStage, ownerId, source, timeZone, customFields.<name>.' }),
        value: CustomFieldValueSchema,
      })
      .superRefine((action, ctx) => {
        for (const problem of updateFieldProblems(action)) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
      }),
    z
      .strictObject({
        type: z.literal('webhook'),
        url: z.string().max(2000).meta({ example: 'https://hooks.example.com/touchpoint' }),
        body: z
          .record(z.string(), z.unknown())
          .optional()
          .meta({ description: 'The JSON to post; every string in it is Handlebars over the TriggerTextContext. Without it the standard event (TriggerWebhookEvent) is posted.' }),
      })
      .superRefine((action, ctx) => {
        const problem = webhookUrlProblem(action.url, policy);
        if (problem) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
      }),
  ] as const;
}

export const AmountRangeSchema = z
  .strictObject({ min: z.number().min(0).optional(), max: z.number().min(0).optional() })
  .refine((range) => range.min !== undefined || range.max !== undefined, 'give min, max or both')
  .refine((range) => range.min === undefined || range.max === undefined || range.min <= range.max, { message: 'must not be below min', path: ['max'] });

export const TriggerFiltersSchema = z
  .strictObject({
    pipelineId: IdSchema.optional(),
    amount: AmountRangeSchema.optional().meta({ description: 'Inclusive; a deal without an amount never matches a range.' }),
    ownerIds: z.array(IdSchema).min(1).max(100).optional(),
    contactLifecycleStages: z.array(LifecycleStageSchema).min(1).optional().meta({ description: 'A deal without a contact never matches.' }),
  })
  .meta({ id: 'TriggerFilters', description: 'Every filter given must match (AND).' });
export type TriggerFilters = z.infer<typeof TriggerFiltersSchema>;

/** The definition schema under a webhook policy; the API builds it with the configured allow-list and private-network switch. */
export function triggerDefinitionSchema(policy: WebhookPolicy = { httpAllowedHosts: [], allowPrivateNetworks: false }) {
  return z
    .strictObject({
      event: z.enum(triggerEvents).meta({ description: '`enter`: the deal moved into `stageId`; `leave`: it moved out of it.' }),
      stageId: IdSchema,
      filters: TriggerFiltersSchema.default({}),
      idleLimitDays: IdleLimitDaysSchema.optional().meta({
        description: '`enter` only: business days without a touch before a deal that entered the stage through this trigger is idle, instead of the stage\'s `idleLimitDays` (shorter or longer). When several matching triggers set one, the shortest applies.',
        example: 3,
      }),
      actions: z
        .array(z.discriminatedUnion('type', actionSchemas(policy)))
        .max(20)
        .default([])
        .meta({ description: 'Run in order; each runs once per stage change. At least one, unless the trigger sets `idleLimitDays`.' }),
    })
    .superRefine((definition, ctx) => {
      for (const problem of idleLimitProblems(definition)) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
    })
    .meta({ id: 'TriggerDefinition' });
}

export const TriggerDefinitionSchema = triggerDefinitionSchema();
export type TriggerDefinition = z.infer<typeof TriggerDefinitionSchema>;
export type TriggerAction = TriggerDefinition['actions'][number];
export type TriggerActionType = TriggerAction['type'];
export type TaskAssignee = z.infer<typeof TaskAssigneeSchema>;

/** What trigger texts (task titles and descriptions, webhook body strings) may reference. */
export const TriggerTextContextSchema = z
  .strictObject({
    deal: DealTemplateVariablesSchema.extend({ id: z.string() }),
    contact: TemplateContextSchema.shape.contact.unwrap().nullable(),
    owner: TemplateContextSchema.shape.owner,
    stageChange: z.strictObject({ from: z.string().nullable(), to: z.string(), at: z.string(), by: z.string().nullable() }),
  })
  .meta({ id: 'TriggerTextContext', description: 'Variables of trigger texts: stage names in stageChange.from/to, `by` is the name of the user who moved the deal.' });

/** The Touchpoint-Event of a webhook: which way the deal moved. */
export const webhookEventTypes = ['deal.stage_entered', 'deal.stage_left'] as const;

/** The JSON a webhook action posts when it has no `body` of its own. */
export const TriggerWebhookEventSchema = z
  .object({
    id: IdSchema.meta({ description: 'The delivery id, also in the Touchpoint-Delivery header: the same on every retry of this delivery and on every redelivery of it.' }),
    type: z.enum(webhookEventTypes),
    createdAt: z.string(),
    trigger: z.object({ id: IdSchema, name: z.string(), version: z.number().int() }),
    stageChange: z.object({ id: IdSchema, fromStageId: IdSchema.nullable(), toStageId: IdSchema, at: z.string(), byUserId: IdSchema.nullable() }),
    deal: z.object({
      id: IdSchema,
      name: z.string(),
      amount: z.number().nullable(),
      currency: z.string(),
      pipelineId: IdSchema,
      stageId: IdSchema,
      status: z.enum(['open', 'won', 'lost']),
      ownerId: IdSchema,
      contactId: IdSchema.nullable(),
    }),
    contact: z.object({ id: IdSchema, firstName: z.string().nullable(), lastName: z.string().nullable(), email: z.string().nullable() }).nullable(),
    owner: z.object({ id: IdSchema, name: z.string(), email: z.string() }),
  })
  .meta({ id: 'TriggerWebhookEvent' });
export type TriggerWebhookEvent = z.infer<typeof TriggerWebhookEventSchema>;

export const triggerVersionStatuses = ['draft', 'published'] as const;

const name = z.string().trim().min(1, 'must not be blank').max(200);
const description = z.string().trim().max(2000);

export function triggerWriteSchemas(policy?: WebhookPolicy) {
  const definition = policy ? triggerDefinitionSchema(policy) : TriggerDefinitionSchema;
  return {
    create: z
      .strictObject({
        name,
        description: description.optional(),
        definition,
        publish: z.boolean().default(false).meta({ description: 'Publish version 1 at once (checks that every stage, user, sequence and template it names exists).' }),
        active: z.boolean().default(true),
      })
      .meta({ id: 'TriggerCreate' }),
    update: z
      .strictObject({
        name: name.optional(),
        description: description.nullable().optional(),
        definition,
        publish: z.boolean().default(false),
      })
      .meta({ id: 'TriggerUpdate', description: 'Saves the definition as a new version; published versions never change.' }),
  };
}

const defaultWriteSchemas = triggerWriteSchemas();
export const TriggerCreateSchema = defaultWriteSchemas.create;
export const TriggerUpdateSchema = defaultWriteSchemas.update;
export type TriggerCreate = z.infer<typeof TriggerCreateSchema>;
export type TriggerUpdate = z.infer<typeof TriggerUpdateSchema>;

export const TriggerPublishSchema = z
  .strictObject({ version: z.number().int().min(1).optional().meta({ description: 'Default: the latest version. An earlier version may be published again (a rollback).' }) })
  .meta({ id: 'TriggerPublish' });

export const TriggerVersionParamsSchema = z.object({ id: IdSchema, version: z.coerce.number().int().min(1) });

export const TriggerListQuerySchema = CursorQuerySchema.extend({
  active: z.stringbool().optional(),
  includeArchived: z.stringbool().default(false),
}).strict();

export const TriggerVersionSchema = z
  .object({
    version: z.number().int(),
    status: z.enum(triggerVersionStatuses),
    definition: TriggerDefinitionSchema,
    publishedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'TriggerVersion' });
export type TriggerVersionView = z.infer<typeof TriggerVersionSchema>;

export const TriggerSchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    description: z.string().nullable(),
    active: z.boolean(),
    archivedAt: z.string().nullable(),
    latestVersion: z.number().int(),
    publishedVersion: z.number().int().nullable().meta({ description: 'The version that fires; null while every version is a draft.' }),
    latest: TriggerVersionSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Trigger' });
export type TriggerView = z.infer<typeof TriggerSchema>;

export const TriggerCreatedSchema = TriggerSchema.extend({
  signingSecret: z.string().meta({ description: 'Key of the HMAC signature on this trigger\'s webhook calls. Shown here and at GET /v1/triggers/{id}/signing-secret.' }),
}).meta({ id: 'TriggerCreated' });

export const SigningSecretSchema = z.object({ signingSecret: z.string() }).meta({ id: 'TriggerSigningSecret' });

export const triggerRunStatuses = ['done', 'skipped', 'failed'] as const;

export const TriggerRunListQuerySchema = CursorQuerySchema.extend({
  dealId: IdSchema.optional(),
  stageChangeId: IdSchema.optional(),
  status: z.enum(triggerRunStatuses).optional(),
}).strict();

export const TriggerRunSchema = z
  .object({
    id: IdSchema,
    triggerId: IdSchema,
    version: z.number().int(),
    dealId: IdSchema,
    stageChangeId: IdSchema,
    actionIndex: z.number().int(),
    actionType: z.string(),
    status: z.enum(triggerRunStatuses),
    detail: z.record(z.string(), z.unknown()).meta({ description: 'What the action did: taskId, messageId, enrollmentId, deliveryId, or the reason it was skipped or failed.' }),
    at: z.string(),
  })
  .meta({ id: 'TriggerRun' });

export const webhookDeliveryStatuses = ['pending', 'delivered', 'failed'] as const;

export const WebhookDeliveryListQuerySchema = CursorQuerySchema.extend({
  status: z.enum(webhookDeliveryStatuses).optional(),
  dealId: IdSchema.optional(),
  triggerId: IdSchema.optional(),
}).strict();

export const WebhookDeliverySchema = z
  .object({
    id: IdSchema,
    idempotencyKey: z.string(),
    url: z.string(),
    event: z.enum(webhookEventTypes).meta({ description: 'Sent as Touchpoint-Event.' }),
    status: z.enum(webhookDeliveryStatuses),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    triggerId: IdSchema.nullable(),
    dealId: IdSchema.nullable(),
    redeliveryOf: IdSchema.nullable().meta({ description: 'On a redelivery: the first delivery of the same payload, whose id is sent as Touchpoint-Delivery.' }),
    payload: z.unknown(),
    createdAt: z.string(),
    updatedAt: z.string(),
    deliveredAt: z.string().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

export const TriggerPageSchema = pageSchema(TriggerSchema, 'TriggerPage');
export const TriggerVersionListSchema = z.object({ data: z.array(TriggerVersionSchema) }).meta({ id: 'TriggerVersionList' });
export const TriggerRunPageSchema = pageSchema(TriggerRunSchema, 'TriggerRunPage');
export const WebhookDeliveryPageSchema = pageSchema(WebhookDeliverySchema, 'WebhookDeliveryPage');
