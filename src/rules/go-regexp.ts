// Regular expressions with Go's syntax and linear-time matching.
//
// Traefik compiles rule regexps with Go's regexp package, which is RE2: no back-references, no
// look-around, no possessive quantifiers, and matching time linear in the input. JavaScript's
// RegExp differs in syntax (`(?i)`, `\z`, `[[:alpha:]]`, `\Q..\E` are Go-only) and backtracks, so
// a pattern such as `(a+)+$` could stall the event loop on a crafted request. re2js is a pure
// JavaScript port of RE2/J, itself a port of Go's regexp/syntax parser and automata, so it takes
// Go's syntax, rejects what Go rejects with Go's error texts, and matches in linear time.
// NOTE: Go parity is checked by the cases in test/rules/regexp.test.ts, not against a Go build.
import { RE2JS, RE2JSException, RE2JSSyntaxException } from 're2js';
import { truncateValue } from '../quote.js';

/** A compiled pattern; `test` searches anywhere in the input, like Go's `MatchString`. */
export interface GoRegexp {
  test(input: string): boolean;
}

export type CompileResult =
  | { ok: true; regexp: GoRegexp }
  | {
      ok: false;
      /** The problem in Go's words, followed by the fix. */
      reason: string;
      /** 0-based offset of the offending part of the pattern, when known. */
      offset: number | undefined;
    };

/**
 * Compiled patterns by source. Parsing validates a pattern and compiling the rule needs it again,
 * and many routers share patterns, so each distinct pattern is compiled once. The cache is
 * cleared when it is full, which only costs recompilation.
 */
const cache = new Map<string, CompileResult>();
const MAX_CACHED = 2000;

/** Compiles `source` with Go's regexp syntax. Errors are returned, not thrown. */
export function compileGoRegexp(source: string): CompileResult {
  const cached = cache.get(source);
  if (cached) return cached;

  const result = compileUncached(source);
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(source, result);
  return result;
}

function compileUncached(source: string): CompileResult {
  try {
    // Flags 0 is Go's default (Perl) syntax; the LOOKBEHINDS extension of re2js stays off, so
    // look-behind is rejected as Go rejects it.
    const regexp = RE2JS.compile(source, 0);
    return { ok: true, regexp: { test: (input) => regexp.test(input) } };
  } catch (error) {
    if (error instanceof RE2JSSyntaxException) {
      const fragment = error.getPattern() ?? '';
      const offset = fragment && source.includes(fragment) ? source.indexOf(fragment) : undefined;
      return { ok: false, reason: explain(error.getDescription(), fragment), offset };
    }
    if (error instanceof RE2JSException) return { ok: false, reason: error.message, offset: undefined };
    return { ok: false, reason: `the pattern could not be compiled (${String(error)})`, offset: undefined };
  }
}

/** Adds the Go-specific reason and the fix to the parser's message for constructs people carry over from PCRE or JavaScript. */
function explain(description: string, fragment: string): string {
  const shown = fragment ? `${description}: \`${truncateValue(fragment)}\`` : description;

  if (/^\\[1-9]/.test(fragment) || fragment.startsWith('\\k') || fragment.startsWith('(?P=')) {
    return `${shown}; back-references do not exist in Go regexps (RE2); match the repeated text explicitly or use two matchers`;
  }
  if (/^\(\?<?[=!]/.test(fragment)) {
    return `${shown}; look-ahead and look-behind do not exist in Go regexps (RE2); rewrite the pattern without them, or combine matchers with && and !`;
  }
  if (fragment.startsWith('(?>')) {
    return `${shown}; atomic groups do not exist in Go regexps (RE2); use a plain group (?:...), since Go never backtracks`;
  }
  if (description.startsWith('invalid nested repetition') && fragment.endsWith('+') && fragment.length > 1) {
    return `${shown}; possessive quantifiers do not exist in Go regexps (RE2); drop the trailing +, since Go never backtracks`;
  }
  if (description.startsWith('invalid nested repetition')) {
    return `${shown}; Go does not allow a quantifier directly on another one; wrap the inner part in (?:...)`;
  }
  if (description.startsWith('invalid escape') && fragment.startsWith('\\')) {
    return `${shown}; Go regexps do not know this escape (\\Z, \\u, \\h, \\R and \\G are not Go syntax)`;
  }
  return shown;
}

/** Escapes every character Go's `regexp.QuoteMeta` escapes, so the result matches `text` literally. */
export function quoteMeta(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
