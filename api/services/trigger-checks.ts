import type { TemplateRenderer } from '../../activities/templates';
import { triggerTextProblems } from '../../activities/trigger-texts';
import { ValidationError, type FieldError } from '../../domain/errors';
import type { TriggerDefinition } from '../../domain/schemas/trigger';
import { triggerReferences, triggerTexts } from '../../domain/trigger-validation';
import type { PrismaClient } from '../../runtime/prisma';
import { emailTemplateProblem } from './templates';

/**
 * What a save checks beyond the definition's shape (which the body schema checked): every
 * Handlebars text against TriggerTextContext, line and column included. Run on drafts too, so a
 * typo shows when it is written, not when it is published.
 */
export function textProblems(definition: TriggerDefinition): FieldError[] {
  return triggerTexts(definition).flatMap(({ field, source }) => triggerTextProblems(source).map((message) => ({ field: `definition/${field}`, message })));
}

/**
 * What publishing checks on top: that every stage, pipeline, user, sequence and email template
 * the definition names exists and can be used (an idle limit only on an open stage), reported
 * together with the text problems.
 */
export async function publicationProblems(deps: { prisma: PrismaClient; renderer: TemplateRenderer }, definition: TriggerDefinition): Promise<FieldError[]> {
  const { prisma, renderer } = deps;
  const refs = triggerReferences(definition);
  const problems: FieldError[] = textProblems(definition);
  const at = (field: string) => `definition/${field}`;

  const [stages, pipelines, users, sequences] = await Promise.all([
    prisma.stage.findMany({ where: { id: { in: refs.stages.map((ref) => ref.id) } }, select: { id: true, pipelineId: true, isWon: true, isLost: true } }),
    prisma.pipeline.findMany({ where: { id: { in: refs.pipelines.map((ref) => ref.id) } }, select: { id: true } }),
    prisma.user.findMany({ where: { id: { in: refs.users.map((ref) => ref.id) } }, select: { id: true, active: true } }),
    prisma.sequence.findMany({ where: { id: { in: refs.sequences.map((ref) => ref.id) } }, select: { id: true, archivedAt: true, publishedVersion: true } }),
  ]);
  for (const ref of refs.stages) {
    const stage = stages.find((candidate) => candidate.id === ref.id);
    if (!stage) problems.push({ field: at(ref.field), message: 'is not an existing stage' });
    // As for a stage's own limit (domain/pipeline-rules.ts).
    else if (definition.idleLimitDays !== undefined && (stage.isWon || stage.isLost)) problems.push({ field: at('idleLimitDays'), message: 'is for open stages: a won or lost deal does not idle' });
  }
  for (const ref of refs.pipelines) {
    const stage = stages.find((candidate) => candidate.id === definition.stageId);
    if (!pipelines.some((pipeline) => pipeline.id === ref.id)) problems.push({ field: at(ref.field), message: 'is not an existing pipeline' });
    else if (stage && stage.pipelineId !== ref.id) problems.push({ field: at(ref.field), message: 'is not the pipeline of stageId, so the trigger could never fire' });
  }
  for (const ref of refs.users) {
    const user = users.find((candidate) => candidate.id === ref.id);
    if (!user) problems.push({ field: at(ref.field), message: 'is not an existing user' });
    else if (!user.active) problems.push({ field: at(ref.field), message: 'is a deactivated user' });
  }
  for (const ref of refs.sequences) {
    const sequence = sequences.find((candidate) => candidate.id === ref.id);
    if (!sequence) problems.push({ field: at(ref.field), message: 'is not an existing sequence' });
    else if (sequence.archivedAt) problems.push({ field: at(ref.field), message: 'is an archived sequence; it takes no new enrollments' });
    else if (sequence.publishedVersion === null) problems.push({ field: at(ref.field), message: 'has no published version yet, so nobody can be enrolled in it' });
  }
  for (const ref of refs.emailTemplates) {
    const problem = await emailTemplateProblem(renderer, ref.key);
    if (problem) problems.push({ field: at(ref.field), message: problem });
  }
  return problems;
}

export function assertNoProblems(problems: FieldError[], message: string): void {
  if (problems.length > 0) throw new ValidationError(problems, message);
}
