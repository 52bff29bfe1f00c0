// Traefik v2 route templates: `{name}` and `{name:pattern}` placeholders in hosts, paths and query
// values, as gorilla/mux defines them.
//
// gorilla/mux builds one regexp per template. The literal text is escaped with QuoteMeta, and each
// placeholder becomes its pattern, by default `[^.]+` in a host, `[^/]+` in a path and `.*` in a
// query value. The regexp is anchored at both ends, except for PathPrefix, which is anchored at
// the start only.
import { compileGoRegexp, quoteMeta } from './go-regexp.js';

export type TemplateKind = 'host' | 'path' | 'prefix' | 'query';

interface Placeholder {
  /** Index of `{`. */
  start: number;
  /** Index after `}`. */
  end: number;
  pattern: string;
}

const DEFAULT_PATTERN: Record<TemplateKind, string> = {
  host: '[^.]+',
  path: '[^/]+',
  prefix: '[^/]+',
  query: '.*',
};

export type TemplateResult = { ok: true; source: string } | { ok: false; reason: string };

/**
 * Builds the regexp gorilla/mux matches for `template`. For `query`, the template is `key=value`
 * and the regexp is matched against `key=` followed by the first value of that key.
 */
export function templateToRegexp(template: string, kind: TemplateKind): TemplateResult {
  const placeholders = parsePlaceholders(template, kind);
  if ('reason' in placeholders) return { ok: false, reason: placeholders.reason };

  for (const { pattern } of placeholders) {
    const compiled = compileGoRegexp(pattern);
    if (!compiled.ok) return { ok: false, reason: `placeholder pattern \`${pattern}\` is invalid: ${compiled.reason}` };
    if (hasCapturingGroup(pattern)) {
      return {
        ok: false,
        reason: `placeholder pattern \`${pattern}\` has a capturing group, which gorilla/mux rejects; use a non-capturing group (?:...)`,
      };
    }
  }

  const source = assemble(template, kind, placeholders, (pattern) => `(?:${pattern})`);
  const compiled = compileGoRegexp(source);
  if (!compiled.ok) return { ok: false, reason: compiled.reason };
  return { ok: true, source };
}

/**
 * Returns the v3 regexp that matches what the v2 template matched, written for people to read
 * (placeholder patterns are only wrapped in a group when they contain `|`).
 */
export function v3RegexpFor(template: string, kind: TemplateKind): string | undefined {
  const placeholders = parsePlaceholders(template, kind);
  if ('reason' in placeholders) return undefined;
  return assemble(template, kind, placeholders, (pattern) => (pattern.includes('|') ? `(?:${pattern})` : pattern));
}

/**
 * True when `value` contains a `{name}` or `{name:pattern}` placeholder. Regexp repetitions such as
 * `{2,3}` and escaped braces are not placeholders.
 */
export function hasV2Placeholder(value: string): boolean {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (char === '\\') {
      i++;
    } else if (char === '{') {
      if (depth++ === 0) start = i;
    } else if (char === '}' && depth > 0) {
      if (--depth === 0) {
        const name = value.slice(start + 1, i).split(':', 1)[0] ?? '';
        if (/^[A-Za-z_][\w-]*$/.test(name)) return true;
      }
    }
  }
  return false;
}

/** Splits a template into placeholders with gorilla/mux's rules: balanced braces, non-empty name and pattern. */
function parsePlaceholders(template: string, kind: TemplateKind): Placeholder[] | { reason: string } {
  const placeholders: Placeholder[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < template.length; i++) {
    if (template[i] === '{') {
      if (depth++ === 0) start = i;
    } else if (template[i] === '}') {
      depth--;
      if (depth < 0) return { reason: `unbalanced braces in \`${template}\`` };
      if (depth > 0) continue;

      const inner = template.slice(start + 1, i);
      const colon = inner.indexOf(':');
      const name = colon === -1 ? inner : inner.slice(0, colon);
      const pattern = colon === -1 ? DEFAULT_PATTERN[kind] : inner.slice(colon + 1);
      if (name === '' || pattern === '') {
        return { reason: `missing name or pattern in \`${template.slice(start, i + 1)}\`; write {name} or {name:pattern}` };
      }
      placeholders.push({ start, end: i + 1, pattern });
    }
  }
  if (depth !== 0) return { reason: `unbalanced braces in \`${template}\`` };
  return placeholders;
}

function assemble(
  template: string,
  kind: TemplateKind,
  placeholders: Placeholder[],
  wrap: (pattern: string) => string,
): string {
  let source = '^';
  let end = 0;
  for (const placeholder of placeholders) {
    source += quoteMeta(template.slice(end, placeholder.start)) + wrap(placeholder.pattern);
    end = placeholder.end;
  }
  source += quoteMeta(template.slice(end));

  // gorilla/mux lets `key=` with no value match any value of that key.
  if (kind === 'query' && template.slice(template.indexOf('=') + 1) === '') source += DEFAULT_PATTERN.query;
  if (kind !== 'prefix') source += '$';
  return source;
}

/** True when the pattern has a `(` that opens a capturing group (not `(?:`, `(?i)` or an escaped or bracketed paren). */
function hasCapturingGroup(pattern: string): boolean {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') i++;
    else if (inClass) inClass = char !== ']';
    else if (char === '[') {
      inClass = true;
      // A `]` right after `[` or `[^` is a literal member of the class.
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
    } else if (char === '(') {
      if (pattern[i + 1] !== '?') return true;
      if (pattern.startsWith('(?P<', i) || pattern.startsWith('(?<', i)) return true;
    }
  }
  return false;
}
