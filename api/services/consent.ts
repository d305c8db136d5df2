import { becomesCurrent, consentAuditAction, consentChangeErrors, type ConsentChange, type ConsentStatus } from '../../domain/consent';
import { NotFoundError, ValidationError } from '../../domain/errors';
import type { Prisma } from '../../runtime/prisma';

/**
 * The one writer of consent. It takes a transaction client rather than opening its own
 * transaction so that API routes (forms, unsubscribe pages, provider webhooks) and worker
 * activities record consent atomically with whatever else they write.
 */

export interface ConsentActor {
  /** Who made the change: form, contact (unsubscribe page), provider, api_key, workflow. */
  actorType: string;
  actorId?: string | null;
  requestId?: string | null;
}

export interface RecordedConsent {
  /** The ConsentEvent appended to the ledger. */
  consentEventId: string;
  /** Whether the change became the current state (false for an expression older than the current one). */
  current: boolean;
  /** The status before the change, null when the channel had none. */
  previousStatus: ConsentStatus | null;
}

/**
 * Appends the change to the ledger (ConsentEvent), makes it the current state (ContactConsent)
 * unless a newer expression is already current, and writes the audit log. The contact row is
 * locked first so that concurrent changes for one contact apply one after the other.
 */
export async function recordConsentChange(tx: Prisma.TransactionClient, change: ConsentChange, actor: ConsentActor): Promise<RecordedConsent> {
  const errors = consentChangeErrors(change);
  if (errors.length > 0) throw new ValidationError(errors, 'The consent change is not valid.');
  // NO KEY UPDATE: serialises consent writers without blocking inserts that reference the contact.
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM contacts WHERE id = ${change.contactId}::uuid FOR NO KEY UPDATE`;
  if (locked.length === 0) throw new NotFoundError('Contact', change.contactId);

  const at = change.at ?? new Date();
  const existing = await tx.contactConsent.findUnique({ where: { contactId_channel: { contactId: change.contactId, channel: change.channel } } });
  const event = await tx.consentEvent.create({
    data: {
      contactId: change.contactId,
      channel: change.channel,
      status: change.status,
      source: change.source,
      method: change.method ?? null,
      ip: change.ip ?? null,
      userAgent: change.userAgent ?? null,
      evidence: (change.evidence ?? {}) as Prisma.InputJsonObject,
      at,
    },
  });

  const current = becomesCurrent(existing, { at });
  if (current) {
    await tx.contactConsent.upsert({
      where: { contactId_channel: { contactId: change.contactId, channel: change.channel } },
      create: { contactId: change.contactId, channel: change.channel, status: change.status, source: change.source, at },
      update: { status: change.status, source: change.source, at },
    });
    await tx.auditLog.create({
      data: {
        actorType: actor.actorType,
        actorId: actor.actorId ?? null,
        action: consentAuditAction(change.status),
        entityType: 'contact',
        entityId: change.contactId,
        before: existing ? { channel: existing.channel, status: existing.status, source: existing.source, at: existing.at.toISOString() } : undefined,
        after: { channel: change.channel, status: change.status, source: change.source, method: change.method ?? null, at: at.toISOString(), consentEventId: event.id },
        requestId: actor.requestId ?? null,
      },
    });
  }
  return { consentEventId: event.id, current, previousStatus: existing?.status ?? null };
}
