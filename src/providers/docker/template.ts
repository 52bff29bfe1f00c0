// The defaultRule template: the subset of Go's text/template that Traefik users write, such as
// "Host(`{{ normalize .Name }}.example.test`)" or `{{ index .Labels "com.docker.compose.service" }}`.
// Supported are text, `{{ }}` actions with `{{-`/`-}}` trimming, comments, the fields `.Name`,
// `.ContainerName` and `.Labels`, string literals, parentheses, pipes and the functions below.
// Traefik's MakeDefaultRuleTemplate also registers sprig's text functions, so the common ones are
// here with sprig's argument order. Anything else fails at parse time with an error naming it.

import { normalizeName } from './naming.js';
import { getOwn } from '../../dictionary.js';

/** The data a defaultRule template can read, with the field names Traefik's template uses. */
export interface TemplateModel {
  /** The default router and service name, already normalized. */
  Name: string;
  /** The container name without Docker's leading `/`. */
  ContainerName: string;
  Labels: Record<string, string>;
}

export class TemplateError extends Error {
  readonly code = 'BERTH_TEMPLATE_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

type Value = string | Record<string, string>;

type Operand =
  | { kind: 'field'; name: keyof TemplateModel }
  | { kind: 'text'; value: string }
  | { kind: 'call'; name: string; args: Operand[] }
  | { kind: 'pipeline'; commands: Operand[] };

const FIELDS: ReadonlySet<string> = new Set(['Name', 'ContainerName', 'Labels']);

function asText(value: Value, functionName: string): string {
  if (typeof value !== 'string') throw new TemplateError(`function "${functionName}" expects a string, not .Labels`);
  return value;
}

/** Functions by name: the number of arguments and the implementation. */
const FUNCTIONS: Record<string, { arity: number; run: (args: Value[]) => Value }> = {
  normalize: { arity: 1, run: ([s]) => normalizeName(asText(s ?? '', 'normalize')) },
  index: {
    arity: 2,
    run: ([labels, key]) => {
      if (labels === undefined || typeof labels === 'string') throw new TemplateError('function "index" expects .Labels as its first argument');
      // Go's index returns the zero value for a missing map key, so a missing label gives "".
      return getOwn(labels, asText(key ?? '', 'index')) ?? '';
    },
  },
  lower: { arity: 1, run: ([s]) => asText(s ?? '', 'lower').toLowerCase() },
  upper: { arity: 1, run: ([s]) => asText(s ?? '', 'upper').toUpperCase() },
  trim: { arity: 1, run: ([s]) => asText(s ?? '', 'trim').trim() },
  trimPrefix: {
    arity: 2,
    run: ([prefix, s]) => {
      const text = asText(s ?? '', 'trimPrefix');
      const cut = asText(prefix ?? '', 'trimPrefix');
      return text.startsWith(cut) ? text.slice(cut.length) : text;
    },
  },
  trimSuffix: {
    arity: 2,
    run: ([suffix, s]) => {
      const text = asText(s ?? '', 'trimSuffix');
      const cut = asText(suffix ?? '', 'trimSuffix');
      return cut !== '' && text.endsWith(cut) ? text.slice(0, -cut.length) : text;
    },
  },
  replace: {
    arity: 3,
    run: ([from, to, s]) => asText(s ?? '', 'replace').split(asText(from ?? '', 'replace')).join(asText(to ?? '', 'replace')),
  },
};

const SUPPORTED = Object.keys(FUNCTIONS).join(', ');

type Token = { kind: 'field' | 'ident' | 'string'; text: string } | { kind: '(' | ')' | '|' };

function tokenize(action: string, source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < action.length) {
    const char = action[i] ?? '';
    if (/\s/.test(char)) {
      i++;
    } else if (char === '(' || char === ')' || char === '|') {
      tokens.push({ kind: char });
      i++;
    } else if (char === '"' || char === '`') {
      const end = char === '`' ? action.indexOf('`', i + 1) : findQuoteEnd(action, i + 1);
      if (end < 0) throw new TemplateError(`unterminated string in template "${source}"`);
      const raw = action.slice(i + 1, end);
      tokens.push({ kind: 'string', text: char === '`' ? raw : unescape(raw, source) });
      i = end + 1;
    } else {
      const word = /^\.?[A-Za-z_][A-Za-z0-9_]*|^\./.exec(action.slice(i))?.[0];
      if (word === undefined) throw new TemplateError(`unexpected "${char}" in template "${source}"`);
      tokens.push({ kind: word.startsWith('.') ? 'field' : 'ident', text: word });
      i += word.length;
    }
  }
  return tokens;
}

function findQuoteEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

function unescape(raw: string, source: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    throw new TemplateError(`invalid escape in string "${raw}" in template "${source}"`);
  }
}

class ActionParser {
  #position = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  parse(): Operand {
    const pipeline = this.pipeline();
    if (this.#position < this.tokens.length) throw new TemplateError(`unexpected ")" in template "${this.source}"`);
    return pipeline;
  }

  private pipeline(): Operand {
    const commands = [this.command(false)];
    while (this.tokens[this.#position]?.kind === '|') {
      this.#position++;
      commands.push(this.command(true));
    }
    return commands.length === 1 && commands[0] !== undefined ? commands[0] : { kind: 'pipeline', commands };
  }

  private command(piped: boolean): Operand {
    const operands: Operand[] = [];
    let head: string | undefined;
    for (let token = this.tokens[this.#position]; token !== undefined && token.kind !== '|' && token.kind !== ')'; token = this.tokens[this.#position]) {
      if (token.kind === 'ident' && operands.length === 0 && head === undefined) {
        head = token.text;
        this.#position++;
      } else {
        operands.push(this.operand());
      }
    }

    if (head === undefined) {
      if (operands.length !== 1 || piped) throw new TemplateError(`expected a function name in template "${this.source}"`);
      return operands[0] as Operand;
    }
    const definition = FUNCTIONS[head];
    if (definition === undefined) throw new TemplateError(`unknown function "${head}" in template "${this.source}"; supported functions: ${SUPPORTED}`);
    const argumentCount = operands.length + (piped ? 1 : 0);
    if (argumentCount !== definition.arity) {
      throw new TemplateError(`function "${head}" takes ${definition.arity} argument(s), got ${argumentCount} in template "${this.source}"`);
    }
    return { kind: 'call', name: head, args: operands };
  }

  private operand(): Operand {
    const token = this.tokens[this.#position++];
    if (token === undefined) throw new TemplateError(`unexpected end of action in template "${this.source}"`);
    if (token.kind === 'string') return { kind: 'text', value: token.text };
    if (token.kind === 'field') {
      const name = token.text.slice(1);
      if (!FIELDS.has(name)) throw new TemplateError(`unknown field "${token.text}" in template "${this.source}"; available fields: .Name, .ContainerName, .Labels`);
      return { kind: 'field', name: name as keyof TemplateModel };
    }
    if (token.kind === '(') {
      const inner = this.pipeline();
      if (this.tokens[this.#position++]?.kind !== ')') throw new TemplateError(`missing ")" in template "${this.source}"`);
      return inner;
    }
    if (token.kind === 'ident') throw new TemplateError(`function "${token.text}" must come first in its command, or inside parentheses, in template "${this.source}"`);
    throw new TemplateError(`unexpected "${token.kind}" in template "${this.source}"`);
  }
}

function evaluate(operand: Operand, model: TemplateModel, piped?: Value): Value {
  switch (operand.kind) {
    case 'text':
      return operand.value;
    case 'field':
      return model[operand.name];
    case 'call': {
      const args = operand.args.map((arg) => evaluate(arg, model));
      if (piped !== undefined) args.push(piped);
      return (FUNCTIONS[operand.name] as (typeof FUNCTIONS)[string]).run(args);
    }
    case 'pipeline': {
      let value: Value | undefined;
      for (const command of operand.commands) value = evaluate(command, model, value);
      return value ?? '';
    }
  }
}

export interface RuleTemplate {
  readonly source: string;
  /** Renders the template; throws TemplateError when a value has the wrong type, such as `normalize .Labels`. */
  render(model: TemplateModel): string;
}

/** Parses a defaultRule template; throws TemplateError naming the unknown function, field or syntax. */
export function parseRuleTemplate(source: string): RuleTemplate {
  const parts: Array<string | Operand> = [];
  let rest = source;
  let trimNext = false;

  while (rest !== '') {
    const open = rest.indexOf('{{');
    let text = open < 0 ? rest : rest.slice(0, open);
    if (trimNext) text = text.trimStart();
    if (open < 0) {
      parts.push(text);
      break;
    }

    // `{{- ` trims the whitespace before the action and ` -}}` the whitespace after it.
    let body = rest.slice(open + 2);
    if (/^-\s/.test(body)) {
      text = text.trimEnd();
      body = body.slice(1);
    }
    parts.push(text);

    const close = findActionEnd(body);
    if (close < 0) throw new TemplateError(`unclosed action in template "${source}"`);
    let action = body.slice(0, close);
    trimNext = /\s-$/.test(action);
    if (trimNext) action = action.slice(0, -1);
    rest = body.slice(close + 2);

    if (/^\s*\/\*[\s\S]*\*\/\s*$/.test(action)) continue;
    const tokens = tokenize(action, source);
    if (tokens.length === 0) throw new TemplateError(`empty action in template "${source}"`);
    parts.push(new ActionParser(tokens, source).parse());
  }

  return {
    source,
    render(model: TemplateModel): string {
      return parts
        .map((part) => {
          if (typeof part === 'string') return part;
          const value = evaluate(part, model);
          if (typeof value !== 'string') throw new TemplateError(`template "${source}" prints .Labels; use index .Labels "name" to print one label`);
          return value;
        })
        .join('');
    },
  };
}

/** Finds the `}}` that closes an action, skipping string literals that contain `}}`. */
function findActionEnd(body: string): number {
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (char === '"') {
      i = findQuoteEnd(body, i + 1);
      if (i < 0) return -1;
    } else if (char === '`') {
      i = body.indexOf('`', i + 1);
      if (i < 0) return -1;
    } else if (char === '}' && body[i + 1] === '}') {
      return i;
    }
  }
  return -1;
}
