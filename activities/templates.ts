import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, type FieldError } from '../domain/errors';
import type { TemplateChannel, TemplateParts, TemplatePreviewResult } from '../domain/schemas/template';
import type { RenderContext } from '../domain/template-variables';
import type { PrismaClient } from '../runtime/prisma';
import { TemplateEngine, type CompiledContent, type EngineOptions } from './templates/engine';

export { htmlToText } from './templates/html-to-text';
export { TemplateError } from './templates/engine';

/** The templates folder shipped next to the code. */
export const templatesRoot = path.resolve(__dirname, '..', 'templates');

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export interface RenderedSms {
  text: string;
}

/** Where the stored (API-edited) templates come from; Prisma in the processes, a fake in unit tests. */
export interface TemplateRepository {
  /** The stored template with this key and its current version, or null. */
  current(key: string): Promise<{ id: string; channel: TemplateChannel; version: number } | null>;
  content(templateId: string, version: number): Promise<TemplateParts | null>;
}

export function prismaTemplateRepository(prisma: PrismaClient): TemplateRepository {
  return {
    async current(key) {
      const row = await prisma.template.findUnique({ where: { key }, select: { id: true, channel: true, currentVersion: true } });
      return row ? { id: row.id, channel: row.channel, version: row.currentVersion } : null;
    },
    content(templateId, version) {
      return prisma.templateVersion.findUnique({ where: { templateId_version: { templateId, version } }, select: { subject: true, html: true, text: true } });
    },
  };
}

export interface ResolvedTemplate {
  key: string;
  channel: TemplateChannel;
  source: 'file' | 'database';
  /** The stored version; null for a file template. */
  version: number | null;
  content: CompiledContent;
}

export interface FileTemplate {
  key: string;
  channel: TemplateChannel;
}

const keyPattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const cacheLimit = 500;

/**
 * Renders email and SMS templates. A stored template (created or edited through /v1/templates)
 * overrides the file template with the same key and channel; the files under templates/ are
 * the defaults. Each template is compiled once: the cache key holds the stored version, so a
 * new version is compiled on its first render while versions never change once written.
 * Only the current-version lookup (one indexed read) happens per render, which keeps every
 * API and worker process on the same version without sharing memory.
 */
export class TemplateRenderer {
  readonly engine: TemplateEngine;
  private readonly repository: TemplateRepository | null;
  private readonly compiled = new Map<string, Promise<ResolvedTemplate>>();
  private readonly files: FileTemplate[];

  constructor(
    private readonly root: string,
    templates: PrismaClient | TemplateRepository | null = null,
    options: EngineOptions = {},
  ) {
    this.engine = new TemplateEngine(root, options);
    this.repository = templates === null ? null : isRepository(templates) ? templates : prismaTemplateRepository(templates);
    this.files = listFileTemplates(root);
  }

  /** `version`: a stored template's version (pinned by a sequence); absent, the current one. */
  async renderEmail(key: string, context: RenderContext, version?: number): Promise<RenderedEmail> {
    const template = await this.resolve('email', key, version);
    const { subject, html, text } = this.engine.renderEmail(key, template.content, context);
    return { subject, html, text };
  }

  async renderSms(key: string, context: RenderContext, version?: number): Promise<RenderedSms> {
    const template = await this.resolve('sms', key, version);
    return { text: this.engine.renderSms(key, template.content, context).text };
  }

  /** A render for people: the same output as a send, plus what may be wrong with it. */
  async preview(channel: TemplateChannel, key: string, context: RenderContext, version?: number): Promise<TemplatePreviewResult> {
    const template = await this.resolve(channel, key, version);
    const head = { key, channel, source: template.source, version: template.version };
    if (channel === 'email') {
      const rendered = this.engine.renderEmail(key, template.content, context);
      const warnings = [...this.engine.emptyVariableWarnings(template.content, rendered.context), ...rendered.warnings];
      return { ...head, subject: rendered.subject, html: rendered.html, text: rendered.text, warnings };
    }
    const rendered = this.engine.renderSms(key, template.content, context);
    const warnings = [...this.engine.emptyVariableWarnings(template.content, rendered.context), ...rendered.warnings];
    const segments = smsSegments(rendered.text);
    if (segments.count > 1) {
      warnings.push(`the SMS has ${segments.length} characters and is sent as ${segments.count} segments${segments.unicode ? ' (it has characters outside the GSM alphabet, so a segment holds 70)' : ''}`);
    }
    return { ...head, subject: null, html: null, text: rendered.text, warnings };
  }

  /** The template a send would use: the stored one if its key and channel match, else the file. */
  async resolve(channel: TemplateChannel, key: string, version?: number): Promise<ResolvedTemplate> {
    if (!keyPattern.test(key)) throw new Error(`Invalid template key ${JSON.stringify(key)}`);
    const stored = this.repository ? await this.repository.current(key) : null;
    if (stored && stored.channel === channel) {
      const wanted = version ?? stored.version;
      return this.cached(`db:${stored.id}:${wanted}`, async () => {
        const parts = await this.repository!.content(stored.id, wanted);
        if (!parts) throw new NotFoundError('Template version', `${key} v${wanted}`);
        return { key, channel, source: 'database', version: wanted, content: this.engine.compile(`${key} v${wanted}`, channel, parts) };
      });
    }
    if (version !== undefined) throw new NotFoundError('Template version', `${key} v${version}`);
    return this.cached(`file:${channel}:${key}`, async () => {
      const parts = await this.fileSource(channel, key);
      if (!parts) throw new NotFoundError(channel === 'email' ? 'Email template' : 'SMS template', key);
      return { key, channel, source: 'file', version: null, content: this.engine.compile(`${channel}/${key}`, channel, parts) };
    });
  }

  /** The file templates shipped under templates/email and templates/sms. */
  fileTemplates(): readonly FileTemplate[] {
    return this.files;
  }

  async fileSource(channel: TemplateChannel, key: string): Promise<TemplateParts | null> {
    if (!keyPattern.test(key) || !this.files.some((file) => file.channel === channel && file.key === key)) return null;
    if (channel === 'sms') return { text: await readFile(path.join(this.root, 'sms', `${key}.hbs`), 'utf8') };
    const base = path.join(this.root, 'email', key);
    const [subject, html, text] = await Promise.all([
      readFile(`${base}.subject.hbs`, 'utf8'),
      readFile(`${base}.html.hbs`, 'utf8'),
      readFile(`${base}.text.hbs`, 'utf8').catch(() => null),
    ]);
    return { subject, html, text };
  }

  /** What a save checks: the problems of each part, `line L, column C: ...`; empty when valid. */
  validate(channel: TemplateChannel, parts: TemplateParts): FieldError[] {
    return this.engine.validate(channel, parts);
  }

  private cached(cacheKey: string, load: () => Promise<ResolvedTemplate>): Promise<ResolvedTemplate> {
    const hit = this.compiled.get(cacheKey);
    if (hit) {
      // Least recently used goes first: re-inserting keeps the live versions at the end.
      this.compiled.delete(cacheKey);
      this.compiled.set(cacheKey, hit);
      return hit;
    }
    const pending = load();
    this.compiled.set(cacheKey, pending);
    pending.catch(() => this.compiled.delete(cacheKey));
    if (this.compiled.size > cacheLimit) this.compiled.delete(this.compiled.keys().next().value!);
    return pending;
  }
}

function isRepository(value: PrismaClient | TemplateRepository): value is TemplateRepository {
  return typeof (value as Partial<TemplateRepository>).current === 'function' && typeof (value as Partial<TemplateRepository>).content === 'function';
}

/** email/<key>.subject.hbs + email/<key>.html.hbs (+ optional .text.hbs), and sms/<key>.hbs. */
function listFileTemplates(root: string): FileTemplate[] {
  const found: FileTemplate[] = [];
  const emailDir = path.join(root, 'email');
  if (existsSync(emailDir)) {
    const names = new Set(readdirSync(emailDir));
    for (const name of names) {
      const match = /^(.+)\.html\.hbs$/.exec(name);
      if (match && keyPattern.test(match[1]!) && names.has(`${match[1]}.subject.hbs`)) found.push({ key: match[1]!, channel: 'email' });
    }
  }
  const smsDir = path.join(root, 'sms');
  if (existsSync(smsDir)) {
    for (const name of readdirSync(smsDir)) {
      const match = /^(.+)\.hbs$/.exec(name);
      if (match && keyPattern.test(match[1]!)) found.push({ key: match[1]!, channel: 'sms' });
    }
  }
  return found.sort((a, b) => a.key.localeCompare(b.key) || a.channel.localeCompare(b.channel));
}

/**
 * Segments a carrier bills: 160 GSM-7 characters in one, 153 each when split; 70 and 67 when
 * any character needs UCS-2 (emoji, most non-Latin scripts).
 */
export function smsSegments(text: string): { length: number; count: number; unicode: boolean } {
  const basic = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
  const extended = '^{}\\[~]|€\f';
  let gsmLength = 0;
  let unicode = false;
  for (const char of text) {
    if (basic.includes(char)) gsmLength += 1;
    else if (extended.includes(char)) gsmLength += 2;
    else unicode = true;
  }
  const length = unicode ? [...text].reduce((sum, char) => sum + (char.codePointAt(0)! > 0xffff ? 2 : 1), 0) : gsmLength;
  const [single, multi] = unicode ? [70, 67] : [160, 153];
  return { length, count: length === 0 ? 0 : length <= single ? 1 : Math.ceil(length / multi), unicode };
}
