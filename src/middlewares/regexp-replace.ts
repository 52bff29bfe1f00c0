// Go's `Regexp.ReplaceAllString` for the rewriting middlewares (redirectRegex, replacePathRegex),
// on top of re2js so that matching stays linear in the input. The replacement template follows
// Go's `Regexp.Expand`: `$1` and `${1}` insert a numbered group, `$name` and `${name}` a named
// group, and `$$` a literal `$`. `$name` takes the longest run of letters, digits and `_`, so
// `$1x` refers to a group named `1x`, not to group 1 followed by `x`.
import { RE2JS } from 're2js';

import { compileGoRegexp } from '../rules/go-regexp.js';
import { quoteValue } from '../quote.js';

/** A compiled pattern with its replacement template. */
export interface GoReplacer {
  /** Tells whether the pattern matches any part of `input`, like Go's `MatchString`. */
  test(input: string): boolean;
  /** Returns `input` with every non-overlapping match replaced, like Go's `ReplaceAllString`. */
  replaceAll(input: string): string;
  /** Returns the UTF-16 offsets of the first match, or undefined when there is none. */
  firstMatch(input: string): { start: number; end: number } | undefined;
}

/** One piece of a parsed template: literal text or a group reference. */
type TemplatePart = { text: string } | { group: number };

/**
 * Compiles `pattern` with Go's syntax and parses `replacement` as a Go template. Throws an Error
 * naming `subject` (such as `redirectRegex regex`) when the pattern is invalid or the replacement
 * refers to a group that the pattern does not have. Go would insert an empty string for such a
 * group, which is almost always a mistake such as `$1x` for `${1}x`.
 */
export function compileGoReplacer(subject: string, pattern: string, replacement: string, replacementSubject: string): GoReplacer {
  const checked = compileGoRegexp(pattern);
  if (!checked.ok) {
    throw new Error(`${subject} ${quoteValue(pattern)} is not a valid Go regular expression: ${checked.reason}`);
  }
  const regexp = RE2JS.compile(pattern, 0);
  const template = parseTemplate(replacement, regexp.groupCount(), regexp.namedGroups(), replacementSubject);

  return {
    test: (input) => regexp.test(input),
    replaceAll: (input) => replaceAll(regexp, template, input),
    firstMatch(input) {
      const matcher = regexp.matcher(input);
      return matcher.find() ? { start: matcher.start(), end: matcher.end() } : undefined;
    },
  };
}

/** Compiles a pattern used only for matching; throws an Error naming `subject` when it is invalid. */
export function compileGoPattern(subject: string, pattern: string): GoReplacer {
  return compileGoReplacer(subject, pattern, '', subject);
}

function parseTemplate(template: string, groupCount: number, namedGroups: Record<string, number>, subject: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let rest = template;

  while (rest.length > 0) {
    const dollar = rest.indexOf('$');
    if (dollar === -1) break;
    text += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);

    if (rest.startsWith('$')) {
      text += '$';
      rest = rest.slice(1);
      continue;
    }

    const reference = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(rest);
    if (reference === null) {
      // Go keeps a `$` that starts no valid reference as literal text.
      text += '$';
      continue;
    }
    rest = rest.slice(reference[0].length);
    const name = reference[1] ?? reference[2] ?? '';
    const group = groupIndex(name, groupCount, namedGroups);
    if (group === undefined) {
      throw new Error(missingGroupMessage(subject, template, name, reference[1] === undefined, groupCount, namedGroups));
    }
    if (text !== '') parts.push({ text });
    text = '';
    parts.push({ group });
  }

  text += rest;
  if (text !== '') parts.push({ text });
  return parts;
}

function missingGroupMessage(subject: string, template: string, name: string, unbraced: boolean, groupCount: number, namedGroups: Record<string, number>): string {
  const names = Object.keys(namedGroups);
  let message = `${subject} ${JSON.stringify(template)} refers to group "${name}", which the regex does not have. The regex has ${groupCount} numbered groups`;
  if (names.length > 0) message += ` and the named groups ${names.join(', ')}`;

  const numbered = /^(\d+)(.+)$/.exec(name);
  if (unbraced && numbered !== null) {
    message += `. Write \${${numbered[1]}}${numbered[2]} for group ${numbered[1]} followed by "${numbered[2]}"`;
  }
  return message;
}

/** Returns the group index for a reference name, as Go resolves it, or undefined when there is none. */
function groupIndex(name: string, groupCount: number, namedGroups: Record<string, number>): number | undefined {
  // Go reads a name of ASCII digits without a leading zero as a group number.
  if (/^(?:0|[1-9]\d{0,7})$/.test(name)) {
    const number = Number(name);
    return number <= groupCount ? number : undefined;
  }
  return Object.hasOwn(namedGroups, name) ? namedGroups[name] : undefined;
}

/**
 * Replaces the matches as Go does. An empty match right after the previous match gets no
 * replacement, and the search always moves on by at least one character. Java and re2js's own
 * `replaceAll` would replace such an empty match too.
 */
function replaceAll(regexp: RE2JS, template: readonly TemplatePart[], input: string): string {
  const matcher = regexp.matcher(input);
  let output = '';
  let lastMatchEnd = 0;
  let searchAt = 0;

  while (searchAt <= input.length && matcher.find(searchAt)) {
    const start = matcher.start();
    const end = matcher.end();
    output += input.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) {
      for (const part of template) {
        output += 'text' in part ? part.text : (matcher.group(part.group) ?? '');
      }
    }
    lastMatchEnd = end;

    const width = characterWidth(input, searchAt);
    searchAt = searchAt + width > end ? searchAt + width : end;
  }
  return output + input.slice(lastMatchEnd);
}

/** Returns the number of UTF-16 units of the character at `index`, or 1 at the end of the input. */
function characterWidth(input: string, index: number): number {
  const code = input.codePointAt(index);
  return code !== undefined && code > 0xffff ? 2 : 1;
}
