import type { LifecycleStage } from './schemas/common';
import type { SequenceSettings } from './schemas/sequence';

export const enrollmentRejections = ['active', 'not_reenrollable', 'cooldown', 'suppressed', 'unpublished', 'archived', 'contact_not_found'] as const;
export type EnrollmentRejection = (typeof enrollmentRejections)[number];

export interface EnrollmentFacts {
  sequence: { name: string; archivedAt: Date | null; publishedVersion: number | null };
  /** Settings of the published version (the one a new enrollment starts on); null while unpublished. */
  settings: Pick<SequenceSettings, 'reenrollment' | 'suppression'> | null;
  /** null when the contact does not exist. */
  contact: { deletedAt: Date | null; tags: string[]; lifecycleStage: LifecycleStage } | null;
  /** The contact's enrollments in this sequence, any status. */
  earlier: Array<{ id: string; status: 'active' | 'paused' | 'completed' | 'exited'; endedAt: Date | null }>;
  /** Sequences of the suppression list the contact is active (or paused) in. */
  activeInSuppressing: string[];
  now: Date;
}

export type EnrollmentDecision = { enroll: true } | { enroll: false; reason: EnrollmentRejection; detail: string; enrollmentId?: string };

const dayMs = 86_400_000;

/**
 * Whether a contact may start the sequence now. Never while an enrollment of it is active or
 * paused, whatever the policy (the database's unique active key decides when two requests
 * race; this check gives the answer its reason). Then the re-enrollment policy, then the
 * suppression list. Deleted contacts are suppressed.
 */
export function enrollmentDecision(facts: EnrollmentFacts): EnrollmentDecision {
  const { sequence, settings, contact, earlier, now } = facts;
  if (sequence.archivedAt) return { enroll: false, reason: 'archived', detail: `The sequence "${sequence.name}" is archived and takes no new enrollments.` };
  if (sequence.publishedVersion === null || !settings) return { enroll: false, reason: 'unpublished', detail: `The sequence "${sequence.name}" has no published version yet.` };
  if (!contact) return { enroll: false, reason: 'contact_not_found', detail: 'The contact does not exist.' };
  if (contact.deletedAt) return { enroll: false, reason: 'suppressed', detail: 'The contact was deleted.' };

  const running = earlier.find((enrollment) => enrollment.status === 'active' || enrollment.status === 'paused');
  if (running) return { enroll: false, reason: 'active', detail: `The contact is already in this sequence (enrollment ${running.id}).`, enrollmentId: running.id };

  const { policy, cooldownDays } = settings.reenrollment;
  if (earlier.length > 0 && policy === 'never') {
    return { enroll: false, reason: 'not_reenrollable', detail: 'The contact was in this sequence before and its re-enrollment policy is never.' };
  }
  if (earlier.length > 0 && policy === 'after_cooldown') {
    const lastEnded = Math.max(...earlier.map((enrollment) => enrollment.endedAt?.getTime() ?? now.getTime()));
    const allowedFrom = new Date(lastEnded + (cooldownDays ?? 0) * dayMs);
    if (allowedFrom > now) {
      return { enroll: false, reason: 'cooldown', detail: `The contact left this sequence less than ${cooldownDays} days ago; it may enroll again from ${allowedFrom.toISOString()}.` };
    }
  }

  const { suppression } = settings;
  const tag = contact.tags.find((candidate) => suppression.tags.includes(candidate));
  if (tag) return { enroll: false, reason: 'suppressed', detail: `The contact has the suppressed tag "${tag}".` };
  if (suppression.lifecycleStages.includes(contact.lifecycleStage)) {
    return { enroll: false, reason: 'suppressed', detail: `The contact is in the suppressed lifecycle stage ${contact.lifecycleStage}.` };
  }
  const [busyIn] = facts.activeInSuppressing;
  if (busyIn) return { enroll: false, reason: 'suppressed', detail: `The contact is active in sequence ${busyIn}, which suppresses this one.` };
  return { enroll: true };
}
