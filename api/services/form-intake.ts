import { companyMatchKey, workEmailDomain } from '../../domain/matching';
import type { FormSubmission } from '../../domain/schemas/form-submission';
import { Prisma, type PrismaClient } from '../../runtime/prisma';
import type { Form } from '../../prisma/generated/client';
import { recordConsentChange } from './consent';

export interface RecordedSubmission {
  contactId: string;
  activityId: string;
  lifecycleStage: string;
  createdContact: boolean;
}

type Tx = Prisma.TransactionClient;

/** Serialization failures and unique violations from a concurrent twin are retried. */
const maxAttempts = 5;

/**
 * Writes a form submission in one transaction: the contact (found by normalised email, then
 * phone, or created), the form_submitted Activity, consent, and the InboundEvent that makes a
 * resent submission id harmless. Two concurrent submissions of the same new person race on
 * the unique address indexes; the loser retries and finds the winner's contact.
 */
export async function recordFormSubmission(prisma: PrismaClient, form: Form, submission: FormSubmission): Promise<RecordedSubmission> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await prisma.$transaction((tx) => writeSubmission(tx, form, submission));
    } catch (error) {
      if (attempt >= maxAttempts || !isRetryableConflict(error)) throw error;
    }
  }
}

async function writeSubmission(tx: Tx, form: Form, submission: FormSubmission): Promise<RecordedSubmission> {
  const eventSource = `form:${form.key}`;
  if (submission.submissionId) {
    const previous = await tx.inboundEvent.findUnique({
      where: { source_externalId: { source: eventSource, externalId: submission.submissionId } },
    });
    if (previous?.contactId && previous.activityId) {
      const contact = await tx.contact.findUniqueOrThrow({ where: { id: previous.contactId }, select: { lifecycleStage: true } });
      return { contactId: previous.contactId, activityId: previous.activityId, lifecycleStage: contact.lifecycleStage, createdContact: false };
    }
  }

  const byEmail = submission.email
    ? await tx.contactEmail.findUnique({ where: { address: submission.email }, select: { contactId: true } })
    : null;
  const byPhone = submission.phone
    ? await tx.contactPhone.findUnique({ where: { e164: submission.phone }, select: { contactId: true } })
    : null;
  const existingId = byEmail?.contactId ?? byPhone?.contactId;
  const companyId = submission.company ? await findOrCreateCompany(tx, submission.company, submission.email) : undefined;
  const now = new Date();

  let contactId: string;
  let lifecycleStage: string;
  let createdContact = false;
  if (existingId) {
    const existing = await tx.contact.findUniqueOrThrow({ where: { id: existingId } });
    lifecycleStage = existing.lifecycleStage;
    await tx.contact.update({
      where: { id: existingId },
      data: {
        // The person typed these themselves just now: newer values win.
        ...(submission.firstName ? { firstName: submission.firstName } : {}),
        ...(submission.lastName ? { lastName: submission.lastName } : {}),
        ...(companyId && !existing.companyId ? { companyId } : {}),
        ...(existing.source ? {} : { source: submission.utmSource ?? form.source }),
        ...(existing.deletedAt ? { deletedAt: null } : {}),
        customFields: { ...(existing.customFields as Record<string, unknown>), ...submission.customFields } as Prisma.InputJsonObject,
      },
    });
    // An address that already belongs to someone else stays theirs; merging is a human decision.
    if (submission.email && !byEmail) await tx.contactEmail.create({ data: { contactId: existingId, address: submission.email } });
    if (submission.phone && !byPhone) await tx.contactPhone.create({ data: { contactId: existingId, e164: submission.phone } });
    contactId = existingId;
  } else {
    const created = await tx.contact.create({
      data: {
        firstName: submission.firstName ?? null,
        lastName: submission.lastName ?? null,
        companyId: companyId ?? null,
        source: submission.utmSource ?? form.source,
        customFields: submission.customFields as Prisma.InputJsonObject,
        emails: submission.email ? { create: { address: submission.email, isPrimary: true } } : undefined,
        phones: submission.phone ? { create: { e164: submission.phone, isPrimary: true } } : undefined,
      },
    });
    contactId = created.id;
    lifecycleStage = created.lifecycleStage;
    createdContact = true;
  }

  if (submission.consent && form.grantsEmailConsent) {
    // Through the ledger, so the opt-in can be proven later (which form, which page, when).
    await recordConsentChange(
      tx,
      {
        contactId,
        channel: 'email',
        status: 'granted',
        source: `form:${form.key}`,
        method: 'checkbox',
        evidence: { formKey: form.key, pageUrl: submission.pageUrl ?? null, submissionId: submission.submissionId ?? null },
        at: now,
      },
      { actorType: 'form', actorId: form.key },
    );
  }

  const activity = await tx.activity.create({
    data: {
      contactId,
      type: 'form_submitted',
      occurredAt: now,
      subject: `Submitted form ${form.name}`,
      data: {
        formKey: form.key,
        pageUrl: submission.pageUrl ?? null,
        referrer: submission.referrer ?? null,
        utm: { source: submission.utmSource ?? null, medium: submission.utmMedium ?? null, campaign: submission.utmCampaign ?? null },
        emailConflictContactId: byPhone && byEmail && byPhone.contactId !== byEmail.contactId ? byPhone.contactId : null,
      },
    },
  });

  if (submission.submissionId) {
    await tx.inboundEvent.create({
      data: { source: eventSource, externalId: submission.submissionId, contactId, activityId: activity.id },
    });
  }
  return { contactId, activityId: activity.id, lifecycleStage, createdContact };
}

/**
 * The company a submitter named, found by its name without case, accents or legal form
 * ("ACME Inc." finds "Acme"), else by the domain of a work email address, else created with
 * that domain. Companies from before name keys existed are found by name and get their key.
 */
async function findOrCreateCompany(tx: Tx, name: string, email: string | undefined): Promise<string> {
  const nameKey = companyMatchKey(name) || null;
  const byKey = nameKey ? await tx.company.findFirst({ where: { nameKey, deletedAt: null }, orderBy: { createdAt: 'asc' }, select: { id: true } }) : null;
  if (byKey) return byKey.id;
  const domain = email ? workEmailDomain(email) : null;
  const byDomain = domain ? await tx.company.findFirst({ where: { domain, deletedAt: null }, select: { id: true } }) : null;
  if (byDomain) return byDomain.id;
  const legacy = await tx.company.findFirst({ where: { name: { equals: name, mode: 'insensitive' }, nameKey: null, deletedAt: null }, select: { id: true } });
  if (legacy) {
    await tx.company.update({ where: { id: legacy.id }, data: { nameKey } });
    return legacy.id;
  }
  // The domain's unique index is the dedupe key; a domain held by a deleted company stays with it.
  const domainFree = domain && !(await tx.company.findUnique({ where: { domain }, select: { id: true } }));
  const created = await tx.company.create({ data: { name, nameKey, domain: domainFree ? domain : null } });
  return created.id;
}

function isRetryableConflict(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) return error.code === 'P2002' || error.code === 'P2034';
  return false;
}
