// The error reported for a rule that cannot be parsed.

import { MAX_QUOTED_LENGTH, truncateValue } from '../quote.js';

/**
 * A rule that Traefik would reject, with the position of the problem and how to fix it.
 * The message shows the rule line, a caret under the column and the hint, so it can be put in a
 * log line or an API response as it is.
 */
export class RuleSyntaxError extends Error {
  override readonly name = 'RuleSyntaxError';
  /** The full rule text as given. */
  readonly rule: string;
  /** 1-based position of the problem, counted in characters (code points) from the start of the rule. */
  readonly column: number;
  /** The problem and the text to write instead, e.g. "Host takes one value; write ...". */
  readonly hint: string;

  constructor(rule: string, column: number, hint: string) {
    super(formatMessage(rule, column, hint));
    this.rule = rule;
    this.column = column;
    this.hint = hint;
  }
}

/** A problem found by the scanner or parser. `parseRule` catches it and returns a `RuleSyntaxError`. */
export class RuleProblem {
  constructor(
    /** 0-based index into the rule string (UTF-16 units). */
    readonly index: number,
    readonly hint: string,
  ) {}
}

/** Converts a 0-based string index to the 1-based code-point column reported to users. */
export function columnAt(rule: string, index: number): number {
  const clamped = Math.max(0, Math.min(index, rule.length));
  let column = 1;
  for (let i = 0; i < clamped; i++) {
    const code = rule.charCodeAt(i);
    // The high half of a surrogate pair starts a character; the low half does not add a column.
    if (code < 0xdc00 || code > 0xdfff) column++;
  }
  return column;
}

/**
 * Formats the hint, the line of the rule that contains the column, and a caret under it. Tabs in
 * the rule are copied into the caret line so the caret stays aligned in terminals. A line longer
 * than MAX_QUOTED_LENGTH is cut to that many characters around the column, with an ellipsis at each
 * cut end and the line's full length. Without the cut, a rule of many kilobytes would be repeated
 * in full in every log line and API response.
 */
function formatMessage(rule: string, column: number, hint: string): string {
  const chars = [...rule];
  let lineStart = 0;
  for (let i = 0; i < column - 1 && i < chars.length; i++) {
    if (chars[i] === '\n') lineStart = i + 1;
  }
  let lineEnd = chars.indexOf('\n', lineStart);
  if (lineEnd === -1) lineEnd = chars.length;

  // Cut the line to a window that keeps the column near its middle.
  let from = lineStart;
  let to = lineEnd;
  if (to - from > MAX_QUOTED_LENGTH) {
    const caretAt = Math.min(Math.max(column - 1, lineStart), lineEnd);
    from = Math.max(lineStart, Math.min(caretAt - MAX_QUOTED_LENGTH / 2, lineEnd - MAX_QUOTED_LENGTH));
    to = from + MAX_QUOTED_LENGTH;
  }
  const opening = from > lineStart ? '…' : '';
  const closing = to < lineEnd ? `… (line of ${lineEnd - lineStart} characters)` : '';

  const line = opening + chars.slice(from, to).join('') + closing;
  const before = [...(opening === '' ? [] : [' ']), ...chars.slice(from, Math.max(from, column - 1))];
  const caret = `${before.map((char) => (char === '\t' ? '\t' : ' ')).join('')}^`;
  return `invalid rule at column ${column}: ${truncateValue(hint, 2 * MAX_QUOTED_LENGTH)}\n  ${line}\n  ${caret}`;
}
