import { z } from 'zod';
import { requirableFields, requiredFieldNameErrors, type RequirementEntity } from '../required-fields';
import { IdSchema, LifecycleStageSchema } from './common';

function requiredFieldsBody(entity: RequirementEntity) {
  const custom = entity === 'contact' ? ', or customFields.<name>' : '';
  return z
    .strictObject({
      fields: z
        .array(z.string().max(100))
        .max(50)
        .meta({ description: `Fields that must not be empty: ${requirableFields[entity].join(', ')}${custom}. An empty list requires nothing.` }),
    })
    .superRefine((body, ctx) => {
      for (const error of requiredFieldNameErrors(entity, body.fields)) ctx.addIssue({ code: 'custom', path: error.field.split('/').map((part, index) => (index === 0 ? part : Number(part))), message: error.message });
    });
}

export const ContactRequiredFieldsSchema = requiredFieldsBody('contact').meta({ id: 'ContactRequiredFields', example: { fields: ['lastName', 'companyId', 'customFields.budget'] } });
export const DealRequiredFieldsSchema = requiredFieldsBody('deal').meta({ id: 'DealRequiredFields', example: { fields: ['amount', 'expectedCloseDate'] } });
export type RequiredFieldsBody = z.infer<typeof ContactRequiredFieldsSchema>;

export const LifecycleStageParamsSchema = z.object({ stage: LifecycleStageSchema });
export const DealStageParamsSchema = z.object({ stageId: IdSchema });

export const RequiredFieldRuleSchema = z
  .object({
    id: IdSchema,
    lifecycleStage: LifecycleStageSchema.nullable().meta({ description: 'Set for a contact rule: the stage it guards.' }),
    stageId: IdSchema.nullable().meta({ description: 'Set for a deal rule: the pipeline stage it guards.' }),
    fields: z.array(z.string()),
    updatedAt: z.string(),
  })
  .meta({ id: 'RequiredFieldRule' });
export type RequiredFieldRuleView = z.infer<typeof RequiredFieldRuleSchema>;
