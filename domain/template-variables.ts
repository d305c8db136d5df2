import { z } from 'zod';
import { TemplateContextSchema, isLocale } from './schemas/template';

/**
 * The shape of the variables a template may reference, derived from TemplateContextSchema so
 * that validation, the preview body and the OpenAPI document read one declaration.
 */
export type VariableNode =
  | { kind: 'object'; nullable: boolean; fields: Record<string, VariableNode> }
  /** Any key (custom fields): every key is allowed, its value is `values`. */
  | { kind: 'map'; nullable: boolean; values: VariableNode }
  | { kind: 'list'; nullable: boolean; items: VariableNode }
  | { kind: 'value'; nullable: boolean }
  /** Structure unknown (an {{#each}} element of an object, a helper's result): anything goes. */
  | { kind: 'any'; nullable: boolean };

export function variableTreeOf(schema: z.ZodType): VariableNode {
  if (schema instanceof z.ZodOptional) return variableTreeOf(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodNullable) return { ...variableTreeOf(schema.unwrap() as z.ZodType), nullable: true };
  if (schema instanceof z.ZodObject) {
    const fields: Record<string, VariableNode> = {};
    for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) fields[name] = variableTreeOf(field);
    return { kind: 'object', nullable: false, fields };
  }
  if (schema instanceof z.ZodRecord) return { kind: 'map', nullable: false, values: variableTreeOf(schema.valueType as z.ZodType) };
  if (schema instanceof z.ZodArray) return { kind: 'list', nullable: false, items: variableTreeOf(schema.element as z.ZodType) };
  return { kind: 'value', nullable: false };
}

export const templateVariables: VariableNode = variableTreeOf(TemplateContextSchema);

export type RenderContext = Record<string, unknown>;

/**
 * Gives every declared variable a value (null when the caller has none) so that a declared but
 * empty variable renders empty instead of being mistaken for a missing one. An absent nullable
 * group (owner) stays null, so {{#if owner}} still tells "no owner" apart.
 */
export function normalizeRenderContext(input: RenderContext, defaults: { sender?: { company?: string | null; postalAddress?: string | null } } = {}): RenderContext {
  const context = fill(templateVariables, input) as RenderContext;
  const contact = context.contact as Record<string, unknown>;
  if (contact.fullName == null) {
    const joined = [contact.firstName, contact.lastName].filter((part) => typeof part === 'string' && part.trim() !== '').join(' ');
    if (joined) contact.fullName = joined;
  }
  const sender = context.sender as Record<string, unknown>;
  sender.company ??= defaults.sender?.company ?? null;
  sender.postalAddress ??= defaults.sender?.postalAddress ?? null;
  return context;
}

function fill(node: VariableNode, value: unknown): unknown {
  switch (node.kind) {
    case 'object': {
      if (!isRecord(value)) return node.nullable ? null : Object.fromEntries(Object.entries(node.fields).map(([name, child]) => [name, fill(child, undefined)]));
      // Undeclared keys may stay: the strict check has already refused every reference to them.
      const filled: Record<string, unknown> = { ...value };
      for (const [name, child] of Object.entries(node.fields)) filled[name] = fill(child, value[name]);
      return filled;
    }
    case 'map':
      return isRecord(value) ? { ...value } : node.nullable ? null : {};
    default:
      return value === undefined ? null : value;
  }
}

/** The value at a dotted path (`contact.firstName`), or undefined. */
export function valueAt(context: unknown, path: string): unknown {
  let current: unknown = context;
  for (const part of path.split('.')) {
    if (!isRecord(current) || !Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

/** Deep merge for preview data: objects merge, everything else (null included) replaces. */
export function mergeContext(base: RenderContext, override: Record<string, unknown>): RenderContext {
  const merged: RenderContext = { ...base };
  for (const [name, value] of Object.entries(override)) {
    if (value === undefined) continue;
    const current = merged[name];
    merged[name] = isRecord(value) && isRecord(current) ? mergeContext(current, value) : value;
  }
  return merged;
}

export interface ContactForTemplate {
  firstName: string | null;
  lastName: string | null;
  timeZone: string | null;
  customFields: unknown;
  emails: Array<{ address: string; status: string; isPrimary: boolean }>;
  phones: Array<{ e164: string; status: string; isPrimary: boolean }>;
  owner: { name: string; email: string } | null;
}

/**
 * The `contact` and `owner` variables of a stored contact. Contacts have no locale column; a
 * custom field `locale` (e.g. de-DE) is used when it holds a valid locale.
 */
export function contactTemplateVariables(contact: ContactForTemplate): { contact: Record<string, unknown>; owner: Record<string, unknown> | null } {
  const customFields = isRecord(contact.customFields) ? contact.customFields : {};
  const email = pickAddress(contact.emails.map((entry) => ({ value: entry.address, status: entry.status, isPrimary: entry.isPrimary })));
  const phone = pickAddress(contact.phones.map((entry) => ({ value: entry.e164, status: entry.status, isPrimary: entry.isPrimary })));
  return {
    contact: {
      firstName: contact.firstName,
      lastName: contact.lastName,
      fullName: [contact.firstName, contact.lastName].filter(Boolean).join(' ') || null,
      email,
      phone,
      timeZone: contact.timeZone,
      locale: typeof customFields.locale === 'string' && isLocale(customFields.locale) ? customFields.locale : null,
      customFields,
    },
    owner: contact.owner ? { name: contact.owner.name, email: contact.owner.email } : null,
  };
}

function pickAddress(entries: Array<{ value: string; status: string; isPrimary: boolean }>): string | null {
  const valid = entries.filter((entry) => entry.status === 'valid');
  return (valid.find((entry) => entry.isPrimary) ?? valid[0])?.value ?? null;
}

/** Data for previews without a contact: every variable filled, so the whole template shows. */
export function sampleTemplateContext(publicUrl: string): RenderContext {
  return {
    contact: {
      firstName: 'Ada',
      lastName: 'Lovelace',
      fullName: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '+14155550132',
      timeZone: 'Europe/London',
      locale: 'en-GB',
      customFields: {},
    },
    owner: { name: 'Rita Rep', email: 'rita.rep@example.com' },
    deal: { name: 'Acme renewal', amount: 12000, currency: 'EUR', stage: 'Proposal', pipeline: 'Sales', expectedCloseDate: '2026-12-15', idleDays: 7 },
    sender: {},
    links: previewLinks(publicUrl),
    message: { id: 'preview' },
  };
}

/** Placeholder links so a preview shows the marketing footer; real ones are signed per message. */
export function previewLinks(publicUrl: string): { unsubscribe: string; preferences: string } {
  const base = publicUrl.replace(/\/+$/, '');
  return { unsubscribe: `${base}/u/preview`, preferences: `${base}/u/preview?view=preferences` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
