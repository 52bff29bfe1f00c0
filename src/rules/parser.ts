// Parses rule text into a RuleNode tree, with the grammar Traefik inherits from Go expressions:
// matcher calls with string values, `!` binding tighter than `&&`, which binds tighter than `||`,
// and parentheses.
import { resolveMatcherName, unknownMatcherHint } from './catalog.js';
import { RuleProblem, RuleSyntaxError, columnAt } from './errors.js';
import { Scanner, type Token } from './scanner.js';
import type { MatcherNode, RuleNode, RuleSyntax } from './tree.js';
import { v3FormOf } from './v2-to-v3.js';
import { checkMatcherCall, type CallArgument } from './validate.js';

export type ParseResult =
  | { ok: true; tree: RuleNode; warnings: string[] }
  | { ok: false; error: RuleSyntaxError };

/** Deeper nesting than this is rejected, which keeps recursion far from the stack limit. */
const MAX_DEPTH = 500;

const WORD_OPERATORS: Record<string, string> = { and: '&&', or: '||', not: '!' };

/**
 * Parses a router rule. Problems are returned, not thrown, as a `RuleSyntaxError` that points at
 * the offending column. This includes problems Traefik only finds when it builds the router, such
 * as a wrong number of values, an invalid regexp or an invalid IP range.
 */
export function parseRule(rule: string, syntax: RuleSyntax = 'v3'): ParseResult {
  if (typeof rule !== 'string') {
    return { ok: false, error: new RuleSyntaxError(String(rule), 1, 'the rule must be a string') };
  }
  try {
    const parser = new Parser(rule, syntax === 'v2' ? 'v2' : 'v3');
    const tree = parser.parse();
    return { ok: true, tree, warnings: parser.warnings };
  } catch (error) {
    if (error instanceof RuleProblem) {
      return { ok: false, error: new RuleSyntaxError(rule, columnAt(rule, error.index), error.hint) };
    }
    const hint = error instanceof RangeError ? 'the rule nests too deeply; simplify it' : `the rule could not be parsed (${String(error)})`;
    return { ok: false, error: new RuleSyntaxError(rule, 1, hint) };
  }
}

class Parser {
  readonly warnings: string[] = [];
  readonly #rule: string;
  readonly #syntax: RuleSyntax;
  readonly #scanner: Scanner;
  readonly #simpleColumns: boolean;
  #token: Token = { kind: 'eof', start: 0, end: 0, text: '', value: '' };
  #depth = 0;

  constructor(rule: string, syntax: RuleSyntax) {
    this.#rule = rule;
    this.#syntax = syntax;
    this.#scanner = new Scanner(rule);
    this.#simpleColumns = !/[\ud800-\udfff]/.test(rule);
  }

  parse(): RuleNode {
    if (this.#rule.trim() === '') {
      throw new RuleProblem(0, 'the rule is empty; write a matcher, for example Host(`example.com`)');
    }
    this.#advance();
    const tree = this.#orExpression();

    // Go inserts a semicolon at a final line break, and ParseExpr accepts exactly one.
    let end = this.#token;
    if (end.kind === 'newline') {
      const lineBreak = this.#advance();
      end = this.#token;
      if (end.kind !== 'eof') throw this.#lineBreakProblem(lineBreak);
    }
    if (end.kind !== 'eof') throw this.#afterOperandProblem(end);
    return tree;
  }

  #advance(): Token {
    const previous = this.#token;
    this.#token = this.#scanner.next();
    return previous;
  }

  #orExpression(): RuleNode {
    const children = [this.#andExpression()];
    while (this.#token.kind === 'or') {
      this.#advance();
      children.push(this.#andExpression());
    }
    return combine('or', children);
  }

  #andExpression(): RuleNode {
    const children = [this.#unary()];
    while (this.#token.kind === 'and') {
      this.#advance();
      children.push(this.#unary());
    }
    return combine('and', children);
  }

  #unary(): RuleNode {
    if (this.#token.kind !== 'not') return this.#primary();
    this.#enter(this.#token);
    this.#advance();
    const child = this.#unary();
    this.#depth--;
    return { type: 'not', child };
  }

  #primary(): RuleNode {
    const token = this.#token;
    switch (token.kind) {
      case 'ident':
        return this.#matcher();
      case 'lparen': {
        this.#enter(token);
        this.#advance();
        const inner = this.#orExpression();
        this.#expectClose(token, 'this ( is never closed; add ) where the group ends');
        this.#depth--;
        return inner;
      }
      default:
        throw this.#missingOperandProblem(token);
    }
  }

  #matcher(): MatcherNode {
    const nameToken = this.#advance();
    const written = nameToken.text;
    const name = resolveMatcherName(written, this.#syntax);

    if (this.#token.kind === 'newline') throw this.#lineBreakProblem(this.#token);
    if (this.#token.kind !== 'lparen') {
      const operator = WORD_OPERATORS[written.toLowerCase()];
      if (operator) throw new RuleProblem(nameToken.start, `write ${operator} instead of ${written}`);
      if (!name) throw new RuleProblem(nameToken.start, unknownMatcherHint(written, this.#syntax));
      throw new RuleProblem(nameToken.end, `${name} needs its value in parentheses, as in ${name}(\`value\`)`);
    }

    // An unknown name that is a v2 matcher gets the full v3 rewrite, which needs its values.
    const v2Name = !name && this.#syntax === 'v3' ? resolveMatcherName(written, 'v2') : undefined;
    if (!name && !v2Name) throw new RuleProblem(nameToken.start, unknownMatcherHint(written, this.#syntax));

    const open = this.#advance();
    const args = this.#arguments(open, name ?? v2Name ?? written);
    const close = this.#token;
    this.#expectClose(open, `${written}( is never closed; add ) after its values`);

    if (!name) {
      const fix = v3FormOf(v2Name ?? written, args.map((arg) => arg.value));
      const hint = unknownMatcherHint(written, this.#syntax);
      throw new RuleProblem(nameToken.start, fix ? `${v2Name} is Traefik v2 syntax; in v3 write ${fix}` : hint);
    }

    checkMatcherCall({ name, syntax: this.#syntax, args, closeIndex: close.start }, this.warnings);
    return {
      type: 'matcher',
      name,
      args: args.map((arg) => arg.value),
      column: this.#column(nameToken.start),
      syntax: this.#syntax,
    };
  }

  /** Reads `value, value, ...` up to the closing parenthesis; Go allows a trailing comma. */
  #arguments(open: Token, name: string): CallArgument[] {
    const args: CallArgument[] = [];
    while (this.#token.kind !== 'rparen') {
      const token = this.#token;
      if (token.kind !== 'string') throw this.#badValueProblem(token, open, name);
      args.push({ value: token.value, start: token.start, raw: token.text.startsWith('`') });
      this.#advance();

      const next = this.#token;
      if (next.kind === 'comma') this.#advance();
      else if (next.kind === 'string') throw new RuleProblem(next.start, `missing comma between values of ${name}`);
      else if (next.kind !== 'rparen') throw this.#badValueProblem(next, open, name);
    }
    return args;
  }

  #expectClose(open: Token, unclosedHint: string): void {
    const token = this.#token;
    if (token.kind === 'rparen') {
      this.#advance();
      return;
    }
    if (token.kind === 'eof') throw new RuleProblem(open.start, unclosedHint);
    if (token.kind === 'newline') throw this.#lineBreakProblem(token);
    throw this.#afterOperandProblem(token);
  }

  #enter(token: Token): void {
    if (++this.#depth > MAX_DEPTH) throw new RuleProblem(token.start, `the rule nests more than ${MAX_DEPTH} levels deep; simplify it`);
  }

  #column(index: number): number {
    return this.#simpleColumns ? index + 1 : columnAt(this.#rule, index);
  }

  /** A token that cannot follow a complete matcher or group. */
  #afterOperandProblem(token: Token): RuleProblem {
    if (token.kind === 'rparen') return new RuleProblem(token.start, 'this ) has no matching (; remove it');
    if (token.kind === 'ident') {
      const operator = WORD_OPERATORS[token.text.toLowerCase()];
      if (operator) return new RuleProblem(token.start, `write ${operator} instead of ${token.text}`);
      return new RuleProblem(token.start, `missing operator before ${token.text}; join matchers with && or ||`);
    }
    if (token.text === '&') return new RuleProblem(token.start, 'write && for "and"; a single & is not an operator in rules');
    if (token.text === '|') return new RuleProblem(token.start, 'write || for "or"; a single | is not an operator in rules');
    if (token.kind === 'lparen') return new RuleProblem(token.start, 'missing operator before (; join matchers with && or ||');
    if (token.kind === 'string') return new RuleProblem(token.start, 'this value is outside any matcher; put it inside the parentheses of a matcher');
    return new RuleProblem(token.start, `unexpected ${describe(token)}; only &&, || and a closing ) can follow a matcher`);
  }

  /** A token where a matcher, `!` or `(` is required. */
  #missingOperandProblem(token: Token): RuleProblem {
    if (token.kind === 'string' && this.#isWholeRule(token)) {
      return new RuleProblem(token.start, 'the whole rule is wrapped in quotes, probably kept by a templating tool; remove the outer quotes');
    }
    if (token.kind === 'string') return new RuleProblem(token.start, 'a value must be inside a matcher, as in Host(`example.com`)');
    if (token.kind === 'eof') return new RuleProblem(token.start, 'the rule ends where a matcher is expected; add a matcher or remove the trailing operator');
    if (token.kind === 'newline') return this.#lineBreakProblem(token);
    if (token.kind === 'and' || token.kind === 'or') {
      return new RuleProblem(token.start, `a matcher is missing before ${token.text}`);
    }
    if (token.kind === 'rparen') return new RuleProblem(token.start, 'a matcher is missing before this )');
    return new RuleProblem(token.start, `unexpected ${describe(token)}; a matcher such as Host(\`example.com\`) is expected here`);
  }

  #badValueProblem(token: Token, open: Token, name: string): RuleProblem {
    if (token.kind === 'eof') return new RuleProblem(open.start, `${name}( is never closed; add ) after its values`);
    if (token.kind === 'newline') return this.#lineBreakProblem(token);
    if (token.kind === 'ident' || token.kind === 'number' || token.kind === 'other') {
      const end = this.#rule.slice(token.start).search(/[,)]/);
      const text = (end === -1 ? this.#rule.slice(token.start) : this.#rule.slice(token.start, token.start + end)).trim();
      const example = text && !text.includes('`') ? `\`${text}\`` : '`value`';
      return new RuleProblem(token.start, `values must be quoted; write ${name}(${example})`);
    }
    return new RuleProblem(token.start, `unexpected ${describe(token)} in the values of ${name}; values are quoted strings separated by commas`);
  }

  #lineBreakProblem(token: Token): RuleProblem {
    return new RuleProblem(
      token.start,
      'a line break after a value, a name or ) ends the rule (Go inserts a semicolon there); put the rest on the same line, or break the line after an operator or a comma',
    );
  }

  #isWholeRule(token: Token): boolean {
    const rule = this.#rule;
    return rule.slice(0, token.start).trim() === '' && rule.slice(token.end).trim() === '';
  }
}

/** Builds an and/or node, flattening children of the same kind so parentheses do not change the tree. */
function combine(type: 'and' | 'or', children: RuleNode[]): RuleNode {
  if (children.length === 1) return children[0] as RuleNode;
  const flat = children.flatMap((child) => (child.type === type ? child.children : [child]));
  return { type, children: flat };
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'end of rule';
    case 'newline':
      return 'line break';
    case 'number':
      return `number ${token.text}`;
    default:
      return `"${token.text}"`;
  }
}
