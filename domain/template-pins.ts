import { z } from 'zod';
import type { TemplateChannel } from './schemas/template';

/**
 * The template versions a published sequence version sends, fixed when it is published, so an
 * edit of a template never reaches contacts mid-sequence by surprise. Keyed `channel:key`; a
 * stored template pins its version number, a file template (templates/ shipped with the code)
 * pins `"file"`: it changes only with a deploy.
 */
export const TemplatePinSchema = z.union([z.number().int().positive(), z.literal('file')]);
export type TemplatePin = z.infer<typeof TemplatePinSchema>;

export const TemplatePinsSchema = z
  .record(z.string().regex(/^(email|sms):[a-z0-9][a-z0-9_-]{0,63}$/), TemplatePinSchema)
  .meta({ id: 'TemplatePins', description: 'Template versions this sequence version sends, keyed `channel:key`: a stored template\'s version number, or `"file"` for a template shipped in templates/.', example: { 'email:intro': 3, 'sms:nudge': 'file' } });
export type TemplatePins = z.infer<typeof TemplatePinsSchema>;

export function templatePinKey(channel: TemplateChannel, key: string): string {
  return `${channel}:${key}`;
}

/** The pinned version of a template: a number, `file`, or undefined when the version pins nothing for it. */
export function pinnedTemplate(pins: TemplatePins, channel: TemplateChannel, key: string): TemplatePin | undefined {
  return pins[templatePinKey(channel, key)];
}
