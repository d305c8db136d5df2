import { readFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

type Compiled = { subject: HandlebarsTemplateDelegate; html: HandlebarsTemplateDelegate; text: HandlebarsTemplateDelegate | null };

/**
 * Renders the file templates under templates/ (layouts, partials, email). Each template is
 * compiled once per process and cached; an isolated Handlebars environment keeps helpers and
 * partials from leaking between renderers (tests build several).
 */
export class TemplateRenderer {
  private readonly handlebars = Handlebars.create();
  private readonly compiled = new Map<string, Promise<Compiled>>();
  private layout: HandlebarsTemplateDelegate | null = null;

  constructor(private readonly root: string) {
    this.handlebars.registerHelper('default', (value: unknown, fallback: unknown) =>
      value === undefined || value === null || value === '' ? fallback : value,
    );
    const partialsDir = path.join(root, 'partials');
    for (const file of readdirSync(partialsDir).filter((name) => name.endsWith('.hbs'))) {
      const source = requireText(path.join(partialsDir, file));
      this.handlebars.registerPartial(path.basename(file, '.hbs'), source);
    }
  }

  async renderEmail(key: string, context: Record<string, unknown>): Promise<RenderedEmail> {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(key)) throw new Error(`Invalid template key ${JSON.stringify(key)}`);
    let compiled = this.compiled.get(key);
    if (!compiled) {
      compiled = this.compile(key);
      this.compiled.set(key, compiled);
      compiled.catch(() => this.compiled.delete(key));
    }
    const template = await compiled;
    this.layout ??= this.handlebars.compile(requireText(path.join(this.root, 'layouts', 'email.hbs')));
    const subject = template.subject(context).trim();
    const body = template.html(context);
    const html = this.layout({ ...context, subject, body: new Handlebars.SafeString(body) });
    const text = template.text ? template.text(context).trim() : htmlToText(body);
    return { subject, html, text };
  }

  private async compile(key: string): Promise<Compiled> {
    const base = path.join(this.root, 'email', key);
    const [subject, html, text] = await Promise.all([
      readFile(`${base}.subject.hbs`, 'utf8'),
      readFile(`${base}.html.hbs`, 'utf8'),
      readFile(`${base}.text.hbs`, 'utf8').catch(() => null),
    ]);
    return {
      subject: this.handlebars.compile(subject, { noEscape: true }),
      html: this.handlebars.compile(html),
      text: text === null ? null : this.handlebars.compile(text, { noEscape: true }),
    };
  }
}

/** Startup-time read of small files; the renderer is built once per process. */
function requireText(file: string): string {
  return readFileSync(file, 'utf8');
}

/** A readable plain-text part for clients that do not show HTML. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<a\s[^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/gi, '$2 ($1)')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|h[1-6]|li|tr)>/gi, '\n\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
