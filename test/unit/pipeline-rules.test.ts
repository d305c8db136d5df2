import { describe, expect, it } from '@jest/globals';
import { stageListProblems, type StageDraft } from '../../domain/pipeline-rules';
import { PipelineCreateSchema } from '../../domain/schemas/pipeline';

const open = (name: string, probability = 20): StageDraft => ({ name, probability, idleLimitDays: 5, isWon: false, isLost: false });
const won: StageDraft = { name: 'Won', probability: 100, idleLimitDays: null, isWon: true, isLost: false };
const lost: StageDraft = { name: 'Lost', probability: 0, idleLimitDays: null, isWon: false, isLost: true };

describe('pipeline stage rules', () => {
  it('accepts open stages followed by one won and one lost stage', () => {
    expect(stageListProblems([open('New', 10), open('Proposal', 60), won, lost])).toEqual([]);
    expect(stageListProblems([open('New'), lost, won])).toEqual([]);
  });

  it('needs an open stage and exactly one won and one lost stage', () => {
    expect(stageListProblems([won, lost]).map((problem) => problem.field)).toEqual(['stages']);
    expect(stageListProblems([open('New')]).map((problem) => problem.message)).toEqual([
      'needs exactly one won stage; none is marked isWon',
      'needs exactly one lost stage; none is marked isLost',
    ]);
    expect(stageListProblems([open('New'), won, { ...won, name: 'Won again' }, lost])).toEqual([
      { field: 'stages/2/isWon', message: 'a pipeline has one won stage; stages/1 is already won' },
    ]);
  });

  it('keeps won and lost stages after the open ones, with fixed probabilities and no idle limit', () => {
    expect(stageListProblems([open('New'), won, open('Proposal'), lost])).toEqual([
      { field: 'stages/1', message: 'a won stage comes after every open stage; move it after stages/2' },
    ]);
    expect(stageListProblems([open('New'), { ...won, probability: 90, idleLimitDays: 3 }, lost]).map((problem) => problem.field)).toEqual([
      'stages/1/probability',
      'stages/1/idleLimitDays',
    ]);
    expect(stageListProblems([open('New'), won, lost, { ...lost, name: 'Both', isWon: true }]).map((problem) => problem.field)).toContain('stages/3/isLost');
  });

  it('reports a repeated name (ignoring case) and a repeated id on the later stage', () => {
    const id = '00000000-0000-4000-8000-000000000001';
    expect(stageListProblems([{ ...open('New'), id }, { ...open('new'), id }, won, lost])).toEqual([
      { field: 'stages/1/name', message: '"new" is already the name of stages/0' },
      { field: 'stages/1/id', message: 'is listed twice (also stages/0)' },
    ]);
  });

  it('reports the rules through the create schema on the offending field', () => {
    const parsed = PipelineCreateSchema.safeParse({ name: 'Renewals', stages: [{ name: 'Open', probability: 50 }, { name: 'Won', probability: 90, isWon: true }] });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((issue) => [issue.path.join('/'), issue.message])).toEqual([
      ['stages', 'needs exactly one lost stage; none is marked isLost'],
      ['stages/1/probability', 'the won stage has probability 100'],
    ]);
  });
});
