// Traefik v2 rules (routers with ruleSyntax v2), and v2 forms written under v3.
import { describe, expect, test } from 'vitest';
import { parseRule, printRule } from '../../src/rules/index.js';
import type { RequestFacts } from '../../src/rules/types.js';
import { ruleMatches } from './helpers.js';

interface MatchCase {
  desc: string;
  rule: string;
  request: Partial<RequestFacts>;
  expected: boolean;
}

const v2Cases: MatchCase[] = [
  { desc: 'Host first of two', rule: 'Host(`a.example.com`, `b.example.com`)', request: { host: 'a.example.com' }, expected: true },
  { desc: 'Host second of two', rule: 'Host(`a.example.com`, `b.example.com`)', request: { host: 'b.example.com' }, expected: true },
  { desc: 'Host neither', rule: 'Host(`a.example.com`, `b.example.com`)', request: { host: 'c.example.com' }, expected: false },
  { desc: 'Host upper case and trailing dot', rule: 'Host(`A.Example.com.`)', request: { host: 'a.example.com' }, expected: true },
  { desc: 'Host wildcard is literal', rule: 'Host(`*.example.com`)', request: { host: 'a.example.com' }, expected: false },
  { desc: 'HostHeader', rule: 'HostHeader(`example.com`)', request: { host: 'example.com' }, expected: true },
  { desc: 'HostRegexp placeholder', rule: 'HostRegexp(`{sub:[a-z]+}.example.com`)', request: { host: 'abc.example.com' }, expected: true },
  { desc: 'HostRegexp placeholder mismatch', rule: 'HostRegexp(`{sub:[a-z]+}.example.com`)', request: { host: 'a1.example.com' }, expected: false },
  { desc: 'HostRegexp is anchored', rule: 'HostRegexp(`{sub:[a-z]+}.example.com`)', request: { host: 'x.abc.example.com' }, expected: false },
  { desc: 'HostRegexp dot is literal', rule: 'HostRegexp(`{sub:[a-z]+}.example.com`)', request: { host: 'abc.exampleXcom' }, expected: false },
  { desc: 'HostRegexp default placeholder is one label', rule: 'HostRegexp(`{sub}.example.com`)', request: { host: 'x-1.example.com' }, expected: true },
  { desc: 'HostRegexp default placeholder, two labels', rule: 'HostRegexp(`{sub}.example.com`)', request: { host: 'a.b.example.com' }, expected: false },
  { desc: 'HostRegexp alternation placeholder', rule: 'HostRegexp(`{sub:a|b}.example.com`)', request: { host: 'b.example.com' }, expected: true },
  { desc: 'HostRegexp several templates', rule: 'HostRegexp(`a.com`, `{x}.b.com`)', request: { host: 'q.b.com' }, expected: true },
  { desc: 'Path placeholder', rule: 'Path(`/a/{id:[0-9]+}`)', request: { path: '/a/12' }, expected: true },
  { desc: 'Path placeholder mismatch', rule: 'Path(`/a/{id:[0-9]+}`)', request: { path: '/a/x' }, expected: false },
  { desc: 'Path placeholder anchored at end', rule: 'Path(`/a/{id:[0-9]+}`)', request: { path: '/a/12/b' }, expected: false },
  { desc: 'Path default placeholder', rule: 'Path(`/a/{id}`)', request: { path: '/a/x' }, expected: true },
  { desc: 'Path default placeholder is one segment', rule: 'Path(`/a/{id}`)', request: { path: '/a/x/y' }, expected: false },
  { desc: 'Path several values', rule: 'Path(`/a`, `/b`)', request: { path: '/b' }, expected: true },
  { desc: 'PathPrefix placeholder', rule: 'PathPrefix(`/a/{id:[0-9]+}`)', request: { path: '/a/12/b' }, expected: true },
  { desc: 'PathPrefix string prefix', rule: 'PathPrefix(`/app`)', request: { path: '/apple' }, expected: true },
  { desc: 'Method several values', rule: 'Method(`GET`, `post`)', request: { method: 'POST' }, expected: true },
  { desc: 'Method not listed', rule: 'Method(`GET`, `post`)', request: { method: 'PUT' }, expected: false },
  { desc: 'Headers pair', rule: 'Headers(`X-A`, `1`)', request: { headers: { 'x-a': '1' } }, expected: true },
  { desc: 'Headers two pairs, both', rule: 'Headers(`X-A`, `1`, `X-B`, `2`)', request: { headers: { 'x-a': '1', 'x-b': '2' } }, expected: true },
  { desc: 'Headers two pairs, one', rule: 'Headers(`X-A`, `1`, `X-B`, `2`)', request: { headers: { 'x-a': '1' } }, expected: false },
  { desc: 'Headers repeated name keeps last', rule: 'Headers(`X-A`, `1`, `X-A`, `2`)', request: { headers: { 'x-a': '2' } }, expected: true },
  { desc: 'HeadersRegexp', rule: 'HeadersRegexp(`X-A`, `^a+$`)', request: { headers: { 'x-a': 'aaa' } }, expected: true },
  { desc: 'HeadersRegexp mismatch', rule: 'HeadersRegexp(`X-A`, `^a+$`)', request: { headers: { 'x-a': 'ab' } }, expected: false },
  { desc: 'Query key=value', rule: 'Query(`k=v`)', request: { rawQuery: 'k=v' }, expected: true },
  { desc: 'Query other value', rule: 'Query(`k=v`)', request: { rawQuery: 'k=w' }, expected: false },
  { desc: 'Query compares the first value only', rule: 'Query(`k=v`)', request: { rawQuery: 'k=w&k=v' }, expected: false },
  { desc: 'Query key= accepts any value', rule: 'Query(`k=`)', request: { rawQuery: 'k=anything' }, expected: true },
  { desc: 'Query key= needs the key', rule: 'Query(`k=`)', request: { rawQuery: 'x=1' }, expected: false },
  { desc: 'Query placeholder', rule: 'Query(`k={n:[0-9]+}`)', request: { rawQuery: 'k=12' }, expected: true },
  { desc: 'Query placeholder mismatch', rule: 'Query(`k={n:[0-9]+}`)', request: { rawQuery: 'k=ab' }, expected: false },
  { desc: 'Query two pairs need both', rule: 'Query(`a=1`, `b=2`)', request: { rawQuery: 'a=1' }, expected: false },
  { desc: 'Query two pairs present', rule: 'Query(`a=1`, `b=2`)', request: { rawQuery: 'b=2&a=1' }, expected: true },
  { desc: 'Query values split and paired', rule: 'Query(`a`, `1`)', request: { rawQuery: 'a=1' }, expected: true },
  { desc: 'ClientIP several values', rule: 'ClientIP(`10.0.0.1`, `192.168.0.0/16`)', request: { clientIp: '192.168.3.4' }, expected: true },
  { desc: 'ClientIP none', rule: 'ClientIP(`10.0.0.1`, `192.168.0.0/16`)', request: { clientIp: '10.0.0.2' }, expected: false },
  { desc: 'operators as in v3', rule: 'Host(`a.com`) && !Path(`/x`)', request: { host: 'a.com', path: '/y' }, expected: true },
];

describe('v2 matchers', () => {
  test.each(v2Cases)('$desc: $rule', ({ rule, request, expected }) => {
    expect(ruleMatches(rule, request, 'v2')).toBe(expected);
  });
});

interface ErrorCase {
  desc: string;
  rule: string;
  syntax: 'v2' | 'v3';
  column: number;
  hint: string;
}

const formErrors: ErrorCase[] = [
  { desc: 'Host with two values', rule: 'Host(`a`, `b`)', syntax: 'v3', column: 11, hint: 'Host takes one value; write Host(`a`) || Host(`b`)' },
  { desc: 'Method with two values', rule: 'Method(`GET`, `POST`)', syntax: 'v3', column: 15, hint: 'Method takes one value; write Method(`GET`) || Method(`POST`)' },
  { desc: 'ClientIP with two values', rule: 'ClientIP(`10.0.0.1`, `10.0.0.2`)', syntax: 'v3', column: 22, hint: 'ClientIP takes one value; write ClientIP(`10.0.0.1`) || ClientIP(`10.0.0.2`)' },
  { desc: 'Headers', rule: 'Headers(`X-A`, `1`)', syntax: 'v3', column: 1, hint: 'Headers is Traefik v2 syntax; in v3 write Header(`X-A`, `1`)' },
  { desc: 'Headers with two pairs', rule: 'Headers(`X-A`, `1`, `X-B`, `2`)', syntax: 'v3', column: 1, hint: 'Headers is Traefik v2 syntax; in v3 write Header(`X-A`, `1`) && Header(`X-B`, `2`)' },
  { desc: 'HeadersRegexp', rule: 'HeadersRegexp(`X-A`, `^a`)', syntax: 'v3', column: 1, hint: 'HeadersRegexp is Traefik v2 syntax; in v3 write HeaderRegexp(`X-A`, `^a`)' },
  { desc: 'HostHeader', rule: 'HostHeader(`a.com`)', syntax: 'v3', column: 1, hint: 'HostHeader is Traefik v2 syntax; in v3 write Host(`a.com`)' },
  { desc: 'Query key=value', rule: 'Query(`k=v`)', syntax: 'v3', column: 7, hint: 'Query(`k=v`) is Traefik v2 syntax; in v3 write Query(`k`, `v`)' },
  { desc: 'Query key= (any value)', rule: 'Query(`k=`)', syntax: 'v3', column: 7, hint: 'Query(`k=`) is Traefik v2 syntax; in v3 write QueryRegexp(`k`, `^.*$`)' },
  { desc: 'Query placeholder', rule: 'Query(`k={n:[0-9]+}`)', syntax: 'v3', column: 7, hint: 'in v3 write QueryRegexp(`k`, `^[0-9]+$`)' },
  { desc: 'Path placeholder', rule: 'Path(`/a/{id:[0-9]+}`)', syntax: 'v3', column: 6, hint: 'in v3 write PathRegexp(`^/a/[0-9]+$`)' },
  { desc: 'PathPrefix placeholder', rule: 'PathPrefix(`/a/{id}`)', syntax: 'v3', column: 12, hint: 'in v3 write PathRegexp(`^/a/[^/]+`)' },
  { desc: 'Header under v2', rule: 'Header(`X-A`, `1`)', syntax: 'v2', column: 1, hint: 'use Headers(...)' },
  { desc: 'PathRegexp under v2', rule: 'PathRegexp(`^/a`)', syntax: 'v2', column: 1, hint: 'PathRegexp exists only in Traefik v3 syntax' },
  { desc: 'v2 Headers odd count', rule: 'Headers(`X-A`)', syntax: 'v2', column: 14, hint: 'Headers takes header names and values in pairs' },
  { desc: 'v2 Query without =', rule: 'Query(`mobile`)', syntax: 'v2', column: 7, hint: 'write Query(`mobile=true`)' },
  { desc: 'v2 capture group in placeholder', rule: 'Path(`/{id:(a|b)}`)', syntax: 'v2', column: 6, hint: 'use a non-capturing group (?:...)' },
  { desc: 'v2 unbalanced braces', rule: 'Path(`/{id`)', syntax: 'v2', column: 6, hint: 'unbalanced braces' },
  { desc: 'v2 empty placeholder pattern', rule: 'HostRegexp(`{sub:}.a.com`)', syntax: 'v2', column: 12, hint: 'missing name or pattern' },
  { desc: 'v2 invalid placeholder regexp', rule: 'Path(`/{id:[0-9}`)', syntax: 'v2', column: 6, hint: 'missing closing ]' },
  { desc: 'v2 path without slash', rule: 'PathPrefix(`api`)', syntax: 'v2', column: 12, hint: 'PathPrefix value must start with /' },
];

describe('v2 forms and v2 errors', () => {
  test.each(formErrors)('$desc ($syntax): $rule', ({ rule, syntax, column, hint }) => {
    const result = parseRule(rule, syntax);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.column).toBe(column);
    expect(result.error.hint).toContain(hint);
  });

  test('v2 Host wildcard warns that it is literal', () => {
    const result = parseRule('Host(`*.example.com`)', 'v2');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.warnings).toEqual([expect.stringContaining('Host wildcards exist only in v3 syntax')]);
  });

  test('v2 rule prints with all its values', () => {
    const rule = 'Host(`a.com`, `b.com`) && Method(`GET`, `POST`)';
    const result = parseRule(rule, 'v2');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(printRule(result.tree)).toBe(rule);
  });
});
