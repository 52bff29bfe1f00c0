// Turns a parsed rule into a request matcher. All values are normalized and all regexps compiled
// here, once per rule, so matching a request does no parsing of the rule.
import { compileGoRegexp, type GoRegexp } from './go-regexp.js';
import { ipInRanges, parseIpRange, type IpRange } from './ip.js';
import { templateToRegexp, type TemplateKind } from './mux-template.js';
import {
  comparableRequestHost,
  headerValues,
  matchesOneLabelWildcard,
  normalizeRuleHost,
  parseQuery,
} from './request-values.js';
import type { MatcherNode, RuleNode } from './tree.js';
import type { Matcher, RequestFacts } from './types.js';

/**
 * Compiles a tree returned by `parseRule` into a matcher. Throws a TypeError only for a tree that
 * `parseRule` would not have produced (such as an invalid regexp built by hand).
 */
export function compileRule(tree: RuleNode): Matcher {
  switch (tree.type) {
    case 'matcher':
      return tree.syntax === 'v2' ? compileV2Matcher(tree) : compileV3Matcher(tree);
    case 'not': {
      const child = compileRule(tree.child);
      return (request) => !child(request);
    }
    case 'and':
      return allOf(tree.children.map(compileRule));
    case 'or':
      return anyOf(tree.children.map(compileRule));
  }
}

function allOf(matchers: Matcher[]): Matcher {
  const [first, second] = matchers;
  if (matchers.length === 1 && first) return first;
  if (matchers.length === 2 && first && second) return (request) => first(request) && second(request);
  return (request) => matchers.every((matcher) => matcher(request));
}

function anyOf(matchers: Matcher[]): Matcher {
  const [first, second] = matchers;
  if (matchers.length === 1 && first) return first;
  if (matchers.length === 2 && first && second) return (request) => first(request) || second(request);
  return (request) => matchers.some((matcher) => matcher(request));
}

function compileV3Matcher(node: MatcherNode): Matcher {
  const [first = '', second] = node.args;
  switch (node.name) {
    case 'Host':
      return hostMatcher(first);
    case 'HostRegexp': {
      const regexp = regexpOf(first);
      return (request) => regexp.test(request.host);
    }
    case 'Path':
      return (request) => request.path === first;
    case 'PathPrefix':
      return (request) => request.path.startsWith(first);
    case 'PathRegexp': {
      const regexp = regexpOf(first);
      return (request) => regexp.test(request.path);
    }
    case 'Method': {
      // Traefik upper-cases the rule value but compares the request method as received.
      const method = first.toUpperCase();
      return (request) => request.method === method;
    }
    case 'Header': {
      const name = first.toLowerCase();
      const value = second ?? '';
      return (request) => headerValues(request.headers, name).includes(value);
    }
    case 'HeaderRegexp': {
      const name = first.toLowerCase();
      const regexp = regexpOf(second ?? '');
      return (request) => headerValues(request.headers, name).some((value) => regexp.test(value));
    }
    case 'Query':
      return queryEquals(first, second ?? '');
    case 'QueryRegexp': {
      // With one value Traefik falls back to Query, which matches a key without a value.
      if (second === undefined) return queryEquals(first, '');
      const regexp = regexpOf(second);
      return (request) => parseQuery(request.rawQuery).get(first)?.some((value) => regexp.test(value)) ?? false;
    }
    case 'ClientIP':
      return clientIpMatcher(node.args);
    default:
      throw new TypeError(`${node.name} is not a v3 matcher`);
  }
}

/**
 * Builds a Host matcher. `*` matches any non-empty host, and `*.example.com` matches exactly one
 * extra label. Other hosts compare exactly, ignoring case and a trailing dot on either side.
 */
function hostMatcher(value: string): Matcher {
  const wanted = normalizeRuleHost(value);
  if (wanted === '*') return (request) => request.host !== '';
  if (wanted.startsWith('*.')) {
    const suffix = wanted.slice(1);
    return (request) => matchesOneLabelWildcard(comparableRequestHost(request.host), suffix);
  }
  return (request) => comparableRequestHost(request.host) === wanted;
}

/** `Query(k, v)` matches when one value of `k` equals `v`; `Query(k)` when `k` appears with an empty value. */
function queryEquals(key: string, value: string): Matcher {
  return (request) => parseQuery(request.rawQuery).get(key)?.includes(value) ?? false;
}

function clientIpMatcher(values: readonly string[]): Matcher {
  const ranges: IpRange[] = values.map((value) => {
    const range = parseIpRange(value);
    if (!range) throw new TypeError(`ClientIP value "${value}" is not an IP address or CIDR range`);
    return range;
  });
  return (request) => ipInRanges(request.clientIp, ranges);
}

function regexpOf(source: string): GoRegexp {
  const compiled = compileGoRegexp(source);
  if (!compiled.ok) throw new TypeError(`invalid regexp \`${source}\`: ${compiled.reason}`);
  return compiled.regexp;
}

function templateRegexp(template: string, kind: TemplateKind): GoRegexp {
  const result = templateToRegexp(template, kind);
  if (!result.ok) throw new TypeError(`invalid template \`${template}\`: ${result.reason}`);
  return regexpOf(result.source);
}

/** Builds a Traefik v2 matcher. Several values of one matcher mean "any of them", as with gorilla/mux routes. */
function compileV2Matcher(node: MatcherNode): Matcher {
  const args = node.args;
  switch (node.name) {
    case 'Host':
    case 'HostHeader': {
      const hosts = new Set(args.map(normalizeRuleHost));
      return (request) => hosts.has(comparableRequestHost(request.host));
    }
    case 'HostRegexp': {
      const regexps = args.map((template) => templateRegexp(template, 'host'));
      return (request) => regexps.some((regexp) => regexp.test(request.host));
    }
    case 'Path':
    case 'PathPrefix':
      return anyOf(args.map((template) => v2PathMatcher(template, node.name === 'PathPrefix')));
    case 'Method': {
      const methods = new Set(args.map((method) => method.toUpperCase()));
      return (request) => methods.has(request.method);
    }
    case 'Headers':
    case 'HeadersRegexp':
      return v2HeadersMatcher(args, node.name === 'HeadersRegexp');
    case 'Query':
      return v2QueryMatcher(args);
    case 'ClientIP':
      return clientIpMatcher(args);
    default:
      throw new TypeError(`${node.name} is not a v2 matcher`);
  }
}

function v2PathMatcher(template: string, prefix: boolean): Matcher {
  // Without placeholders the anchored template regexp is a plain comparison.
  if (!template.includes('{')) {
    return prefix ? (request) => request.path.startsWith(template) : (request) => request.path === template;
  }
  const regexp = templateRegexp(template, prefix ? 'prefix' : 'path');
  return (request) => regexp.test(request.path);
}

/**
 * Builds a v2 Headers or HeadersRegexp matcher. gorilla/mux keeps the pairs in a map, so a
 * repeated name keeps its last value, and every name must match. A plain value must equal one of
 * the header's values, and a regexp must match one of them.
 */
function v2HeadersMatcher(args: readonly string[], regexp: boolean): Matcher {
  const wanted = new Map<string, string>();
  for (let i = 0; i + 1 < args.length; i += 2) wanted.set((args[i] ?? '').toLowerCase(), args[i + 1] ?? '');

  const checks = [...wanted].map(([name, value]): Matcher => {
    if (!regexp) return (request) => headerValues(request.headers, name).includes(value);
    const compiled = regexpOf(value);
    return (request) => headerValues(request.headers, name).some((headerValue) => compiled.test(headerValue));
  });
  return allOf(checks);
}

/**
 * Builds a v2 Query matcher. As in gorilla/mux, each `key=value` template is matched against
 * `key=` followed by the first value of that key in the request, and every pair must match.
 */
function v2QueryMatcher(args: readonly string[]): Matcher {
  const pieces = args.flatMap((arg) => {
    const equals = arg.indexOf('=');
    return equals === -1 ? [arg] : [arg.slice(0, equals), arg.slice(equals + 1)];
  });

  const checks: Matcher[] = [];
  for (let i = 0; i + 1 < pieces.length; i += 2) {
    const key = pieces[i] ?? '';
    const value = pieces[i + 1] ?? '';
    const regexp = templateRegexp(`${key}=${value}`, 'query');
    checks.push((request: RequestFacts) => {
      const values = parseQuery(request.rawQuery).get(key);
      return values !== undefined && values.length > 0 && regexp.test(`${key}=${values[0] ?? ''}`);
    });
  }
  return allOf(checks);
}
