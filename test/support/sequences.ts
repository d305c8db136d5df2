import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { SequenceDefinitionSchema } from '../../domain/schemas/sequence';
import type { Prisma } from '../../runtime/prisma';
import { sequenceEnrollmentWorkflowType } from '../../workflows/enrollment-messages';
import type { sequenceEnrollment, SequenceEnrollmentRunInput } from '../../workflows/sequence-enrollment';
import { enrollmentWorkflowId } from '../../workflows/workflow-ids';
import type { TestDatabase } from './database';

/**
 * Sequence rows and enrollment workflows for the time-skipping tests: rows written directly
 * (the sequences API has its own tests) and workflows started with the environment's client;
 * the worker is time-skipping.ts startCaptureWorker.
 */

/** A stored template with one version per entry; the last one is current. */
export async function createTemplate(prisma: TestDatabase['prisma'], key: string, channel: 'email' | 'sms', versions: Array<{ subject?: string; html?: string; text?: string }>) {
  return prisma.template.create({
    data: {
      key,
      channel,
      name: key,
      currentVersion: versions.length,
      versions: { create: versions.map((parts, index) => ({ version: index + 1, subject: parts.subject ?? null, html: parts.html ?? null, text: parts.text ?? null })) },
    },
  });
}

/** A contact with a valid email and phone and marketing consent on both channels. */
export async function consentingContact(
  prisma: TestDatabase['prisma'],
  options: { firstName: string; ownerId?: string | null; timeZone?: string | null; companyId?: string | null },
) {
  const tag = randomUUID().slice(0, 8);
  const now = new Date();
  return prisma.contact.create({
    data: {
      firstName: options.firstName,
      ownerId: options.ownerId ?? null,
      timeZone: options.timeZone ?? null,
      companyId: options.companyId ?? null,
      emails: { create: { address: `${options.firstName.toLowerCase()}-${tag}@example.com`, isPrimary: true } },
      phones: { create: { e164: `+1415${String(Math.floor(Math.random() * 9_000_000) + 1_000_000)}`, isPrimary: true } },
      consents: { create: [{ channel: 'email', status: 'granted', source: 'test', at: now }, { channel: 'sms', status: 'granted', source: 'test', at: now }] },
    },
  });
}

/** A sequence whose versions are published as given (definitions go through the schema, so defaults apply). */
export async function createSequence(prisma: TestDatabase['prisma'], versions: Array<{ definition: unknown; templatePins?: Record<string, number | 'file'> }>) {
  return prisma.sequence.create({
    data: {
      name: `sequence ${randomUUID().slice(0, 8)}`,
      latestVersion: versions.length,
      publishedVersion: versions.length,
      versions: {
        create: versions.map((entry, index) => ({
          version: index + 1,
          status: 'published',
          definition: SequenceDefinitionSchema.parse(entry.definition) as unknown as Prisma.InputJsonObject,
          templatePins: entry.templatePins ?? {},
          publishedAt: new Date(),
        })),
      },
    },
  });
}

/** Adds and publishes the next version, as an edit of a running sequence would. */
export async function publishNextVersion(prisma: TestDatabase['prisma'], sequenceId: string, definition: unknown, templatePins: Record<string, number | 'file'> = {}) {
  const sequence = await prisma.sequence.findUniqueOrThrow({ where: { id: sequenceId } });
  const version = sequence.latestVersion + 1;
  await prisma.sequenceVersion.create({
    data: { sequenceId, version, status: 'published', definition: SequenceDefinitionSchema.parse(definition) as unknown as Prisma.InputJsonObject, templatePins, publishedAt: new Date() },
  });
  await prisma.sequence.update({ where: { id: sequenceId }, data: { latestVersion: version, publishedVersion: version } });
  return version;
}

/** The Enrollment row as enrollContact writes it, then the workflow started as enrollContact starts it. */
export async function enroll(
  // Only the client is used, so a test on the shared dev server passes its stack's: { client }.
  env: Pick<TestWorkflowEnvironment, 'client'>,
  prisma: TestDatabase['prisma'],
  taskQueue: string,
  sequence: { id: string; publishedVersion: number | null },
  contactId: string,
  options: { enrollmentId?: string; input?: Omit<SequenceEnrollmentRunInput, 'enrollmentId'> } = {},
) {
  const workflowId = enrollmentWorkflowId(sequence.id, contactId);
  const enrollment = await prisma.enrollment.create({
    data: {
      ...(options.enrollmentId ? { id: options.enrollmentId } : {}),
      sequenceId: sequence.id,
      version: sequence.publishedVersion!,
      contactId,
      status: 'active',
      activeKey: `${sequence.id}:${contactId}`,
      source: 'api',
      workflowId,
    },
  });
  const handle = await env.client.workflow.start<typeof sequenceEnrollment>(sequenceEnrollmentWorkflowType, {
    workflowId,
    taskQueue,
    args: [{ enrollmentId: enrollment.id, ...options.input }],
    memo: { enrollmentId: enrollment.id },
  });
  return { enrollment, handle, workflowId };
}
