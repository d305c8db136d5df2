import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { ValidationError, type FieldError } from '../../domain/errors';
import type { TemplateChannel, TemplateParts } from '../../domain/schemas/template';
import {
  normalizeRenderContext,
  sampleTemplateContext,
  templateVariables,
  valueAt,
  type RenderContext,
  type VariableNode,
} from '../../domain/template-variables';
import { analyzeProgram, parseTemplate, type TemplateProblem, type VariableReference } from './analyze';
import { helperImplementations, helperSpecs, warningsKey } from './helpers';
import { htmlToText } from './html-to-text';

export type TemplateField = 'subject' | 'html' | 'text';

export interface CompiledPart {
  render: HandlebarsTemplateDelegate;
  references: VariableReference[];
}

export interface CompiledContent {
  channel: TemplateChannel;
  subject: CompiledPart | null;
  html: CompiledPart | null;
  text: CompiledPart | null;
}

export interface EngineOptions {
  /** Filled in where the caller's context has none: the postal address comes from SENDER_POSTAL_ADDRESS. */
  sender?: { company?: string | null; postalAddress?: string | null };
}

export interface EmailOutput {
  subject: string;
  html: string;
  text: string;
  warnings: string[];
  context: RenderContext;
}

/**
 * A template that is not valid, with one entry per field and position. It is a
 * ValidationError so the API answers 422 with the list; in a worker it fails the send the same
 * way on every attempt, which the workflow can treat as non-retryable by its name.
 */
export class TemplateError extends ValidationError {
  constructor(readonly template: string, errors: FieldError[]) {
    super(errors, `Template ${template} is not valid: ${errors.map((error) => `${error.field}: ${error.message}`).join('; ')}`);
    this.name = 'TemplateError';
  }
}

const knownHelpers: Record<string, boolean> = Object.fromEntries(Object.keys(helperSpecs).map((name) => [name, true]));

/**
 * One isolated Handlebars environment with the helpers, the partials and the layouts under a
 * templates root. It checks template sources against the declared variables, compiles them
 * and renders them; it does no I/O after construction.
 */
export class TemplateEngine {
  private readonly handlebars = Handlebars.create();
  private readonly partials = new Map<string, hbs.AST.Program>();
  private readonly htmlLayout: HandlebarsTemplateDelegate;
  private readonly textLayout: HandlebarsTemplateDelegate | null;

  constructor(root: string, private readonly options: EngineOptions = {}) {
    for (const [name, helper] of Object.entries(helperImplementations)) this.handlebars.registerHelper(name, helper);

    const partialsDir = path.join(root, 'partials');
    const partialFiles = existsSync(partialsDir) ? readdirSync(partialsDir).filter((file) => file.endsWith('.hbs')) : [];
    for (const file of partialFiles) {
      const name = path.basename(file, '.hbs');
      const source = readFileSync(path.join(partialsDir, file), 'utf8');
      const parsed = parseTemplate(source);
      if (!parsed.ok) throw new Error(`templates/partials/${file}: ${describe(parsed.problem)}`);
      this.partials.set(name, parsed.program);
      this.handlebars.registerPartial(name, source);
    }

    // The layouts also see the rendered subject and body; they are checked like any template.
    const layoutVariables = withFields(templateVariables, { subject: { kind: 'value', nullable: false }, body: { kind: 'value', nullable: false } });
    this.htmlLayout = this.compileFile(path.join(root, 'layouts', 'email.hbs'), layoutVariables, true);
    const textLayoutFile = path.join(root, 'layouts', 'email.text.hbs');
    this.textLayout = existsSync(textLayoutFile) ? this.compileFile(textLayoutFile, layoutVariables, false) : null;
  }

  /** Problems of each given part, as the API reports them: `line L, column C: ...`. */
  check(parts: TemplateParts): FieldError[] {
    const errors: FieldError[] = [];
    for (const field of ['subject', 'html', 'text'] as const) {
      const source = parts[field];
      if (typeof source !== 'string') continue;
      const { problems } = this.analyze(field, source);
      errors.push(...problems.map((problem) => ({ field, message: describe(problem) })));
    }
    return errors;
  }

  /**
   * The check a save runs: the static check, then one render with sample data so that nothing
   * the checker cannot see (a helper failing on a literal) reaches a send.
   */
  validate(channel: TemplateChannel, parts: TemplateParts): FieldError[] {
    const errors = this.check(parts);
    if (errors.length > 0) return errors;
    try {
      const content = this.compile('draft', channel, parts);
      const sample = sampleTemplateContext('https://example.com');
      if (channel === 'email') this.renderEmail('draft', content, sample);
      else this.renderSms('draft', content, sample);
      return [];
    } catch (error) {
      if (error instanceof ValidationError) return error.errors;
      throw error;
    }
  }

  /** Compiles the parts a channel uses; throws TemplateError listing every problem. */
  compile(label: string, channel: TemplateChannel, parts: TemplateParts): CompiledContent {
    const errors: FieldError[] = [];
    const part = (field: TemplateField, required: boolean): CompiledPart | null => {
      const source = parts[field];
      if (typeof source !== 'string' || (!required && source.trim() === '')) {
        if (required) errors.push({ field, message: 'is missing' });
        return null;
      }
      const { problems, references } = this.analyze(field, source);
      if (problems.length > 0) {
        errors.push(...problems.map((problem) => ({ field, message: describe(problem) })));
        return null;
      }
      // Only HTML is escaped: a subject is a header and a text part or SMS is plain text.
      const render = this.handlebars.compile(source, { noEscape: field !== 'html', knownHelpers, knownHelpersOnly: true });
      return { render, references };
    };
    const content: CompiledContent =
      channel === 'email'
        ? { channel, subject: part('subject', true), html: part('html', true), text: part('text', false) }
        : { channel, subject: null, html: null, text: part('text', true) };
    if (errors.length > 0) throw new TemplateError(label, errors);
    return content;
  }

  renderEmail(label: string, content: CompiledContent, input: RenderContext): EmailOutput {
    if (content.channel !== 'email' || !content.subject || !content.html) throw new TemplateError(label, [{ field: 'channel', message: 'is not an email template' }]);
    const context = normalizeRenderContext(input, this.options);
    const warnings: string[] = [];
    // One line: a line break in a subject would end the header.
    const subject = this.run(label, 'subject', content.subject, context, warnings).replace(/\s+/g, ' ').trim();
    const body = this.run(label, 'html', content.html, context, warnings);
    const html = this.htmlLayout({ ...context, subject, body: new Handlebars.SafeString(body) });
    const text = content.text ? this.run(label, 'text', content.text, context, warnings).trim() : htmlToText(body);
    return { subject, html, text: this.textLayout ? this.textLayout({ ...context, body: text }).trim() : text, warnings, context };
  }

  renderSms(label: string, content: CompiledContent, input: RenderContext): { text: string; warnings: string[]; context: RenderContext } {
    if (content.channel !== 'sms' || !content.text) throw new TemplateError(label, [{ field: 'channel', message: 'is not an SMS template' }]);
    const context = normalizeRenderContext(input, this.options);
    const warnings: string[] = [];
    return { text: this.run(label, 'text', content.text, context, warnings).trim(), warnings, context };
  }

  /** Variables printed without a guard that are empty in this context: worth a look in a preview. */
  emptyVariableWarnings(content: CompiledContent, context: RenderContext): string[] {
    const warnings = new Set<string>();
    for (const field of ['subject', 'html', 'text'] as const) {
      for (const reference of content[field]?.references ?? []) {
        if (reference.guarded) continue;
        const value = valueAt(context, reference.path);
        if (value === undefined || value === null || value === '') {
          warnings.add(`${field}: line ${reference.line}, column ${reference.column}: ${reference.path} is empty with this data`);
        }
      }
    }
    return [...warnings];
  }

  private analyze(field: TemplateField, source: string): { problems: TemplateProblem[]; references: VariableReference[] } {
    const parsed = parseTemplate(source);
    if (!parsed.ok) return { problems: [parsed.problem], references: [] };
    return analyzeProgram(parsed.program, { variables: templateVariables, helpers: helperSpecs, partials: this.partials, forbidUnescaped: field === 'html' });
  }

  private run(label: string, field: TemplateField, part: CompiledPart, context: RenderContext, warnings: string[]): string {
    const sink: string[] = [];
    let output: string;
    try {
      output = part.render(context, { data: { [warningsKey]: sink } });
    } catch (error) {
      const failure = error as { message?: string; lineNumber?: number; column?: number };
      const at = typeof failure.lineNumber === 'number' ? `line ${failure.lineNumber}, column ${(failure.column ?? 0) + 1}: ` : '';
      throw new TemplateError(label, [{ field, message: `${at}rendering failed: ${(failure.message ?? String(error)).replace(/ - \d+:\d+$/, '')}` }]);
    }
    warnings.push(...sink.map((warning) => `${field}: ${warning}`));
    return output;
  }

  private compileFile(file: string, variables: VariableNode, escape: boolean): HandlebarsTemplateDelegate {
    const source = readFileSync(file, 'utf8');
    const parsed = parseTemplate(source);
    const problems = parsed.ok ? analyzeProgram(parsed.program, { variables, helpers: helperSpecs, partials: this.partials, forbidUnescaped: false }).problems : [parsed.problem];
    if (problems.length > 0) throw new Error(`${file}: ${problems.map(describe).join('; ')}`);
    return this.handlebars.compile(source, { noEscape: !escape, knownHelpers, knownHelpersOnly: true });
  }
}

export function describe(problem: TemplateProblem): string {
  return `line ${problem.line}, column ${problem.column}: ${problem.message}`;
}

function withFields(node: VariableNode, fields: Record<string, VariableNode>): VariableNode {
  if (node.kind !== 'object') throw new Error('the template variables must be an object');
  return { ...node, fields: { ...node.fields, ...fields } };
}
