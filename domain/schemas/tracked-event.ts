import { z } from 'zod';
import { CustomFieldValueSchema, EmailSchema, IdSchema, PhoneSchema } from './common';

/**
 * Tracked events (`POST /v1/events`): what a contact did on the website or elsewhere, sent in
 * batches by the customer's own systems. Each event carries the client's id, which makes a
 * resent event harmless, and names its contact by id, email or phone.
 */
export const trackedEventTypes = ['page_view', 'purchase', 'email_reply', 'meeting_booked', 'custom'] as const;
export const TrackedEventTypeSchema = z.enum(trackedEventTypes).meta({ id: 'TrackedEventType' });
export type TrackedEventType = z.infer<typeof TrackedEventTypeSchema>;

/** Events may be stamped a little ahead of our clock (client clocks drift); further is a mistake. */
export const maxFutureSkewMs = 5 * 60_000;
export const maxEventsPerBatch = 500;

const currencies = new Set(Intl.supportedValuesOf('currency'));
const HttpUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000);
const MoneySchema = z.number().min(0).max(1e12).refine(Number.isFinite, 'must be a finite number');

const ContactRefSchema = z
  .strictObject({ id: IdSchema.optional(), email: EmailSchema.optional(), phone: PhoneSchema.optional() })
  .refine((ref) => [ref.id, ref.email, ref.phone].filter((value) => value !== undefined).length === 1, 'give exactly one of id, email or phone')
  .meta({ id: 'TrackedEventContact', description: 'The contact the event is about: its id, or an email address or international phone number it owns. Events about unknown people are not stored (status `unknown_contact`).' });
export type ContactRef = z.infer<typeof ContactRefSchema>;

const PurchaseItemSchema = z.strictObject({
  sku: z.string().trim().min(1).max(100),
  name: z.string().trim().min(1).max(200),
  quantity: z.number().int().min(1).max(1_000_000),
  price: MoneySchema.meta({ description: 'Unit price in the purchase currency.' }),
});

/** What every event has; the type-specific fields sit beside them. */
function eventBase(now: () => Date) {
  return {
    id: z
      .string()
      .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1-200 visible ASCII characters')
      .meta({ description: 'The client\'s id of this event: sending it again is recognised as a duplicate.', example: 'evt_01J9Z3' }),
    contact: ContactRefSchema,
    occurredAt: z.iso
      .datetime({ offset: true })
      .refine((value) => Date.parse(value) <= now().getTime() + maxFutureSkewMs, 'must not be in the future (5 minutes of clock skew are allowed)')
      .optional()
      .meta({ description: 'When it happened; defaults to when it arrived.' }),
  };
}

/**
 * The batch schema. `now` is the clock for the future-timestamp check; the API passes the
 * system clock, tests a fixed one, so the schema itself stays pure.
 */
export function trackedEventBatchSchema(now: () => Date) {
  const base = eventBase(now);
  const TrackedEventSchema = z
    .discriminatedUnion('type', [
      z.strictObject({ ...base, type: z.literal('page_view'), url: HttpUrlSchema, title: z.string().trim().max(500).optional(), referrer: z.string().max(2000).optional() }),
      z.strictObject({
        ...base,
        type: z.literal('purchase'),
        amount: MoneySchema.meta({ description: 'Total of the purchase.' }),
        currency: z
          .string()
          .refine((code) => currencies.has(code), 'must be an ISO 4217 currency code in capitals, such as EUR or USD')
          .meta({ example: 'EUR' }),
        items: z.array(PurchaseItemSchema).max(100).default([]),
      }),
      z.strictObject({ ...base, type: z.literal('email_reply'), messageId: z.string().trim().min(1).max(200).optional().meta({ description: 'The message replied to (a Touchpoint message id or your own).' }) }),
      z.strictObject({ ...base, type: z.literal('meeting_booked'), at: z.iso.datetime({ offset: true }).optional().meta({ description: 'When the meeting takes place.' }), with: z.string().trim().max(200).optional() }),
      z.strictObject({
        ...base,
        type: z.literal('custom'),
        name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_.:-]{0,99}$/, 'must be 1-100 characters of letters, digits, _ . : or -, starting with a letter').meta({ example: 'trial_started' }),
        properties: z
          .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/, 'property names start with a letter and use letters, digits and _'), CustomFieldValueSchema)
          .refine((properties) => Object.keys(properties).length <= 50, 'at most 50 properties')
          .default({}),
      }),
    ])
    .meta({ id: 'TrackedEvent' });

  return z
    .strictObject({ events: z.array(TrackedEventSchema).min(1).max(maxEventsPerBatch) })
    .superRefine((batch, ctx) => {
      const firstIndex = new Map<string, number>();
      batch.events.forEach((event, index) => {
        const first = firstIndex.get(event.id);
        if (first === undefined) firstIndex.set(event.id, index);
        else ctx.addIssue({ code: 'custom', path: ['events', index, 'id'], message: `repeats the id of events/${first}` });
      });
    })
    .meta({ id: 'TrackedEventBatch' });
}
export type TrackedEventBatch = z.output<ReturnType<typeof trackedEventBatchSchema>>;
export type TrackedEventInput = TrackedEventBatch['events'][number];

export const trackedEventStatuses = ['accepted', 'duplicate', 'unknown_contact'] as const;
export const TrackedEventResultsSchema = z
  .object({
    results: z.array(
      z.object({
        id: z.string(),
        status: z.enum(trackedEventStatuses).meta({ description: '`duplicate`: this id was seen before; nothing new was stored. `unknown_contact`: no contact matches; nothing was stored, and the event may be sent again once the contact exists.' }),
        contactId: IdSchema.nullable(),
      }),
    ),
  })
  .meta({ id: 'TrackedEventResults' });

/**
 * The small facts scoring and lifecycle rules look at (the Activity keeps the rest): the page
 * URL, the purchase amount and currency, the custom event's name. Signals carry only these.
 */
export interface EventProperties {
  url?: string;
  amount?: number;
  currency?: string;
  name?: string;
}

/**
 * What the API signals to the contact workflow for each stored event: ids and the small
 * matchable properties, never the payload (the Activity row has it), so histories stay small.
 */
export interface TrackedEventFact {
  /** The InboundEvent id: a resent event is signalled again with the same id, and the workflow drops it. */
  eventId: string;
  activityId: string;
  type: TrackedEventType;
  occurredAt: string;
  properties: EventProperties;
}

/** Property names and kinds that rules may match on, per event type. */
export const matchableProperties = {
  page_view: { url: 'string' },
  purchase: { amount: 'number', currency: 'string' },
  email_reply: {},
  meeting_booked: {},
  custom: { name: 'string' },
} as const satisfies Record<TrackedEventType, Record<string, 'string' | 'number'>>;

/** Picks the matchable properties out of an event's stored data (the same from the request or the Activity row). */
export function eventProperties(type: TrackedEventType, data: Record<string, unknown>): EventProperties {
  const properties: Record<string, string | number> = {};
  for (const [name, kind] of Object.entries(matchableProperties[type] as Record<string, 'string' | 'number'>)) {
    const value = data[name];
    if (typeof value === kind) properties[name] = value as string | number;
  }
  return properties;
}
