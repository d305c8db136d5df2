import { z } from 'zod';
import { stageListProblems } from '../pipeline-rules';
import { IdleLimitDaysSchema, IdSchema } from './common';

const PipelineNameSchema = z.string().trim().min(1, 'must not be blank').max(100);

const stageFields = {
  name: z.string().trim().min(1, 'must not be blank').max(60),
  probability: z.number().int().min(0).max(100).meta({ description: 'Win probability in percent; the forecast weights open deals by it.' }),
  idleLimitDays: IdleLimitDaysSchema.nullable().default(null).meta({ description: 'Days without a meaningful touch before a deal in this stage is idle; null: never.' }),
  isWon: z.boolean().default(false),
  isLost: z.boolean().default(false),
};

const NewStageSchema = z.strictObject(stageFields).meta({ id: 'NewStage' });
const StageDefinitionSchema = z
  .strictObject({ id: IdSchema.optional().meta({ description: 'An existing stage of this pipeline; leave it out for a new stage.' }), ...stageFields })
  .meta({ id: 'StageDefinition' });

/** The pipeline invariants (domain/pipeline-rules.ts), reported as zod issues on their fields. */
function checkStages(stages: Array<z.output<typeof StageDefinitionSchema>> | undefined, ctx: z.RefinementCtx): void {
  if (!stages) return;
  for (const problem of stageListProblems(stages)) {
    ctx.addIssue({ code: 'custom', path: problem.field.split('/').map((part) => (/^\d+$/.test(part) ? Number(part) : part)), message: problem.message });
  }
}

const stagesDescription = 'The stages in order (the first is where new deals start by default). Rules: at least one open stage, exactly one won (probability 100) and one lost stage (probability 0), both after every open stage and without idle limits; unique names.';

export const PipelineCreateSchema = z
  .strictObject({
    name: PipelineNameSchema,
    stages: z.array(NewStageSchema).max(30).meta({ description: stagesDescription }),
  })
  .superRefine((pipeline, ctx) => checkStages(pipeline.stages, ctx))
  .meta({ id: 'PipelineCreate' });
export type PipelineCreate = z.infer<typeof PipelineCreateSchema>;

export const PipelineUpdateSchema = z
  .strictObject({
    name: PipelineNameSchema.optional(),
    stages: z
      .array(StageDefinitionSchema)
      .max(30)
      .optional()
      .meta({
        description: `${stagesDescription} The complete new list: a stage with an \`id\` keeps it (rename, reorder, new probability or limit), one without is added, an existing stage left out is removed.`,
      }),
    stageMapping: z
      .record(IdSchema, IdSchema)
      .optional()
      .meta({
        description: 'For each removed stage that holds open deals: the kept stage (an open one of this pipeline) they move to, `{"<removed stage id>": "<kept stage id>"}`. Each moved deal records a stage change.',
      }),
  })
  .superRefine((patch, ctx) => {
    if (Object.keys(patch).length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'the body must change at least one field' });
    if (patch.stageMapping && !patch.stages) ctx.addIssue({ code: 'custom', path: ['stageMapping'], message: 'only applies together with stages' });
    checkStages(patch.stages, ctx);
  })
  .meta({ id: 'PipelineUpdate' });
export type PipelineUpdate = z.infer<typeof PipelineUpdateSchema>;

export const PipelineListQuerySchema = z
  .strictObject({
    includeArchived: z
      .enum(['true', 'false'])
      .default('false')
      .transform((value) => value === 'true'),
  });

export const StageSchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    position: z.number().int(),
    probability: z.number().int(),
    idleLimitDays: z.number().int().nullable(),
    isWon: z.boolean(),
    isLost: z.boolean(),
    openDeals: z.number().int().meta({ description: 'Open deals in this stage now.' }),
  })
  .meta({ id: 'Stage' });

export const PipelineSchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    stages: z.array(StageSchema),
    archivedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Pipeline' });
export type PipelineView = z.infer<typeof PipelineSchema>;
