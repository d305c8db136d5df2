import type { FieldError } from './errors';

/** A stage as a pipeline definition lists it; the list's order is the stages' order. */
export interface StageDraft {
  /** An existing stage keeps its id (and its deals and history) through renames and reorders. */
  id?: string | undefined;
  name: string;
  probability: number;
  idleLimitDays: number | null;
  isWon: boolean;
  isLost: boolean;
}

/**
 * The invariants of a pipeline's stage list, each reported on the field that breaks it:
 * - at least one open stage (neither won nor lost), and exactly one won and one lost stage, so
 *   every open deal can be won or lost by moving it;
 * - a stage is won or lost, not both; won and lost stages come after every open stage, so the
 *   open stages are the pipeline's progression and the funnel ends at the won stage;
 * - the won stage has probability 100 and the lost one 0; neither has an idle limit (a closed
 *   deal does not idle);
 * - names are unique (ignoring case) and an id is listed once.
 */
export function stageListProblems(stages: readonly StageDraft[]): FieldError[] {
  const problems: FieldError[] = [];
  const at = (index: number, field?: string) => `stages/${index}${field ? `/${field}` : ''}`;
  const isClosed = (stage: StageDraft) => stage.isWon || stage.isLost;

  if (!stages.some((stage) => !isClosed(stage))) problems.push({ field: 'stages', message: 'needs at least one open stage (neither won nor lost)' });
  for (const [flag, label] of [['isWon', 'won'], ['isLost', 'lost']] as const) {
    const flagged = stages.flatMap((stage, index) => (stage[flag] ? [index] : []));
    if (flagged.length === 0) problems.push({ field: 'stages', message: `needs exactly one ${label} stage; none is marked ${flag}` });
    for (const index of flagged.slice(1)) problems.push({ field: at(index, flag), message: `a pipeline has one ${label} stage; stages/${flagged[0]} is already ${label}` });
  }

  const lastOpen = stages.findLastIndex((stage) => !isClosed(stage));
  const names = new Map<string, number>();
  const ids = new Map<string, number>();
  stages.forEach((stage, index) => {
    if (stage.isWon && stage.isLost) problems.push({ field: at(index, 'isLost'), message: 'a stage is won or lost, not both' });
    if (isClosed(stage) && index < lastOpen) problems.push({ field: at(index), message: `a ${stage.isWon ? 'won' : 'lost'} stage comes after every open stage; move it after stages/${lastOpen}` });
    if (stage.isWon && !stage.isLost && stage.probability !== 100) problems.push({ field: at(index, 'probability'), message: 'the won stage has probability 100' });
    if (stage.isLost && !stage.isWon && stage.probability !== 0) problems.push({ field: at(index, 'probability'), message: 'the lost stage has probability 0' });
    if (isClosed(stage) && stage.idleLimitDays !== null) problems.push({ field: at(index, 'idleLimitDays'), message: 'a won or lost stage has no idle limit: closed deals do not idle' });

    const name = stage.name.toLocaleLowerCase('en');
    const sameName = names.get(name);
    if (sameName !== undefined) problems.push({ field: at(index, 'name'), message: `"${stage.name}" is already the name of stages/${sameName}` });
    else names.set(name, index);

    if (stage.id !== undefined) {
      const sameId = ids.get(stage.id);
      if (sameId !== undefined) problems.push({ field: at(index, 'id'), message: `is listed twice (also stages/${sameId})` });
      else ids.set(stage.id, index);
    }
  });
  return problems;
}
