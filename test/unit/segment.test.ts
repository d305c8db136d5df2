import { describe, expect, it } from '@jest/globals';
import { decodePosition, encodePosition, segmentPageWhere, segmentWhere } from '../../activities/segments';
import { SegmentFilterSchema } from '../../domain/segment';

const issues = (input: unknown) => {
  const parsed = SegmentFilterSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('/')}: ${issue.message}`);
};

describe('segment filter schema', () => {
  it('normalises tags and accepts every criterion together', () => {
    const filter = SegmentFilterSchema.parse({
      tags: { any: [' Webinar-2026 '], none: ['churned'] },
      lifecycleStages: ['lead', 'mql'],
      source: 'website',
      ownerId: null,
      createdAfter: '2026-01-01T00:00:00Z',
      createdBefore: '2026-02-01T00:00:00+01:00',
      customFields: { plan: 'trial', seats: 5, beta: true },
    });
    expect(filter.tags).toEqual({ any: ['webinar-2026'], none: ['churned'] });
    expect(filter.ownerId).toBeNull();
  });

  it('takes an empty filter as every contact', () => {
    expect(SegmentFilterSchema.parse({})).toEqual({});
  });

  it('names each bad field', () => {
    expect(issues({ tags: {}, lifecycleStages: ['prospect'], ownerId: 'rita', colour: 'red' })).toEqual([
      'tags: give any, all or none',
      expect.stringMatching(/^lifecycleStages\/0: /),
      'ownerId: must be a UUID',
      ': Unrecognized key: "colour"',
    ]);
    expect(issues({ createdAfter: '2026-03-01T00:00:00Z', createdBefore: '2026-02-01T00:00:00Z' })).toEqual(['createdBefore: must be after createdAfter']);
    expect(issues({ tags: { all: ['vip'], none: ['vip'] } })).toEqual(['tags/none: "vip" is both required and excluded']);
    expect(issues({ customFields: { plan: { nested: true } } })).toEqual([expect.stringMatching(/^customFields\/plan: /)]);
    expect(issues({ customFields: {} })).toEqual(['customFields: give 1 to 20 custom fields']);
  });
});

describe('segment query', () => {
  it('turns every criterion into one condition, deleted contacts always left out', () => {
    const where = segmentWhere(
      SegmentFilterSchema.parse({ tags: { any: ['a'], all: ['b', 'c'], none: ['d'] }, lifecycleStages: ['customer'], source: 'ads', ownerId: '5b8f9c3e-2a51-4c1e-9d5e-0f6a7b8c9d0e', createdAfter: '2026-01-01T00:00:00Z', customFields: { plan: 'pro', seats: 3 } }),
    );
    expect(where).toEqual({
      AND: [
        { deletedAt: null },
        { tags: { hasSome: ['a'] } },
        { tags: { hasEvery: ['b', 'c'] } },
        { NOT: { tags: { hasSome: ['d'] } } },
        { lifecycleStage: { in: ['customer'] } },
        { source: 'ads' },
        { ownerId: '5b8f9c3e-2a51-4c1e-9d5e-0f6a7b8c9d0e' },
        { createdAt: { gte: new Date('2026-01-01T00:00:00Z') } },
        { customFields: { path: ['plan'], equals: 'pro' } },
        { customFields: { path: ['seats'], equals: 3 } },
      ],
    });
  });

  it('selects unowned contacts with ownerId null', () => {
    expect(segmentWhere({ ownerId: null })).toEqual({ AND: [{ deletedAt: null }, { ownerId: null }] });
  });

  it('pages by (created_at, id) after the last contact done, bounded by the job start', () => {
    const asOf = new Date('2026-05-01T12:00:00Z');
    const position = { createdAt: new Date('2026-04-01T08:00:00.123Z'), id: '00000000-0000-4000-8000-000000000007' };
    expect(decodePosition(encodePosition(position))).toEqual(position);
    expect(segmentPageWhere({}, asOf, position)).toEqual({
      AND: [
        { AND: [{ deletedAt: null }] },
        { createdAt: { lte: asOf } },
        { OR: [{ createdAt: { gt: position.createdAt } }, { createdAt: position.createdAt, id: { gt: position.id } }] },
      ],
    });
    expect(segmentPageWhere({}, asOf, null)).toEqual({ AND: [{ AND: [{ deletedAt: null }] }, { createdAt: { lte: asOf } }] });
    expect(() => decodePosition('garbage')).toThrow('Not a segment position');
  });
});
