// Matcher names each syntax accepts, the spellings Traefik allows for them, and suggestions for
// names that are not known.
import { V2_MATCHERS, V3_MATCHERS, type MatcherName, type RuleSyntax } from './tree.js';

/** v2 names that v3 dropped, with the v3 matcher that replaces each. */
const V3_REPLACEMENTS: Record<string, MatcherName> = {
  Headers: 'Header',
  HeadersRegexp: 'HeaderRegexp',
  HostHeader: 'Host',
};

/** v3 names that v2 does not have, with the v2 matcher that comes closest. */
const V2_REPLACEMENTS: Record<string, MatcherName> = {
  Header: 'Headers',
  HeaderRegexp: 'HeadersRegexp',
  PathRegexp: 'Path',
  QueryRegexp: 'Query',
};

/**
 * Builds the table of accepted spellings. Traefik registers each matcher under four spellings:
 * as written, lower case, upper case, and the lower-case form with a capital first letter
 * (`PathPrefix`, `pathprefix`, `PATHPREFIX`, `Pathprefix`). Exactly those are accepted here.
 */
function spellings(names: readonly MatcherName[]): Map<string, MatcherName> {
  const table = new Map<string, MatcherName>();
  for (const name of names) {
    const lower = name.toLowerCase();
    table.set(name, name);
    table.set(lower, name);
    table.set(name.toUpperCase(), name);
    table.set(lower.charAt(0).toUpperCase() + lower.slice(1), name);
  }
  return table;
}

const SPELLINGS: Record<RuleSyntax, Map<string, MatcherName>> = {
  v3: spellings(V3_MATCHERS),
  v2: spellings(V2_MATCHERS),
};

/** Returns the canonical matcher name for a spelling the syntax accepts, or `undefined`. */
export function resolveMatcherName(written: string, syntax: RuleSyntax): MatcherName | undefined {
  return SPELLINGS[syntax].get(written);
}

/**
 * Explains an unknown matcher name: a matcher of the other syntax gets its replacement, a near
 * miss gets the closest known name, anything else gets the list of names.
 */
export function unknownMatcherHint(written: string, syntax: RuleSyntax): string {
  const other: RuleSyntax = syntax === 'v3' ? 'v2' : 'v3';
  const otherName = SPELLINGS[other].get(written);
  if (otherName && syntax === 'v3' && V3_REPLACEMENTS[otherName]) {
    return `${otherName} is Traefik v2 syntax; in v3 write ${V3_REPLACEMENTS[otherName]}(...) instead`;
  }
  if (otherName && syntax === 'v2' && V2_REPLACEMENTS[otherName]) {
    return `${otherName} exists only in Traefik v3 syntax, but this router uses ruleSyntax v2; use ${V2_REPLACEMENTS[otherName]}(...) or switch the router to v3`;
  }

  const known: readonly string[] = syntax === 'v3' ? V3_MATCHERS : V2_MATCHERS;
  const closest = closestName(written, known);
  if (closest) return `unknown matcher ${written}; did you mean ${closest}?`;
  return `unknown matcher ${written}; known matchers: ${known.join(', ')}`;
}

/** Finds the known name with the smallest case-insensitive edit distance, if it is close enough to be a typo. */
export function closestName(written: string, known: readonly string[]): string | undefined {
  const lower = written.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const distance = editDistance(lower, name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(2, Math.floor(written.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** Computes the Levenshtein distance, keeping one row of the table. */
function editDistance(a: string, b: string): number {
  // Long inputs cannot be a typo of a matcher name; skip the quadratic work for them.
  if (Math.abs(a.length - b.length) > 8) return Infinity;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? Infinity;
}

/** How many values each v3 matcher takes. */
export const V3_ARITY: Record<string, readonly number[]> = {
  Host: [1],
  HostRegexp: [1],
  Path: [1],
  PathPrefix: [1],
  PathRegexp: [1],
  Method: [1],
  Header: [2],
  HeaderRegexp: [2],
  Query: [1, 2],
  QueryRegexp: [1, 2],
  ClientIP: [1],
};

/** Example values used in hints that show how to write a matcher. */
export const EXAMPLE_ARGS: Record<string, readonly string[]> = {
  Host: ['example.com'],
  HostHeader: ['example.com'],
  HostRegexp: ['^.+\\.example\\.com$'],
  Path: ['/products'],
  PathPrefix: ['/api'],
  PathRegexp: ['^/products/[0-9]+$'],
  Method: ['GET'],
  Header: ['X-Forwarded-Proto', 'https'],
  Headers: ['X-Forwarded-Proto', 'https'],
  HeaderRegexp: ['Content-Type', '^application/json'],
  HeadersRegexp: ['Content-Type', '^application/json'],
  Query: ['mobile', 'true'],
  QueryRegexp: ['mobile', '^(true|yes)$'],
  ClientIP: ['192.168.1.0/24'],
};
