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

export interface EventServiceDeps {
  prisma: PrismaClient;
  gateway: Pick<WorkflowGateway, 'signalTrackedEvents'>;
}

export interface TrackedEventResult {
  id: string;
  status: (typeof trackedEventStatuses)[number];
  contactId: string | null;
}

/** The InboundEvent source of tracked events; the client's event id is the external id. */
const eventSource = 'events';
/** Contacts signalled at the same time; each contact gets one signal with its events in batch order. */
const contactsInParallel = 4;

type Tx = Prisma.TransactionClient;

/** An event of a known contact, with the Activity id it gets if it is new. */
interface KnownEvent {
  event: TrackedEventInput;
  contactId: string;
  activityId: string;
  occurredAt: Date;
}

interface StoredEvent {
  status: 'accepted' | 'duplicate';
  /** The contact of the stored event: for a duplicate, the one it was first stored for (null once deleted). */
  contactId: string | null;
  /** Null for a duplicate whose contact is gone: there is nobody left to tell. */
  fact: TrackedEventFact | null;
}

/**
 * Stores a validated batch and signals the contacts' workflows. One transaction claims every
 * id (a repeated id claims nothing), writes the new events as Activities and moves the
 * purchasers' lastPurchaseAt, in a handful of statements whatever the batch size. Then each
 * contact's workflow gets one signal with its events in batch order: new ones, and repeated
 * ones rebuilt from what was stored, which the workflow drops when it has them, so a client
 * that retries after a failed signal loses nothing. Events about nobody we know are not stored.
 */
export async function ingestTrackedEvents(deps: EventServiceDeps, events: TrackedEventInput[], receivedAt = new Date()): Promise<TrackedEventResult[]> {
  const contactOf = await resolveContacts(deps.prisma, events.map((event) => event.contact));
  const results: TrackedEventResult[] = events.map((event) => ({ id: event.id, status: 'unknown_contact', contactId: null }));
  const known: Array<KnownEvent & { index: number }> = events.flatMap((event, index) => {
    const contactId = contactOf(event.contact);
    return contactId ? [{ event, index, contactId, activityId: randomUUID(), occurredAt: event.occurredAt ? new Date(event.occurredAt) : receivedAt }] : [];
  });
  if (known.length === 0) return results;

  const stored = await deps.prisma.$transaction((tx) => storeEvents(tx, known));
  const signals = new Map<string, TrackedEventFact[]>();
  stored.forEach((outcome, position) => {
    const { index } = known[position]!;
    results[index] = { id: events[index]!.id, status: outcome.status, contactId: outcome.contactId };
    if (!outcome.fact || !outcome.contactId) return;
    const facts = signals.get(outcome.contactId) ?? [];
    facts.push(outcome.fact);
    signals.set(outcome.contactId, facts);
  });
  const stages = await deps.prisma.contact.findMany({ where: { id: { in: [...signals.keys()] } }, select: { id: true, lifecycleStage: true } });
  const stageOf = new Map(stages.map((row) => [row.id, row.lifecycleStage as string]));
  const pending = [...signals.entries()];
  const signaller = async () => {
    for (let next = pending.shift(); next; next = pending.shift()) await deps.gateway.signalTrackedEvents(next[0], stageOf.get(next[0]) ?? 'lead', next[1]);
  };
  await Promise.all(Array.from({ length: Math.min(contactsInParallel, pending.length) }, signaller));
  return results;
}

/** The outcome of each known event, in the same order. */
async function storeEvents(tx: Tx, known: KnownEvent[]): Promise<StoredEvent[]> {
  // A concurrent request with the same id waits on the unique index and then skips it.
  const claims = await tx.inboundEvent.createManyAndReturn({
    data: known.map(({ event, contactId, activityId }) => ({ source: eventSource, externalId: event.id, contactId, activityId })),
    skipDuplicates: true,
    select: { id: true, externalId: true },
  });
  const claimOf = new Map(claims.map((claim) => [claim.externalId, claim.id]));
  const fresh = known.filter(({ event }) => claimOf.has(event.id));
  await tx.activity.createMany({ data: fresh.map(activityRow) });
  await recordPurchases(tx, fresh);

  const repeats = await repeatedEvents(tx, known.filter(({ event }) => !claimOf.has(event.id)).map(({ event }) => event.id));
  return known.map(({ event, contactId, activityId, occurredAt }): StoredEvent => {
    const claimId = claimOf.get(event.id);
    if (claimId) {
      return { status: 'accepted', contactId, fact: { eventId: claimId, activityId, type: event.type, occurredAt: occurredAt.toISOString(), properties: eventProperties(event.type, propertiesOf(event)) } };
    }
    return { status: 'duplicate', ...(repeats.get(event.id) ?? { contactId: null, fact: null }) };
  });
}

function propertiesOf(event: TrackedEventInput): Record<string, unknown> {
  const { id: _id, type: _type, contact: _contact, occurredAt: _occurredAt, ...properties } = event;
  return properties;
}

function activityRow({ event, contactId, activityId, occurredAt }: KnownEvent): Prisma.ActivityCreateManyInput {
  return { id: activityId, contactId, type: event.type, occurredAt, subject: subjectOf(event), data: { ...propertiesOf(event), externalId: event.id } as Prisma.InputJsonObject };
}

/** Each purchaser's latest purchase; an older purchase reported late never moves it back. */
async function recordPurchases(tx: Tx, fresh: KnownEvent[]): Promise<void> {
  const latest = new Map<string, Date>();
  for (const { event, contactId, occurredAt } of fresh) {
    if (event.type === 'purchase' && occurredAt > (latest.get(contactId) ?? new Date(0))) latest.set(contactId, occurredAt);
  }
  for (const [contactId, at] of latest) {
    await tx.$executeRaw`
      UPDATE contacts SET last_purchase_at = GREATEST(COALESCE(last_purchase_at, ${at}), ${at}), updated_at = now()
       WHERE id = ${contactId}::uuid`;
  }
}

/** The facts of events stored earlier, rebuilt from their Activities, to signal them again; by client id. */
async function repeatedEvents(tx: Tx, externalIds: string[]): Promise<Map<string, Omit<StoredEvent, 'status'>>> {
  if (externalIds.length === 0) return new Map();
  const claims = await tx.inboundEvent.findMany({ where: { source: eventSource, externalId: { in: externalIds } } });
  const activities = await tx.activity.findMany({ where: { id: { in: claims.flatMap((claim) => (claim.activityId ? [claim.activityId] : [])) } } });
  const live = await tx.contact.findMany({ where: { id: { in: claims.flatMap((claim) => (claim.contactId ? [claim.contactId] : [])) }, deletedAt: null }, select: { id: true } });
  const activityOf = new Map(activities.map((activity) => [activity.id, activity]));
  const liveIds = new Set(live.map((contact) => contact.id));
  return new Map(
    claims.map((claim): [string, Omit<StoredEvent, 'status'>] => {
      const activity = claim.activityId ? activityOf.get(claim.activityId) : undefined;
      if (!activity || !claim.contactId || !liveIds.has(claim.contactId)) return [claim.externalId, { contactId: null, fact: null }];
      const type = activity.type as TrackedEventType;
      const fact: TrackedEventFact = { eventId: claim.id, activityId: activity.id, type, occurredAt: activity.occurredAt.toISOString(), properties: eventProperties(type, activity.data as Record<string, unknown>) };
      return [claim.externalId, { contactId: claim.contactId, fact }];
    }),
  );
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
