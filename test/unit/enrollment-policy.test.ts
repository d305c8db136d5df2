import { describe, expect, it } from '@jest/globals';
import { enrollmentDecision, type EnrollmentFacts } from '../../domain/enrollment-policy';
import { SequenceSettingsSchema } from '../../domain/schemas/sequence';

const now = new Date('2026-06-10T12:00:00Z');
const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000);

function facts(overrides: Omit<Partial<EnrollmentFacts>, 'settings'> & { settings?: unknown } = {}): EnrollmentFacts {
  const { settings, ...rest } = overrides;
  return {
    sequence: { name: 'Onboarding', archivedAt: null, publishedVersion: 2 },
    settings: SequenceSettingsSchema.parse(settings ?? {}),
    contact: { deletedAt: null, tags: ['newsletter'], lifecycleStage: 'lead' },
    earlier: [],
    activeInSuppressing: [],
    now,
    ...rest,
  };
}

const ended = (id: string, daysBack: number) => ({ id, status: 'completed' as const, endedAt: daysAgo(daysBack) });

describe('enrollment decision', () => {
  it('enrolls a contact that was never in the sequence', () => {
    expect(enrollmentDecision(facts())).toEqual({ enroll: true });
  });

  it('never enrolls twice at once, whatever the policy', () => {
    const decision = enrollmentDecision(facts({ settings: { reenrollment: { policy: 'always' } }, earlier: [{ id: 'e1', status: 'paused', endedAt: null }] }));
    expect(decision).toMatchObject({ enroll: false, reason: 'active', enrollmentId: 'e1' });
  });

  it('refuses any second enrollment under the policy never', () => {
    expect(enrollmentDecision(facts({ earlier: [ended('e1', 400)] }))).toMatchObject({ enroll: false, reason: 'not_reenrollable' });
  });

  it('waits out the cooldown from the last enrollment\'s end', () => {
    const settings = { reenrollment: { policy: 'after_cooldown', cooldownDays: 30 } };
    const cooling = enrollmentDecision(facts({ settings, earlier: [ended('e1', 90), ended('e2', 10)] }));
    expect(cooling).toEqual({ enroll: false, reason: 'cooldown', detail: `The contact left this sequence less than 30 days ago; it may enroll again from ${daysAgo(-20).toISOString()}.` });
    expect(enrollmentDecision(facts({ settings, earlier: [ended('e1', 31)] }))).toEqual({ enroll: true });
  });

  it('enrolls again at once under the policy always', () => {
    expect(enrollmentDecision(facts({ settings: { reenrollment: { policy: 'always' } }, earlier: [ended('e1', 0)] }))).toEqual({ enroll: true });
  });

  it('suppresses by tag, by lifecycle stage, by activity in a listed sequence, and deleted contacts', () => {
    const suppression = (value: object) => ({ suppression: value });
    expect(enrollmentDecision(facts({ settings: suppression({ tags: ['newsletter'] }) }))).toMatchObject({ reason: 'suppressed', detail: 'The contact has the suppressed tag "newsletter".' });
    expect(enrollmentDecision(facts({ settings: suppression({ lifecycleStages: ['lead'] }) }))).toMatchObject({ reason: 'suppressed', detail: 'The contact is in the suppressed lifecycle stage lead.' });
    expect(enrollmentDecision(facts({ activeInSuppressing: ['4d1f0d8e-0000-4000-8000-000000000001'] }))).toMatchObject({ reason: 'suppressed' });
    expect(enrollmentDecision(facts({ contact: { deletedAt: daysAgo(1), tags: [], lifecycleStage: 'lead' } }))).toMatchObject({ reason: 'suppressed', detail: 'The contact was deleted.' });
  });

  it('refuses archived and unpublished sequences and unknown contacts', () => {
    expect(enrollmentDecision(facts({ sequence: { name: 'Old', archivedAt: daysAgo(1), publishedVersion: 1 } }))).toMatchObject({ reason: 'archived' });
    expect(enrollmentDecision(facts({ sequence: { name: 'Draft', archivedAt: null, publishedVersion: null } }))).toMatchObject({ reason: 'unpublished' });
    expect(enrollmentDecision(facts({ contact: null }))).toMatchObject({ reason: 'contact_not_found' });
  });
});
