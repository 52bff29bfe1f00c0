// Splits rule text into tokens the way Go's scanner does for the subset Traefik accepts.
//
// Traefik parses rules as Go expressions (vulcand/predicate over go/parser), so values are Go
// string literals, and Go's automatic semicolon insertion applies: a line break after a value, a
// name or `)` ends the expression.
import { RuleProblem } from './errors.js';

export type TokenKind =
  | 'ident'
  | 'string'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'and'
  | 'or'
  | 'not'
  /** A line break where Go inserts a semicolon. */
  | 'newline'
  | 'number'
  | 'other'
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** 0-based index of the first character. */
  start: number;
  /** 0-based index after the last character. */
  end: number;
  /** The token as written. */
  text: string;
  /** For `string` tokens: the decoded value. */
  value: string;
}

const IDENTIFIER = /[\p{L}_][\p{L}\p{Nd}_]*/uy;
const NUMBER = /\.?[0-9][0-9A-Za-z_.]*/y;
const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
};

/** A pull scanner. The parser takes one token at a time, so the first problem found is the leftmost one. */
export class Scanner {
  readonly #rule: string;
  #pos = 0;
  /** True after a token that makes Go insert a semicolon at the next line break. */
  #insertSemicolon = false;

  constructor(rule: string) {
    this.#rule = rule;
  }

  next(): Token {
    const newline = this.#skipSpaceAndComments();
    if (newline !== -1) {
      // Built directly because a line break inside a block comment lies before the scan position.
      this.#insertSemicolon = false;
      return { kind: 'newline', start: newline, end: newline + 1, text: '\n', value: '' };
    }

    const rule = this.#rule;
    const start = this.#pos;
    if (start >= rule.length) return this.#token('eof', start, start);

    const char = rule[start] ?? '';
    const pair = rule.slice(start, start + 2);
    if (char === '`') return this.#rawString(start);
    if (char === '"') return this.#interpretedString(start);
    if (char === "'") throw new RuleProblem(start, singleQuoteHint(rule, start));
    if (pair === '&&') return this.#token('and', start, start + 2);
    if (pair === '||') return this.#token('or', start, start + 2);
    if (pair === '!=') return this.#token('other', start, start + 2);
    if (char === '!') return this.#token('not', start, start + 1);
    if (char === '(') return this.#token('lparen', start, start + 1);
    if (char === ')') return this.#token('rparen', start, start + 1);
    if (char === ',') return this.#token('comma', start, start + 1);

    const identifier = matchAt(IDENTIFIER, rule, start);
    if (identifier) return this.#token('ident', start, start + identifier.length);
    const number = matchAt(NUMBER, rule, start);
    if (number) return this.#token('number', start, start + number.length);

    const codePoint = rule.codePointAt(start) ?? 0;
    return this.#token('other', start, start + (codePoint > 0xffff ? 2 : 1));
  }

  #token(kind: TokenKind, start: number, end: number, value = ''): Token {
    this.#pos = end;
    this.#insertSemicolon = kind === 'ident' || kind === 'string' || kind === 'rparen' || kind === 'number';
    return { kind, start, end, text: this.#rule.slice(start, end), value };
  }

  /**
   * Skips white space and comments. Returns the index of a line break at which Go inserts a
   * semicolon, or -1. A comment that spans lines counts as a line break, as in Go.
   */
  #skipSpaceAndComments(): number {
    const rule = this.#rule;
    while (this.#pos < rule.length) {
      const char = rule[this.#pos];
      if (char === '\n') {
        if (this.#insertSemicolon) return this.#pos++;
        this.#pos++;
      } else if (char === ' ' || char === '\t' || char === '\r') {
        this.#pos++;
      } else if (rule.startsWith('//', this.#pos)) {
        const end = rule.indexOf('\n', this.#pos);
        this.#pos = end === -1 ? rule.length : end;
      } else if (rule.startsWith('/*', this.#pos)) {
        const end = rule.indexOf('*/', this.#pos + 2);
        if (end === -1) throw new RuleProblem(this.#pos, 'comment is not terminated; close it with */');
        const lineBreak = rule.indexOf('\n', this.#pos);
        this.#pos = end + 2;
        if (this.#insertSemicolon && lineBreak !== -1 && lineBreak < end) return lineBreak;
      } else {
        return -1;
      }
    }
    return -1;
  }

  /** A Go raw string: everything up to the next backtick, with carriage returns dropped as Go does. */
  #rawString(start: number): Token {
    const end = this.#rule.indexOf('`', start + 1);
    if (end === -1) {
      throw new RuleProblem(start, 'value is not terminated: this backtick has no closing backtick');
    }
    const value = this.#rule.slice(start + 1, end).replaceAll('\r', '');
    return this.#token('string', start, end + 1, value);
  }

  /** A Go interpreted string: double quotes with backslash escapes, on one line. */
  #interpretedString(start: number): Token {
    const rule = this.#rule;
    const bytes: number[] = [];
    let value = '';
    const flushBytes = (): void => {
      if (bytes.length === 0) return;
      value += new TextDecoder().decode(Uint8Array.from(bytes));
      bytes.length = 0;
    };

    let i = start + 1;
    while (i < rule.length) {
      const char = rule[i] ?? '';
      if (char === '"') {
        flushBytes();
        return this.#token('string', start, i + 1, value);
      }
      if (char === '\n') break;
      if (char !== '\\') {
        flushBytes();
        value += char;
        i++;
        continue;
      }

      const escape = readEscape(rule, i);
      if ('byte' in escape) bytes.push(escape.byte);
      else {
        flushBytes();
        value += escape.text;
      }
      i = escape.end;
    }
    throw new RuleProblem(start, 'value is not terminated: this double quote has no closing double quote on the same line');
  }
}

type Escape = { byte: number; end: number } | { text: string; end: number };

/** Decodes one backslash escape of a Go interpreted string starting at `at`. */
function readEscape(rule: string, at: number): Escape {
  const kind = rule[at + 1] ?? '';
  const simple = SIMPLE_ESCAPES[kind];
  if (simple !== undefined) return { text: simple, end: at + 2 };

  if (kind === 'x' || (kind >= '0' && kind <= '7')) {
    const digits = kind === 'x' ? rule.slice(at + 2, at + 4) : rule.slice(at + 1, at + 4);
    const valid = kind === 'x' ? /^[0-9a-fA-F]{2}$/.test(digits) : /^[0-7]{3}$/.test(digits);
    const byte = parseInt(digits, kind === 'x' ? 16 : 8);
    if (!valid || byte > 255) throw new RuleProblem(at, badEscapeHint(rule.slice(at, at + 4)));
    return { byte, end: at + 4 };
  }

  if (kind === 'u' || kind === 'U') {
    const length = kind === 'u' ? 4 : 8;
    const digits = rule.slice(at + 2, at + 2 + length);
    const codePoint = parseInt(digits, 16);
    const valid = new RegExp(`^[0-9a-fA-F]{${length}}$`).test(digits);
    if (!valid || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
      throw new RuleProblem(at, badEscapeHint(rule.slice(at, at + 2 + length)));
    }
    return { text: String.fromCodePoint(codePoint), end: at + 2 + length };
  }

  throw new RuleProblem(at, badEscapeHint(rule.slice(at, at + 2)));
}

function badEscapeHint(escape: string): string {
  return (
    `unknown escape sequence ${escape} in a double-quoted value; ` +
    'write the value in backticks, where a backslash is literal, or double the backslash (\\\\)'
  );
}

function singleQuoteHint(rule: string, at: number): string {
  const trimmed = rule.trim();
  if (trimmed.length > 1 && trimmed.startsWith("'") && trimmed.endsWith("'") && at === rule.indexOf("'")) {
    return 'the whole rule is wrapped in single quotes, probably kept by a templating tool; remove the outer quotes';
  }
  const close = rule.indexOf("'", at + 1);
  const inner = close === -1 ? '' : rule.slice(at + 1, close);
  const example = inner && !inner.includes('`') ? `\`${inner}\`` : '`value`';
  return `single quotes are not accepted (Go reads them as one character); write the value in backticks: ${example}`;
}

function matchAt(pattern: RegExp, text: string, at: number): string | undefined {
  pattern.lastIndex = at;
  return pattern.exec(text)?.[0];
}
