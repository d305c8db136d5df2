import Handlebars from 'handlebars';
import type { VariableNode } from '../../domain/template-variables';
import type { HelperSpec } from './helpers';

/**
 * Strict checking of a template against the declared variables, before it is saved or
 * rendered. Handlebars' own `strict: true` only fails at render time, with real data, and it
 * throws on `{{owner.name}}` when a contact simply has no owner (a declared, null value), so
 * it cannot be the check. Walking the template's syntax tree instead finds every reference to
 * an undeclared name, an unknown property path or an unknown helper, whatever the data, and
 * says where it is.
 */

/** Line and column are 1-based, as an editor shows them. */
export interface TemplateProblem {
  line: number;
  column: number;
  message: string;
}

/** A variable the template prints or passes to a helper, resolved to its dotted path. */
export interface VariableReference {
  path: string;
  /** Inside {{#if path}}, {{#with path}}, or the first argument of `default`: empty is expected. */
  guarded: boolean;
  line: number;
  column: number;
}

export interface Analysis {
  problems: TemplateProblem[];
  references: VariableReference[];
}

export interface AnalyzeOptions {
  variables: VariableNode;
  helpers: Readonly<Record<string, HelperSpec>>;
  partials: ReadonlyMap<string, hbs.AST.Program>;
  /** In HTML, {{{x}}} would put contact data into the page unescaped. */
  forbidUnescaped: boolean;
}

type Parsed = { ok: true; program: hbs.AST.Program } | { ok: false; problem: TemplateProblem };

export function parseTemplate(source: string): Parsed {
  try {
    return { ok: true, program: Handlebars.parse(source) };
  } catch (error) {
    return { ok: false, problem: parseProblem(source, error) };
  }
}

export function analyzeTemplate(source: string, options: AnalyzeOptions): Analysis {
  const parsed = parseTemplate(source);
  if (!parsed.ok) return { problems: [parsed.problem], references: [] };
  return analyzeProgram(parsed.program, options);
}

export function analyzeProgram(program: hbs.AST.Program, options: AnalyzeOptions, partialStack: readonly string[] = []): Analysis {
  const walker = new Walker(options, partialStack);
  walker.program(program, { frames: [{ node: options.variables, path: '', blockParams: new Map() }], guards: [], inEach: false });
  return { problems: walker.problems, references: walker.references };
}

interface Binding {
  node: VariableNode;
  /** Dotted path from the root, '' for the root itself, null inside {{#each}} (no fixed path). */
  path: string | null;
}

interface Frame extends Binding {
  blockParams: Map<string, Binding>;
}

interface Scope {
  /** Context frames; {{#with}}, {{#each}} and partials with a context push one, as Handlebars does. */
  frames: Frame[];
  guards: readonly string[];
  inEach: boolean;
}

const anyNode: VariableNode = { kind: 'any', nullable: true };
const valueNode: VariableNode = { kind: 'value', nullable: true };
const eachDataVariables = new Set(['index', 'key', 'first', 'last']);

class Walker {
  readonly problems: TemplateProblem[] = [];
  readonly references: VariableReference[] = [];

  constructor(
    private readonly options: AnalyzeOptions,
    private readonly partialStack: readonly string[],
  ) {}

  program(program: hbs.AST.Program | undefined, scope: Scope): void {
    for (const statement of program?.body ?? []) this.statement(statement, scope);
  }

  private statement(node: hbs.AST.Statement, scope: Scope): void {
    switch (node.type) {
      case 'ContentStatement':
      case 'CommentStatement':
        return;
      case 'MustacheStatement':
        return this.mustache(node as hbs.AST.MustacheStatement, scope);
      case 'BlockStatement':
        return this.block(node as hbs.AST.BlockStatement, scope);
      case 'PartialStatement':
        return this.partial(node as hbs.AST.PartialStatement, scope);
      case 'PartialBlockStatement':
        this.problem(node, 'partial blocks ({{#> name}}) are not supported; include a partial with {{> name}}');
        return;
      default:
        // Decorator and DecoratorBlock ({{* }} and {{#* inline}}): code-like features a marketer never needs.
        this.problem(node, 'decorators and inline partials ({{* }}, {{#* inline}}) are not supported in templates');
    }
  }

  private mustache(node: hbs.AST.MustacheStatement, scope: Scope): void {
    if (!node.escaped && this.options.forbidUnescaped) {
      this.problem(node, 'unescaped output ({{{ }}} or {{& }}) is not allowed in HTML: values are escaped so contact data cannot inject markup');
    }
    if (node.path.type !== 'PathExpression') {
      if (node.params.length > 0) this.problem(node, 'a literal cannot be called with arguments');
      return;
    }
    const path = node.path as hbs.AST.PathExpression;
    const helper = helperName(path);
    if (helper !== null && this.spec(helper)) {
      this.helperCall(helper, node, scope);
      return;
    }
    if (node.params.length > 0 || node.hash?.pairs.length) {
      this.problem(path, `"${path.original}" is not a helper; the helpers are ${this.inlineHelperNames().join(', ')}`);
      return;
    }
    this.reference(path, scope, false);
  }

  private block(node: hbs.AST.BlockStatement, scope: Scope): void {
    const name = helperName(node.path);
    const spec = name === null ? undefined : this.spec(name);
    if (!name || !spec) {
      this.problem(node.path, `{{#${node.path.original}}} is not a block helper; use {{#if}}, {{#unless}}, {{#each}} or {{#with}}`);
      return;
    }
    if (!spec.block) {
      this.problem(node.path, `${name} is not a block helper; write it inline: ${spec.usage}`);
      return;
    }
    this.checkArity(name, spec, node, node.params.length);
    this.checkHash(name, spec, node.hash);
    const subject = node.params[0];
    const binding = subject ? this.expression(subject, scope, true) : null;
    const guarded = binding?.path ? [...scope.guards, binding.path] : scope.guards;
    const blockParams = node.program?.blockParams ?? [];

    switch (name) {
      case 'if':
        this.program(node.program, { ...scope, guards: guarded });
        this.program(node.inverse, scope);
        return;
      case 'unless':
        this.program(node.program, scope);
        this.program(node.inverse, { ...scope, guards: guarded });
        return;
      case 'with': {
        const inner = binding ?? { node: anyNode, path: null };
        const frame: Frame = { ...inner, blockParams: new Map(blockParams[0] ? [[blockParams[0], inner]] : []) };
        this.program(node.program, { frames: [...scope.frames, frame], guards: guarded, inEach: scope.inEach });
        this.program(node.inverse, scope);
        return;
      }
      case 'each': {
        const element = binding ? this.elementOf(binding.node, subject!) : anyNode;
        const item: Binding = { node: element, path: null };
        const params = new Map<string, Binding>();
        if (blockParams[0]) params.set(blockParams[0], item);
        if (blockParams[1]) params.set(blockParams[1], { node: valueNode, path: null });
        this.program(node.program, { frames: [...scope.frames, { ...item, blockParams: params }], guards: guarded, inEach: true });
        this.program(node.inverse, scope);
        return;
      }
      default:
        this.program(node.program, scope);
        this.program(node.inverse, scope);
    }
  }

  private partial(node: hbs.AST.PartialStatement, scope: Scope): void {
    if (node.name.type !== 'PathExpression') {
      this.problem(node, 'dynamic partials ({{> (expression)}}) are not supported; name the partial');
      return;
    }
    const name = (node.name as hbs.AST.PathExpression).original;
    const partial = this.options.partials.get(name);
    if (!partial) {
      const known = [...this.options.partials.keys()];
      this.problem(node, `there is no partial "${name}"${known.length ? `; the partials are ${known.join(', ')}` : ''}`);
      return;
    }
    if (node.params.length > 1) this.problem(node, 'a partial takes at most one context argument');
    let frames = scope.frames;
    const contextParam = node.params[0];
    if (contextParam) {
      const binding = this.expression(contextParam, scope, false) ?? { node: anyNode, path: null };
      frames = [...frames, { ...binding, blockParams: new Map() }];
    }
    if (node.hash?.pairs.length) {
      // Hash values extend the partial's context: {{> footer note="..."}} makes {{note}} available.
      const top = frames[frames.length - 1]!;
      const fields: Record<string, VariableNode> = top.node.kind === 'object' ? { ...top.node.fields } : {};
      for (const pair of node.hash.pairs) {
        this.expression(pair.value, scope, false);
        fields[pair.key] = anyNode;
      }
      const extended: VariableNode = top.node.kind === 'object' || top.node.kind === 'value' ? { kind: 'object', nullable: false, fields } : anyNode;
      frames = [...frames.slice(0, -1), { ...top, node: extended }];
    }
    if (this.partialStack.includes(name)) return; // a recursive partial is checked once
    const inner = new Walker(this.options, [...this.partialStack, name]);
    inner.program(partial, { frames, guards: scope.guards, inEach: scope.inEach });
    const at = position(node);
    for (const problem of inner.problems) {
      this.problems.push({ ...at, message: `in partial ${name} at line ${problem.line}, column ${problem.column}: ${problem.message}` });
    }
    for (const reference of inner.references) this.references.push({ ...reference, ...at });
  }

  /** A helper call in a mustache or a sub-expression; its result has no known shape. */
  private helperCall(name: string, node: hbs.AST.MustacheStatement | hbs.AST.SubExpression, scope: Scope): Binding {
    const spec = this.spec(name)!;
    if (spec.block) {
      this.problem(node, `${name} needs a block: ${spec.usage}`);
      return { node: anyNode, path: null };
    }
    this.checkArity(name, spec, node, node.params.length);
    this.checkHash(name, spec, node.hash);
    node.params.forEach((param, index) => {
      this.expression(param, scope, spec.guardsFirstArg === true && index === 0);
      const literal = literalValue(param);
      if (literal.isLiteral && spec.checkLiteral) {
        const problem = spec.checkLiteral(index, literal.value);
        if (problem) this.problem(param, `${name}: ${problem}`);
      }
    });
    const at = position(node);
    for (const path of spec.reads ?? []) this.references.push({ path, guarded: false, ...at });
    return { node: anyNode, path: null };
  }

  private expression(node: hbs.AST.Expression, scope: Scope, guarded: boolean): Binding | null {
    switch (node.type) {
      case 'PathExpression':
        return this.reference(node as hbs.AST.PathExpression, scope, guarded);
      case 'SubExpression': {
        const sub = node as hbs.AST.SubExpression;
        const name = helperName(sub.path);
        if (name === null || !this.spec(name)) {
          this.problem(sub.path, `"${sub.path.original}" is not a helper; the helpers are ${this.inlineHelperNames().join(', ')}`);
          return null;
        }
        return this.helperCall(name, sub, scope);
      }
      default:
        return { node: valueNode, path: null }; // a literal
    }
  }

  /** Resolves a variable path against the scope; reports it if it is not declared. */
  private reference(path: hbs.AST.PathExpression, scope: Scope, guarded: boolean): Binding | null {
    let binding: Binding;
    let parts = path.parts;
    if (path.data) {
      const [head = '', ...rest] = parts;
      if (head === 'root') {
        binding = { node: this.options.variables, path: '' };
        parts = rest;
      } else if (eachDataVariables.has(head) && rest.length === 0) {
        if (!scope.inEach) return this.problem(path, `@${head} is only available inside {{#each}}`);
        return { node: valueNode, path: null };
      } else {
        return this.problem(path, `@${head} is not available; inside {{#each}} use @index, @key, @first or @last, anywhere @root`);
      }
    } else {
      if (path.depth >= scope.frames.length) return this.problem(path, `"${path.original}" goes above the top of the template`);
      const frame = scope.frames[scope.frames.length - 1 - path.depth]!;
      const blockParam = !isScoped(path) && path.depth === 0 && parts[0] !== undefined ? findBlockParam(scope, parts[0]) : undefined;
      if (blockParam) {
        binding = blockParam;
        parts = parts.slice(1);
      } else {
        binding = frame;
      }
    }

    let { node, path: absolute } = binding;
    const walked: string[] = [];
    for (const part of parts) {
      const next = step(node, part);
      if (typeof next === 'string') {
        if (walked.length === 0 && binding.path === '' && node.kind === 'object') {
          const hint = this.spec(part) ? ` (${part} is a helper; as an argument, call it in parentheses: (${part} ...))` : '';
          return this.problem(path, `"${path.original}" is not a variable; the variables are ${Object.keys(node.fields).join(', ')}${hint}`);
        }
        const base = binding.path === null ? 'the {{#each}} item' : binding.path;
        const subject = walked.length === 0 ? base : binding.path ? `${binding.path}.${walked.join('.')}` : walked.join('.');
        return this.problem(path, `"${path.original}" is not a variable: ${subject} ${next}`);
      }
      walked.push(part);
      node = next;
      absolute = absolute === null ? null : absolute === '' ? part : `${absolute}.${part}`;
    }
    if (absolute) {
      const isGuarded = guarded || scope.guards.some((guard) => absolute === guard || absolute!.startsWith(`${guard}.`));
      this.references.push({ path: absolute, guarded: isGuarded, ...position(path) });
    }
    return { node, path: absolute };
  }

  private elementOf(node: VariableNode, subject: hbs.AST.Expression): VariableNode {
    switch (node.kind) {
      case 'list':
        return node.items;
      case 'map':
        return node.values;
      case 'value':
        this.problem(subject, `{{#each}} needs a list or a group of fields; "${describeExpression(subject)}" is a single value`);
        return anyNode;
      default:
        return anyNode;
    }
  }

  private checkArity(name: string, spec: HelperSpec, node: hbs.AST.Node, count: number): void {
    if (count >= spec.minArgs && count <= spec.maxArgs) return;
    const expected = spec.minArgs === spec.maxArgs ? `${spec.minArgs}` : `${spec.minArgs} to ${spec.maxArgs}`;
    const noun = spec.maxArgs === 1 && spec.minArgs === 1 ? 'argument' : 'arguments';
    this.problem(node, `${name} takes ${expected} ${noun}, got ${count}: ${spec.usage}`);
  }

  private checkHash(name: string, spec: HelperSpec, hash: hbs.AST.Hash | undefined): void {
    for (const pair of hash?.pairs ?? []) {
      if (!spec.hash?.includes(pair.key)) this.problem(pair, `${name} has no option ${pair.key}`);
    }
  }

  /** Own properties only: `constructor` or `toString` in a template are not helpers. */
  private spec(name: string): HelperSpec | undefined {
    return Object.prototype.hasOwnProperty.call(this.options.helpers, name) ? this.options.helpers[name] : undefined;
  }

  private inlineHelperNames(): string[] {
    return Object.entries(this.options.helpers).filter(([, spec]) => !spec.block).map(([name]) => name);
  }

  private problem(node: hbs.AST.Node, message: string): null {
    this.problems.push({ ...position(node), message });
    return null;
  }
}

function step(node: VariableNode, part: string): VariableNode | string {
  switch (node.kind) {
    case 'object':
      return Object.prototype.hasOwnProperty.call(node.fields, part)
        ? node.fields[part]!
        : `has no "${part}"; it has ${Object.keys(node.fields).join(', ')}`;
    case 'map':
      return node.values;
    case 'list':
      if (/^\d+$/.test(part)) return node.items;
      return part === 'length' ? valueNode : `is a list; loop over it with {{#each}}`;
    case 'value':
      return `is a single value and has no "${part}"`;
    default:
      return anyNode;
  }
}

/** The name of a plain identifier that Handlebars would call as a helper (`{{firstName x}}`). */
function helperName(path: hbs.AST.PathExpression): string | null {
  if (path.data || path.depth > 0 || path.parts.length !== 1 || isScoped(path)) return null;
  return path.parts[0] ?? null;
}

/** `this.x` and `./x` always read the context, never a helper or a block parameter. */
function isScoped(path: hbs.AST.PathExpression): boolean {
  return /^(this\b|\.)/.test(path.original);
}

function findBlockParam(scope: Scope, name: string): Binding | undefined {
  for (let index = scope.frames.length - 1; index >= 0; index -= 1) {
    const found = scope.frames[index]!.blockParams.get(name);
    if (found) return found;
  }
  return undefined;
}

function literalValue(node: hbs.AST.Expression): { isLiteral: boolean; value: unknown } {
  switch (node.type) {
    case 'StringLiteral':
    case 'NumberLiteral':
    case 'BooleanLiteral':
      return { isLiteral: true, value: (node as hbs.AST.StringLiteral | hbs.AST.NumberLiteral | hbs.AST.BooleanLiteral).value };
    case 'NullLiteral':
      return { isLiteral: true, value: null };
    case 'UndefinedLiteral':
      return { isLiteral: true, value: undefined };
    default:
      return { isLiteral: false, value: undefined };
  }
}

function describeExpression(node: hbs.AST.Expression): string {
  return node.type === 'PathExpression' ? (node as hbs.AST.PathExpression).original : node.type;
}

function position(node: hbs.AST.Node): { line: number; column: number } {
  return { line: node.loc?.start.line ?? 1, column: (node.loc?.start.column ?? 0) + 1 };
}

/** The jison parser behind Handlebars.parse; not in the type definitions. */
interface JisonParser {
  yy: Record<string, unknown>;
  lexer: { yylloc?: { first_line: number; first_column: number } };
  parse(source: string): unknown;
}

const tokenNames: Record<string, string> = {
  CLOSE: '}}', CLOSE_UNESCAPED: '}}}', CLOSE_SEXPR: ')', ID: 'a name',
  STRING: 'a string', NUMBER: 'a number', BOOLEAN: 'true or false', DATA: 'an @variable', OPEN_ENDBLOCK: '{{/...}}',
  INVERSE: '{{else}}', OPEN_INVERSE_CHAIN: '{{else ...}}', EQUALS: '=', SEP: '.', EOF: 'end of template',
};

/**
 * Handlebars' parse errors name the line but not the column, and its block-mismatch errors carry
 * both. For the former, the source is parsed again by a copy of the same parser whose error hook
 * records the lexer position of the offending token.
 */
function parseProblem(source: string, error: unknown): TemplateProblem {
  const failure = error as { message?: string; lineNumber?: number; column?: number };
  if (typeof failure.lineNumber === 'number') {
    const message = (failure.message ?? 'invalid template').replace(/ - \d+:\d+$/, '');
    const mismatch = /^(\S+) doesn't match (\S+)$/.exec(message);
    return {
      line: failure.lineNumber,
      column: (failure.column ?? 0) + 1,
      message: mismatch ? `{{#${mismatch[1]}}} is closed by {{/${mismatch[2]}}}` : message,
    };
  }
  const shared = (Handlebars as unknown as { Parser: JisonParser }).Parser;
  const parser = Object.create(shared) as JisonParser;
  let found: { line: number; column: number; token: string; expected: string[] } | null = null;
  parser.yy = Object.create(shared.yy) as Record<string, unknown>;
  parser.yy.parseError = (text: string, hash: { token?: string | number | null; expected?: string[] }) => {
    const at = parser.lexer.yylloc;
    found = { line: at?.first_line ?? 1, column: (at?.first_column ?? 0) + 1, token: String(hash.token ?? ''), expected: hash.expected ?? [] };
    throw new Error(text);
  };
  try {
    parser.parse(source);
  } catch {
    // expected: the hook above recorded where
  }
  const located = found as { line: number; column: number; token: string; expected: string[] } | null;
  if (!located) {
    const line = /line (\d+)/.exec(failure.message ?? '')?.[1];
    return { line: line ? Number(line) : 1, column: 1, message: (failure.message ?? 'invalid template').split('\n')[0]! };
  }
  const expected = located.expected.map((name) => name.replace(/'/g, '')).map((name) => tokenNames[name]).filter(Boolean);
  const got = located.token === 'EOF' ? 'the end of the template' : located.token === 'INVALID' ? 'an unexpected character' : `"${tokenNames[located.token] ?? located.token}"`;
  const unclosed = located.token === 'EOF' && located.expected.some((name) => name.includes('OPEN_ENDBLOCK'));
  const message = unclosed
    ? 'a block is not closed: every {{#name}} needs its {{/name}}'
    : `syntax error: found ${got}${expected.length ? `, expected ${[...new Set(expected)].slice(0, 4).join(' or ')}` : ''}`;
  return { line: located.line, column: located.column, message };
}
