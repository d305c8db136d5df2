import { TemplateError, type TemplateRenderer } from '../../activities/templates';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors';
import {
  channelPartProblems,
  type TemplateChannel,
  type TemplateCreate,
  type TemplateParts,
  type TemplatePreviewRequest,
  type TemplatePreviewResult,
  type TemplateSummary,
  type TemplateUpdate,
  type TemplateVersionView,
  type TemplateView,
} from '../../domain/schemas/template';
import { contactTemplateVariables, mergeContext, previewLinks, sampleTemplateContext, type RenderContext } from '../../domain/template-variables';
import { Prisma, type PrismaClient } from '../../runtime/prisma';
import type { AuditContext } from './contacts';

export interface TemplateServiceDeps {
  prisma: PrismaClient;
  renderer: TemplateRenderer;
  publicUrl: string;
}

type StoredTemplate = Prisma.TemplateGetPayload<object>;

/** Stored templates, and the file defaults that no stored template replaces. */
export async function listTemplates(deps: TemplateServiceDeps, channel?: TemplateChannel): Promise<TemplateSummary[]> {
  const rows = await deps.prisma.template.findMany({ where: channel ? { channel } : {}, orderBy: { key: 'asc' } });
  const files = deps.renderer.fileTemplates().filter((file) => !channel || file.channel === channel);
  const stored = rows.map((row) => summaryOf(row, hasFile(deps, row.channel, row.key)));
  const defaults = files
    .filter((file) => !rows.some((row) => row.key === file.key && row.channel === file.channel))
    .map((file): TemplateSummary => ({ key: file.key, channel: file.channel, name: file.key, source: 'file', currentVersion: null, overridesFile: false, updatedAt: null }));
  return [...stored, ...defaults].sort((a, b) => a.key.localeCompare(b.key) || a.channel.localeCompare(b.channel));
}

export async function getTemplate(deps: TemplateServiceDeps, key: string, channel?: TemplateChannel): Promise<TemplateView> {
  const target = await locate(deps, key, channel);
  if (target.stored) {
    const version = await deps.prisma.templateVersion.findUniqueOrThrow({ where: { templateId_version: { templateId: target.stored.id, version: target.stored.currentVersion } } });
    return storedView(target.stored, version, hasFile(deps, target.channel, key));
  }
  const parts = await deps.renderer.fileSource(target.channel, key);
  if (!parts) throw new NotFoundError('Template', key);
  return fileView(key, target.channel, parts);
}

export async function createTemplate(deps: TemplateServiceDeps, input: TemplateCreate, audit: AuditContext): Promise<TemplateView> {
  const parts = partsFor(input.channel, input);
  assertValid(deps, input.channel, parts);
  try {
    return await deps.prisma.$transaction(async (tx) => {
      const row = await tx.template.create({ data: { key: input.key, channel: input.channel, name: input.name, currentVersion: 1 } });
      const version = await tx.templateVersion.create({ data: { templateId: row.id, version: 1, ...parts } });
      await recordAudit(tx, 'template.created', row, null, audit);
      return storedView(row, version, hasFile(deps, row.channel, row.key));
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(`A template with the key ${input.key} already exists; PUT /v1/templates/${input.key} saves a new version.`, [
        { field: 'key', message: 'is taken' },
      ]);
    }
    throw error;
  }
}

/**
 * Saves a new version, after the strict check. On a key that only exists as a file template,
 * the first save stores an override of it (version 1) and the file stays as the default.
 */
export async function updateTemplate(deps: TemplateServiceDeps, key: string, channel: TemplateChannel | undefined, input: TemplateUpdate, audit: AuditContext): Promise<TemplateView> {
  const target = await locate(deps, key, channel, { allowOtherStoredChannel: false });
  const parts = partsFor(target.channel, input);
  assertValid(deps, target.channel, parts);
  try {
    return await deps.prisma.$transaction(async (tx) => {
      let row: StoredTemplate;
      let before: StoredTemplate | null = null;
      if (target.stored) {
        before = target.stored;
        // The increment locks the row: concurrent saves get consecutive versions, never the same one.
        row = await tx.template.update({ where: { id: target.stored.id }, data: { currentVersion: { increment: 1 }, ...(input.name ? { name: input.name } : {}) } });
      } else {
        row = await tx.template.create({ data: { key, channel: target.channel, name: input.name ?? key, currentVersion: 1 } });
      }
      const version = await tx.templateVersion.create({ data: { templateId: row.id, version: row.currentVersion, ...parts } });
      await recordAudit(tx, before ? 'template.updated' : 'template.created', row, before, audit);
      return storedView(row, version, hasFile(deps, row.channel, key));
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`Template ${key} was saved by someone else at the same time; load it and try again.`);
    throw error;
  }
}

export async function listVersions(deps: TemplateServiceDeps, key: string, channel?: TemplateChannel): Promise<TemplateVersionView[]> {
  const target = await locate(deps, key, channel);
  if (!target.stored) return [];
  const versions = await deps.prisma.templateVersion.findMany({ where: { templateId: target.stored.id }, orderBy: { version: 'desc' } });
  return versions.map((version) => ({
    version: version.version,
    current: version.version === target.stored!.currentVersion,
    subject: version.subject,
    html: version.html,
    text: version.text,
    createdAt: version.createdAt.toISOString(),
  }));
}

/** Renders with a contact's data or the sample data; `data` overrides either, field by field. */
export async function previewTemplate(deps: TemplateServiceDeps, key: string, channel: TemplateChannel | undefined, request: TemplatePreviewRequest): Promise<TemplatePreviewResult> {
  const target = await locate(deps, key, channel);
  let context: RenderContext = sampleTemplateContext(deps.publicUrl);
  if (request.contactId) {
    const contact = await deps.prisma.contact.findFirst({
      where: { id: request.contactId, deletedAt: null },
      include: { emails: { orderBy: { createdAt: 'asc' } }, phones: { orderBy: { createdAt: 'asc' } }, owner: true },
    });
    if (!contact) throw new ValidationError([{ field: 'contactId', message: 'is not an existing contact' }]);
    context = { ...contactTemplateVariables(contact), sender: {}, links: previewLinks(deps.publicUrl), message: { id: 'preview' } };
  }
  if (request.data) context = mergeContext(context, request.data);
  return deps.renderer.preview(target.channel, key, context, request.version);
}

interface Target {
  channel: TemplateChannel;
  stored: StoredTemplate | null;
}

/**
 * Which template a key (and optional channel) names. A stored template owns its key on its
 * channel; without a channel, the stored one wins, then the email file, then the SMS file.
 */
async function locate(deps: TemplateServiceDeps, key: string, channel: TemplateChannel | undefined, options = { allowOtherStoredChannel: true }): Promise<Target> {
  const stored = await deps.prisma.template.findUnique({ where: { key } });
  if (stored && (!channel || stored.channel === channel)) return { channel: stored.channel, stored };
  if (stored && !options.allowOtherStoredChannel) {
    throw new ConflictError(`The key ${key} is taken by a stored ${stored.channel} template; a key holds one stored template, so use another key for the ${channel} one.`);
  }
  const fileChannel = channel ?? (['email', 'sms'] as const).find((candidate) => hasFile(deps, candidate, key));
  if (fileChannel && hasFile(deps, fileChannel, key)) return { channel: fileChannel, stored: null };
  throw new NotFoundError(channel ? `${channel === 'email' ? 'Email' : 'SMS'} template` : 'Template', key);
}

/** Why an email cannot be sent with the template `key`, or null: it exists (stored or shipped) and compiles. */
export async function emailTemplateProblem(renderer: TemplateRenderer, key: string): Promise<string | null> {
  try {
    await renderer.resolve('email', key);
    return null;
  } catch (error) {
    if (error instanceof NotFoundError) return `there is no email template "${key}" (neither stored through /v1/templates nor shipped in templates/email)`;
    if (error instanceof TemplateError) return `the email template "${key}" does not compile: ${error.message}`;
    throw error;
  }
}

function hasFile(deps: TemplateServiceDeps, channel: TemplateChannel, key: string): boolean {
  return deps.renderer.fileTemplates().some((file) => file.channel === channel && file.key === key);
}

/** The parts a channel stores: an email's text may be null (derived from the HTML). */
function partsFor(channel: TemplateChannel, input: TemplateParts): { subject: string | null; html: string | null; text: string | null } {
  const problems = channelPartProblems(channel, input);
  if (problems.length > 0) throw new ValidationError(problems.map((problem) => ({ field: problem.field, message: problem.message })));
  return channel === 'email'
    ? { subject: input.subject!, html: input.html!, text: input.text?.trim() ? input.text : null }
    : { subject: null, html: null, text: input.text! };
}

function assertValid(deps: TemplateServiceDeps, channel: TemplateChannel, parts: TemplateParts): void {
  const errors = deps.renderer.validate(channel, parts);
  if (errors.length > 0) throw new ValidationError(errors, 'The template uses something that is not defined or is not valid Handlebars; each error names the part, line and column.');
}

/**
 * The audit entry names the template and version; the content itself is in the immutable
 * version row, so it is not copied into the log.
 */
async function recordAudit(tx: Prisma.TransactionClient, action: string, row: StoredTemplate, before: StoredTemplate | null, audit: AuditContext): Promise<void> {
  const image = (template: StoredTemplate) => ({ key: template.key, channel: template.channel, name: template.name, version: template.currentVersion });
  await tx.auditLog.create({
    data: {
      actorType: 'api_key',
      actorId: audit.actorId,
      action,
      entityType: 'template',
      entityId: row.id,
      ...(before ? { before: image(before) } : {}),
      after: image(row),
      requestId: audit.requestId,
    },
  });
}

function summaryOf(row: StoredTemplate, overridesFile: boolean): TemplateSummary {
  return { key: row.key, channel: row.channel, name: row.name, source: 'database', currentVersion: row.currentVersion, overridesFile, updatedAt: row.updatedAt.toISOString() };
}

function storedView(row: StoredTemplate, version: { subject: string | null; html: string | null; text: string | null }, overridesFile: boolean): TemplateView {
  return { ...summaryOf(row, overridesFile), subject: version.subject, html: version.html, text: version.text, createdAt: row.createdAt.toISOString() };
}

function fileView(key: string, channel: TemplateChannel, parts: TemplateParts): TemplateView {
  return {
    key, channel, name: key, source: 'file', currentVersion: null, overridesFile: false, updatedAt: null, createdAt: null,
    subject: parts.subject ?? null, html: parts.html ?? null, text: parts.text ?? null,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
