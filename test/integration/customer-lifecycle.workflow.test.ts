import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createLifecycleActivities } from '../../activities/lifecycle';
import { ingestTrackedEvents } from '../../api/services/events';
import { mergeContacts, sendMergeSignals } from '../../api/services/contact-merge';
import { createWorkflowGateway } from '../../api/workflow-gateway';
import type { TrackedEventInput } from '../../domain/schemas/tracked-event';
import { seedDemoData } from '../../prisma/seed';
import { loadConfig } from '../../runtime/config';
import { createMetrics } from '../../runtime/metrics';
import type { Prisma } from '../../runtime/prisma';
import { contactLifecycle, contactStateQuery, formSubmittedSignal } from '../../workflows/contact-lifecycle';
import { LifecycleStageAttribute } from '../../workflows/search-attributes';
import { contactWorkflowId } from '../../workflows/workflow-ids';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { recordHistory } from '../support/histories';
import { consentingContact, createSequence, createTemplate } from '../support/sequences';
import { eventually } from '../support/stack';
import { answered, closedWithoutSkipping, startCaptureWorker, startTimeSkippingServer } from '../support/time-skipping';

const taskQueue = 'customer-lifecycle';
const day = 86_400_000;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: { stop(): Promise<void> };
let gateway: ReturnType<typeof createWorkflowGateway>;
let ritaId: string;
let winback: { id: string; publishedVersion: number | null };

beforeAll(async () => {
  [env, db] = await Promise.all([
    startTimeSkippingServer(),
    createTestDatabase(),
  ]);
  await seedDemoData(db.prisma);
  ritaId = (await db.prisma.user.findUniqueOrThrow({ where: { email: 'rita.rep@example.com' } })).id;
  await createTemplate(db.prisma, 'winback', 'email', [{ subject: 'We miss you, {{contact.firstName}}', html: '<p>Here is 20% off your next order.</p>' }]);
  winback = await createSequence(db.prisma, [{ definition: { steps: [{ key: 'offer', type: 'email', template: 'winback' }, { key: 'two-weeks', type: 'wait', duration: 'P14D' }, { key: 'last-call', type: 'email', template: 'winback' }] } }]);
  await setting('reengagement', { enabled: true, sequenceId: winback.id, afterDays: 180, churnAfterDays: 60 });
  worker = await startCaptureWorker(env, db, taskQueue);
  gateway = createWorkflowGateway({ temporal: env.client, config: loadConfig({ DATABASE_URL: db.url, TEMPORAL_TASK_QUEUE: taskQueue, LOG_LEVEL: 'silent' }), metrics: createMetrics('api') });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  await db?.drop();
});

function setting(key: string, value: Prisma.InputJsonObject) {
  return db.prisma.automationSetting.upsert({ where: { key }, create: { key, value }, update: { value } });
}

type EventBody = { type: 'page_view'; url: string } | { type: 'purchase'; amount: number; currency: string } | { type: 'custom'; name: string };

/**
 * Stores and signals events the way POST /v1/events does (the same service), stamped with the
 * test server's clock, which runs months ahead of the wall clock once time has been skipped.
 */
async function track(contactId: string, bodies: EventBody[], ids: string[] = bodies.map(() => randomUUID())): Promise<string[]> {
  const now = new Date(await env.currentTimeMs());
  const events = bodies.map((body, index) => ({ id: ids[index]!, contact: { id: contactId }, ...body, ...(body.type === 'purchase' ? { items: [] } : {}), ...(body.type === 'custom' ? { properties: {} } : {}) })) as TrackedEventInput[];
  await ingestTrackedEvents({ prisma: db.prisma, gateway }, events, now);
  return ids;
}

const stateOf = (contactId: string) => answered(env.client, () => env.client.workflow.getHandle(contactWorkflowId(contactId)).query(contactStateQuery));

/** Until the workflow has applied these events (ids are the client's). */
async function applied(contactId: string, ids: string[]) {
  const claims = await db.prisma.inboundEvent.findMany({ where: { source: 'events', externalId: { in: ids } } });
  return eventually(() => stateOf(contactId), (state) => claims.every((claim) => (state.handledEventIds ?? []).includes(claim.id)));
}

const contactRow = (contactId: string) => db.prisma.contact.findUniqueOrThrow({ where: { id: contactId } });
const stageChanges = async (contactId: string) =>
  (await db.prisma.activity.findMany({ where: { contactId, type: 'lifecycle_changed' }, orderBy: { createdAt: 'asc' } })).map((activity) => activity.data as { from: string; to: string; reason: string });

async function searchStage(contactId: string): Promise<unknown> {
  const description = await env.client.workflow.getHandle(contactWorkflowId(contactId)).describe();
  return description.typedSearchAttributes.get(LifecycleStageAttribute);
}

describe('lead scoring', () => {
  it('crosses the MQL threshold once: one stage change, one task for the owner, and the score decays by the half-life', async () => {
    await db.prisma.scoringRule.create({ data: { name: 'Webinar', eventType: 'custom', match: { name: { equals: 'webinar_attended' } }, points: 20 } });
    const lead = await consentingContact(db.prisma, { firstName: 'Mona', ownerId: ritaId });
    const webinar: EventBody = { type: 'custom', name: 'webinar_attended' };

    await applied(lead.id, await track(lead.id, [webinar, webinar]));
    expect(await contactRow(lead.id)).toMatchObject({ lifecycleStage: 'lead', score: 40 });

    await applied(lead.id, await track(lead.id, [webinar, webinar, webinar]));
    expect(await contactRow(lead.id)).toMatchObject({ lifecycleStage: 'mql', score: 100 });
    expect(await stageChanges(lead.id)).toEqual([expect.objectContaining({ from: 'lead', to: 'mql', reason: 'mql_threshold', score: 60, threshold: 50 })]);
    const tasks = await db.prisma.task.findMany({ where: { contactId: lead.id } });
    expect(tasks).toEqual([expect.objectContaining({ assigneeId: ritaId, title: 'Follow up: marketing-qualified lead (score 60)', priority: 'high', sourceType: 'workflow' })]);
    expect((await stateOf(lead.id)).lifecycleStage).toBe('mql');
    expect(await searchStage(lead.id)).toBe('mql');

    // A month is one half-life: 100 points are worth 50, and the next 20 make 70.
    await env.sleep(30 * day);
    await applied(lead.id, await track(lead.id, [webinar]));
    expect((await contactRow(lead.id)).score).toBe(70);
    expect(await db.prisma.task.count({ where: { contactId: lead.id } })).toBe(1);
  });

  it('applies a re-sent event once, whether the API or the workflow sees the repeat', async () => {
    const lead = await consentingContact(db.prisma, { firstName: 'Otto', ownerId: ritaId });
    const ids = await track(lead.id, [{ type: 'custom', name: 'webinar_attended' }]);
    // The client retries the same id twice while the first signal is still queued.
    await track(lead.id, [{ type: 'custom', name: 'webinar_attended' }], ids);
    await track(lead.id, [{ type: 'custom', name: 'webinar_attended' }], ids);
    const state = await applied(lead.id, ids);
    expect((await contactRow(lead.id)).score).toBe(20);
    expect(state.handledEventIds!.filter((id) => id === state.handledEventIds!.at(-1))).toHaveLength(1);
    expect(await db.prisma.activity.count({ where: { contactId: lead.id, type: 'custom' } })).toBe(1);
  });

  it('answers a retried applyTrackedEvent as the first attempt and changes nothing twice', async () => {
    await db.prisma.scoringRule.create({ data: { name: 'Demo request', eventType: 'custom', match: { name: { equals: 'demo_requested' } }, points: 30 } });
    await db.prisma.lifecycleRule.create({ data: { name: 'Demo qualifies', eventType: 'custom', match: { name: { equals: 'demo_requested' } }, fromStages: ['lead'], toStage: 'sql' } });
    const lead = await consentingContact(db.prisma, { firstName: 'Rhea' });
    const { applyTrackedEvent } = createLifecycleActivities({ prisma: db.prisma });
    const request = {
      contactId: lead.id,
      event: { eventId: randomUUID(), activityId: randomUUID(), type: 'custom' as const, occurredAt: new Date().toISOString(), properties: { name: 'demo_requested' } },
      appliedAt: new Date().toISOString(),
      stageActivityId: randomUUID(),
    };
    const first = await applyTrackedEvent(request);
    const retry = await applyTrackedEvent(request);
    expect(first).toMatchObject({ exists: true, stage: 'sql', stageChange: { activityId: request.stageActivityId, from: 'lead', move: { to: 'sql', reason: 'rule', ruleName: 'Demo qualifies' } } });
    expect(retry).toEqual(first);
    expect((await contactRow(lead.id)).score).toBe(30);
    expect(await db.prisma.auditLog.count({ where: { entityId: lead.id, action: 'contact.lifecycle_changed' } })).toBe(1);
  });
});

describe('behaviour rules', () => {
  it('moves a lead that views the pricing page to sql, and ignores other pages', async () => {
    await db.prisma.lifecycleRule.create({ data: { name: 'Pricing page', eventType: 'page_view', match: { url: { contains: '/pricing' } }, fromStages: ['lead'], toStage: 'sql' } });
    const lead = await consentingContact(db.prisma, { firstName: 'Pia', ownerId: ritaId });
    await applied(lead.id, await track(lead.id, [{ type: 'page_view', url: 'https://example.com/blog' }]));
    expect((await contactRow(lead.id)).lifecycleStage).toBe('lead');
    await applied(lead.id, await track(lead.id, [{ type: 'page_view', url: 'https://example.com/pricing?plan=team' }]));
    expect((await contactRow(lead.id)).lifecycleStage).toBe('sql');
    expect(await stageChanges(lead.id)).toEqual([expect.objectContaining({ from: 'lead', to: 'sql', reason: 'rule', ruleName: 'Pricing page' })]);
    expect(await db.prisma.auditLog.findFirstOrThrow({ where: { entityId: lead.id, action: 'contact.lifecycle_changed' } })).toMatchObject({ actorType: 'workflow', after: { lifecycleStage: 'sql' } });
    expect(await searchStage(lead.id)).toBe('sql');
  });
});

/** A consenting contact who buys now (test-server time); returns the purchase time. */
async function customer(firstName: string) {
  const contact = await consentingContact(db.prisma, { firstName, ownerId: ritaId });
  await applied(contact.id, await track(contact.id, [{ type: 'purchase', amount: 120, currency: 'EUR' }]));
  const row = await contactRow(contact.id);
  expect(row.lifecycleStage).toBe('customer');
  return { contact, boughtAt: row.lastPurchaseAt! };
}

describe('six-month re-engagement', () => {
  const reengagementOf = (contactId: string) => db.prisma.enrollment.findFirst({ where: { contactId, sequenceId: winback.id } });

  it('marks a customer quiet for 180 days at risk and enrolls it in the re-engagement sequence, whose email goes out, in seconds', async () => {
    const { contact, boughtAt } = await customer('Cleo');
    expect((await stateOf(contact.id)).reengagement).toMatchObject({ phase: 'quiet', dueAt: new Date(boughtAt.getTime() + 180 * day).toISOString() });

    await env.sleep(179 * day);
    expect((await contactRow(contact.id)).lifecycleStage).toBe('customer');
    expect(await reengagementOf(contact.id)).toBeNull();

    await env.sleep(2 * day);
    await eventually(() => contactRow(contact.id), (row) => row.lifecycleStage === 'at_risk');
    const enrollment = await eventually(() => reengagementOf(contact.id), (row) => row !== null);
    expect(enrollment).toMatchObject({ source: 'reengagement', sourceKey: `contact:${contact.id}:reengagement:${boughtAt.toISOString()}`, status: 'active' });
    const offer = await eventually(() => db.prisma.message.findFirst({ where: { contactId: contact.id, templateKey: 'winback' } }), (message) => message !== null);
    expect(offer).toMatchObject({ subject: 'We miss you, Cleo', transactional: false });
    expect(await stageChanges(contact.id)).toEqual([
      expect.objectContaining({ from: 'lead', to: 'customer', reason: 'purchase' }),
      expect.objectContaining({ from: 'customer', to: 'at_risk', reason: 'no_purchase', days: 180 }),
    ]);
    expect(await searchStage(contact.id)).toBe('at_risk');
  });

  it('a purchase during re-engagement makes a customer again, ends the enrollment as converted and starts the quiet period over', async () => {
    const { contact } = await customer('Dora');
    await env.sleep(181 * day);
    const enrollment = await eventually(() => reengagementOf(contact.id), (row) => row !== null);

    await applied(contact.id, await track(contact.id, [{ type: 'purchase', amount: 35, currency: 'EUR' }]));
    const row = await contactRow(contact.id);
    expect(row.lifecycleStage).toBe('customer');
    const ended = await eventually(() => db.prisma.enrollment.findUniqueOrThrow({ where: { id: enrollment!.id } }), (current) => current.status === 'exited');
    expect(ended).toMatchObject({ stopReason: 'purchased', converted: true });
    expect((await stateOf(contact.id)).reengagement).toMatchObject({ phase: 'quiet', dueAt: new Date(row.lastPurchaseAt!.getTime() + 180 * day).toISOString() });

    // The churn timer of the first quiet period is gone: 61 days later the contact is still a customer.
    await env.sleep(61 * day);
    expect((await contactRow(contact.id)).lifecycleStage).toBe('customer');
    expect((await stageChanges(contact.id)).map((change) => change.to)).toEqual(['customer', 'at_risk', 'customer']);
    await recordHistory(env.client.workflow.getHandle(contactWorkflowId(contact.id)), 'contact-lifecycle-v3-reengagement.json');
  });

  it('records churn when an at-risk customer does not buy within churnAfterDays', async () => {
    const { contact } = await customer('Emil');
    await env.sleep(181 * day);
    await eventually(() => contactRow(contact.id), (row) => row.lifecycleStage === 'at_risk');
    // The churn timer starts when the quiet timer fires (day 180), up to a day before this check
    // starts counting, so the check stays a day clear of it on either side.
    await env.sleep(58 * day);
    expect((await contactRow(contact.id)).lifecycleStage).toBe('at_risk');
    await env.sleep(3 * day);
    await eventually(() => contactRow(contact.id), (row) => row.lifecycleStage === 'churned');
    expect((await stageChanges(contact.id)).at(-1)).toEqual(expect.objectContaining({ from: 'at_risk', to: 'churned', reason: 'reengagement_unsuccessful', days: 60 }));
    expect(await db.prisma.activity.findFirstOrThrow({ where: { contactId: contact.id, type: 'lifecycle_changed', subject: { contains: 'churned' } } })).toMatchObject({
      subject: 'Lifecycle stage at_risk → churned: no purchase within 60 days of being at risk',
    });
    expect(await db.prisma.auditLog.count({ where: { entityId: contact.id, action: 'contact.lifecycle_changed' } })).toBe(3);
    expect((await stateOf(contact.id)).reengagement).toBeNull();
  });
});

describe('merging contacts', () => {
  /** As POST /v1/contacts/{id}/merge does it: the merge, then its signals. */
  async function merge(survivorId: string, mergedId: string) {
    const outcome = await mergeContacts(db.prisma, survivorId, { mergeIds: [mergedId], pick: {} }, { actorId: randomUUID(), requestId: randomUUID() });
    await sendMergeSignals(gateway, outcome.signals);
    // The merged contact's workflow ends, and with it its timers.
    await closedWithoutSkipping(env.client.workflow.getHandle(contactWorkflowId(mergedId)));
  }
  const winbacks = (contactIds: string[]) => db.prisma.enrollment.findMany({ where: { sequenceId: winback.id, contactId: { in: contactIds } } });

  it('leaves one quiet-customer timer when a customer is merged into another, on the survivor and from the later purchase', async () => {
    const first = await customer('Hana');
    await env.sleep(30 * day);
    const later = await customer('Hanna');
    await merge(first.contact.id, later.contact.id);
    const dueAt = new Date(later.boughtAt.getTime() + 180 * day).toISOString();
    const state = await eventually(() => stateOf(first.contact.id), (current) => current.reengagement?.dueAt === dueAt);
    expect(state).toMatchObject({ lifecycleStage: 'customer', lastPurchaseAt: later.boughtAt.toISOString(), reengagement: { phase: 'quiet' } });

    // Past the survivor's own 180 days the merged customer is still one; past the later purchase's it is at risk, once.
    await env.sleep(151 * day);
    expect((await contactRow(first.contact.id)).lifecycleStage).toBe('customer');
    await env.sleep(30 * day);
    await eventually(() => contactRow(first.contact.id), (row) => row.lifecycleStage === 'at_risk');
    const enrollments = await eventually(() => winbacks([first.contact.id, later.contact.id]), (rows) => rows.length > 0);
    expect(enrollments).toEqual([expect.objectContaining({ contactId: first.contact.id, sourceKey: `contact:${first.contact.id}:reengagement:${later.boughtAt.toISOString()}` })]);
    await recordHistory(env.client.workflow.getHandle(contactWorkflowId(first.contact.id)), 'contact-lifecycle-v3-merge-survivor.json');
  });

  it('starts the survivor\'s workflow when only the merged contact had automation running', async () => {
    const lead = await consentingContact(db.prisma, { firstName: 'Ines', ownerId: ritaId });
    const buyer = await customer('Inez');
    await merge(lead.id, buyer.contact.id);
    const state = await eventually(() => stateOf(lead.id), (current) => current.reengagement !== undefined && current.reengagement !== null);
    expect(state).toMatchObject({ lifecycleStage: 'customer', lastPurchaseAt: buyer.boughtAt.toISOString(), reengagement: { phase: 'quiet', dueAt: new Date(buyer.boughtAt.getTime() + 180 * day).toISOString() } });
    expect(await searchStage(lead.id)).toBe('customer');
  });
});

describe('continue-as-new', () => {
  it('a run continued as new keeps the quiet-customer timer and the last purchase it carries', async () => {
    const contact = await consentingContact(db.prisma, { firstName: 'Gus', ownerId: ritaId });
    const now = await env.currentTimeMs();
    const lastPurchaseAt = new Date(now - 179 * day);
    await db.prisma.contact.update({ where: { id: contact.id }, data: { lifecycleStage: 'customer', lastPurchaseAt } });
    const carried = {
      ownerId: ritaId, followUpTaskId: null, welcome: 'sent' as const, lifecycleStage: 'customer', formSubmissions: 1, pending: [],
      lastPurchaseAt: lastPurchaseAt.toISOString(),
      reengagement: { phase: 'quiet' as const, dueAt: new Date(now + day).toISOString(), days: 180, enrollmentId: null },
    };
    await env.client.workflow.start(contactLifecycle, { workflowId: contactWorkflowId(contact.id), taskQueue, args: [{ contactId: contact.id, state: carried }] });
    await env.sleep(2 * day);
    await eventually(() => contactRow(contact.id), (row) => row.lifecycleStage === 'at_risk');
    expect(await db.prisma.enrollment.findFirst({ where: { contactId: contact.id } })).toMatchObject({ sourceKey: `contact:${contact.id}:reengagement:${lastPurchaseAt.toISOString()}` });
    expect((await stateOf(contact.id)).reengagement).toMatchObject({ phase: 'at_risk', days: 60 });
  });
});

describe('form auto-enrollment', () => {
  it('enrolls a submitter of a form with a sequence once per form, however often it submits', async () => {
    const contact = await consentingContact(db.prisma, { firstName: 'Fritz' });
    const submission = { activityId: randomUUID(), formKey: 'demo-contact', welcomeTemplate: 'welcome', enrollSequenceId: winback.id };
    const handle = await env.client.workflow.signalWithStart(contactLifecycle, {
      workflowId: contactWorkflowId(contact.id),
      taskQueue,
      args: [{ contactId: contact.id }],
      signal: formSubmittedSignal,
      signalArgs: [submission],
    });
    await handle.signal(formSubmittedSignal, { ...submission, activityId: randomUUID() });
    await eventually(() => answered(env.client, () => handle.query(contactStateQuery)), (state) => state.formSubmissions === 2 && state.followUpTaskId !== null);
    const enrollments = await db.prisma.enrollment.findMany({ where: { contactId: contact.id } });
    expect(enrollments).toEqual([expect.objectContaining({ sequenceId: winback.id, source: 'form', sourceRef: 'demo-contact', sourceKey: `form:demo-contact:${contact.id}` })]);
  });
});
