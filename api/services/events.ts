import { randomUUID } from 'node:crypto';
import {
  eventProperties,
  type ContactRef,
  type TrackedEventFact,
  type TrackedEventInput,
  type TrackedEventType,
  type trackedEventStatuses,
} from '../../domain/schemas/tracked-event';
import type { Prisma, PrismaClient } from '../../runtime/prisma';
import type { WorkflowGateway } from '../workflow-gateway';
import { claimInboundEvent } from './message-events';

export interface EventServiceDeps {
  prisma: PrismaClient;
  gateway: Pick<WorkflowGateway, 'signalTrackedEvent'>;
}

export interface TrackedEventResult {
  id: string;
  status: (typeof trackedEventStatuses)[number];
  contactId: string | null;
}

/** The InboundEvent source of tracked events; the client's event id is the external id. */
const eventSource = 'events';
/** Contacts whose events are stored and signalled at the same time; each contact's events stay in order. */
const contactsInParallel = 4;

type Tx = Prisma.TransactionClient;

/**
 * Stores a validated batch and signals each contact's workflow. A contact's events are written
 * in one transaction (each claims its id, then becomes an Activity; a purchase also moves
 * lastPurchaseAt) and signalled in batch order after it commits, so the workflow sees them in
 * the order the client sent them. A repeated id stores nothing and is signalled again with the
 * stored facts, which the workflow drops when it has them: a client that retries after a
 * failed signal loses nothing. Events about nobody we know are not stored.
 */
export async function ingestTrackedEvents(deps: EventServiceDeps, events: TrackedEventInput[], receivedAt = new Date()): Promise<TrackedEventResult[]> {
  const contactOf = await resolveContacts(deps.prisma, events.map((event) => event.contact));
  const results: TrackedEventResult[] = events.map((event) => ({ id: event.id, status: 'unknown_contact', contactId: null }));
  const byContact = new Map<string, number[]>();
  events.forEach((event, index) => {
    const contactId = contactOf(event.contact);
    if (contactId) byContact.set(contactId, [...(byContact.get(contactId) ?? []), index]);
  });

  const pending = [...byContact.entries()];
  const worker = async () => {
    for (let next = pending.shift(); next; next = pending.shift()) {
      const [contactId, indices] = next;
      const stored = await deps.prisma.$transaction((tx) => storeContactEvents(tx, contactId, indices.map((index) => events[index]!), receivedAt));
      for (const [position, outcome] of stored.entries()) {
        if (outcome.fact && outcome.contactId) await deps.gateway.signalTrackedEvent(outcome.contactId, outcome.stage, outcome.fact);
        results[indices[position]!] = { id: events[indices[position]!]!.id, status: outcome.status, contactId: outcome.contactId };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(contactsInParallel, pending.length) }, worker));
  return results;
}

interface StoredEvent {
  status: 'accepted' | 'duplicate';
  /** The contact of the stored event: for a duplicate, the one it was first stored for (null once deleted). */
  contactId: string | null;
  stage: string;
  /** Null for a duplicate whose contact is gone: there is nobody left to tell. */
  fact: TrackedEventFact | null;
}

async function storeContactEvents(tx: Tx, contactId: string, events: TrackedEventInput[], receivedAt: Date): Promise<StoredEvent[]> {
  const contact = await tx.contact.findUniqueOrThrow({ where: { id: contactId }, select: { lifecycleStage: true } });
  const stored: StoredEvent[] = [];
  for (const event of events) {
    const activityId = randomUUID();
    const claim = await claimInboundEvent(tx, eventSource, event.id, { contactId, activityId });
    if (claim.duplicate) {
      stored.push(await duplicateOf(tx, claim));
      continue;
    }
    const { id: externalId, type, contact: _ref, occurredAt: stamped, ...properties } = event;
    const occurredAt = stamped ? new Date(stamped) : receivedAt;
    await tx.activity.create({
      data: { id: activityId, contactId, type, occurredAt, subject: subjectOf(event), data: { ...properties, externalId } as Prisma.InputJsonObject },
    });
    if (type === 'purchase') {
      // An older purchase reported late never moves the last purchase back.
      await tx.$executeRaw`
        UPDATE contacts SET last_purchase_at = GREATEST(COALESCE(last_purchase_at, ${occurredAt}), ${occurredAt}), updated_at = now()
         WHERE id = ${contactId}::uuid`;
    }
    const fact: TrackedEventFact = { eventId: claim.id, activityId, type, occurredAt: occurredAt.toISOString(), properties: eventProperties(type, properties) };
    stored.push({ status: 'accepted', contactId, stage: contact.lifecycleStage, fact });
  }
  return stored;
}

/** The facts of an event stored earlier, rebuilt from its Activity, to signal it again. */
async function duplicateOf(tx: Tx, claim: { id: string; contactId: string | null; activityId: string | null }): Promise<StoredEvent> {
  const activity = claim.activityId ? await tx.activity.findUnique({ where: { id: claim.activityId } }) : null;
  const contact = claim.contactId ? await tx.contact.findFirst({ where: { id: claim.contactId, deletedAt: null }, select: { lifecycleStage: true } }) : null;
  if (!activity || !contact || !claim.contactId) return { status: 'duplicate', contactId: null, stage: 'lead', fact: null };
  const type = activity.type as TrackedEventType;
  const fact: TrackedEventFact = {
    eventId: claim.id,
    activityId: activity.id,
    type,
    occurredAt: activity.occurredAt.toISOString(),
    properties: eventProperties(type, activity.data as Record<string, unknown>),
  };
  return { status: 'duplicate', contactId: claim.contactId, stage: contact.lifecycleStage, fact };
}

/**
 * Finds the contacts a batch names, with one query per kind of reference. Addresses are
 * already normalised by the schema, as they are stored; deleted contacts count as unknown.
 */
async function resolveContacts(prisma: PrismaClient, refs: ContactRef[]): Promise<(ref: ContactRef) => string | null> {
  const ids = [...new Set(refs.flatMap((ref) => (ref.id ? [ref.id] : [])))];
  const emails = [...new Set(refs.flatMap((ref) => (ref.email ? [ref.email] : [])))];
  const phones = [...new Set(refs.flatMap((ref) => (ref.phone ? [ref.phone] : [])))];
  const live = { deletedAt: null };
  const [byId, byEmail, byPhone] = await Promise.all([
    ids.length ? prisma.contact.findMany({ where: { id: { in: ids }, ...live }, select: { id: true } }) : [],
    emails.length ? prisma.contactEmail.findMany({ where: { address: { in: emails }, contact: live }, select: { address: true, contactId: true } }) : [],
    phones.length ? prisma.contactPhone.findMany({ where: { e164: { in: phones }, contact: live }, select: { e164: true, contactId: true } }) : [],
  ]);
  const known = new Set(byId.map((row) => row.id));
  const emailOwners = new Map(byEmail.map((row) => [row.address, row.contactId]));
  const phoneOwners = new Map(byPhone.map((row) => [row.e164, row.contactId]));
  return (ref) => {
    if (ref.id) return known.has(ref.id) ? ref.id : null;
    if (ref.email) return emailOwners.get(ref.email) ?? null;
    return ref.phone ? (phoneOwners.get(ref.phone) ?? null) : null;
  };
}

/** The timeline line of a tracked event. */
function subjectOf(event: TrackedEventInput): string {
  switch (event.type) {
    case 'page_view':
      return `Viewed ${event.title ?? event.url}`;
    case 'purchase':
      return `Purchased for ${new Intl.NumberFormat('en', { style: 'currency', currency: event.currency }).format(event.amount)}`;
    case 'email_reply':
      return 'Replied by email';
    case 'meeting_booked':
      return event.with ? `Booked a meeting with ${event.with}` : 'Booked a meeting';
    case 'custom':
      return `Custom event ${event.name}`;
    default: {
      const unhandled: never = event;
      throw new Error(`Unhandled event type ${JSON.stringify(unhandled)}`);
    }
  }
}
