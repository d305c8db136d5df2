import Handlebars from 'handlebars';
import { TriggerTextContextSchema } from '../domain/schemas/trigger';
import { variableTreeOf } from '../domain/template-variables';
import { analyzeTemplate } from './templates/analyze';
import { describe } from './templates/engine';
import { helperImplementations, helperSpecs } from './templates/helpers';

/**
 * The short Handlebars texts of trigger definitions: task titles and descriptions, and the
 * strings of a webhook body. They are checked with the same strict analyzer as email templates
 * (a variable not in TriggerTextContext, an unknown helper or a syntax error is refused when the
 * trigger is saved, with line and column), rather than Handlebars' own `strict` mode, which only
 * fails at render time with real data, in the worker, long after sales ops saved the trigger.
 * They are plain text: nothing is HTML-escaped.
 */
const variables = variableTreeOf(TriggerTextContextSchema);
const noPartials = new Map<string, hbs.AST.Program>();
const handlebars = Handlebars.create();
for (const [name, helper] of Object.entries(helperImplementations)) handlebars.registerHelper(name, helper);
const knownHelpers: Record<string, boolean> = Object.fromEntries(Object.keys(helperSpecs).map((name) => [name, true]));

const compiled = new Map<string, HandlebarsTemplateDelegate>();
const cacheLimit = 1_000;

export type TriggerTextContext = Record<'deal' | 'contact' | 'owner' | 'stageChange', unknown>;

/** `line L, column C: ...` for each problem; empty when the text is valid. */
export function triggerTextProblems(source: string): string[] {
  return analyzeTemplate(source, { variables, helpers: helperSpecs, partials: noPartials, forbidUnescaped: false }).problems.map(describe);
}

export function renderTriggerText(source: string, context: TriggerTextContext): string {
  let template = compiled.get(source);
  if (!template) {
    const problems = triggerTextProblems(source);
    // Saved definitions were checked; this only guards against a definition written around the API.
    if (problems.length > 0) throw new Error(`Trigger text is not valid: ${problems.join('; ')}`);
    template = handlebars.compile(source, { noEscape: true, knownHelpers, knownHelpersOnly: true });
    if (compiled.size >= cacheLimit) compiled.delete(compiled.keys().next().value!);
    compiled.set(source, template);
  }
  return template(context, { data: { renderWarnings: [] } });
}

/** Renders every string of a JSON value (a webhook body), leaving its shape and other values as they are. */
export function renderTriggerJson(value: unknown, context: TriggerTextContext): unknown {
  if (typeof value === 'string') return renderTriggerText(value, context);
  if (Array.isArray(value)) return value.map((item) => renderTriggerJson(item, context));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderTriggerJson(item, context)]));
  }
  return value;
}
