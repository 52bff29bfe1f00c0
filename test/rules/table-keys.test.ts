// Literal hosts that the router table indexes a rule under.
import { describe, expect, test } from 'vitest';
import { compileRule, literalHosts } from '../../src/rules/index.js';
import { facts, parseValid } from './helpers.js';

interface HostsCase {
  desc: string;
  rule: string;
  syntax?: 'v2' | 'v3';
  expected: string[] | null;
}

const cases: HostsCase[] = [
  { desc: 'one host', rule: 'Host(`example.com`)', expected: ['example.com'] },
  { desc: 'lower-cased, trailing dot removed', rule: 'Host(`Example.COM.`)', expected: ['example.com'] },
  { desc: 'host and path', rule: 'Host(`a.com`) && PathPrefix(`/api`)', expected: ['a.com'] },
  { desc: 'path and host', rule: 'PathPrefix(`/api`) && Host(`a.com`)', expected: ['a.com'] },
  { desc: 'union of hosts', rule: 'Host(`b.com`) || Host(`a.com`)', expected: ['a.com', 'b.com'] },
  { desc: 'union inside &&', rule: '(Host(`a.com`) || Host(`b.com`)) && Path(`/`)', expected: ['a.com', 'b.com'] },
  { desc: 'duplicates collapse', rule: 'Host(`a.com`) || Host(`A.com`)', expected: ['a.com'] },
  { desc: 'intersection', rule: '(Host(`a.com`) || Host(`b.com`)) && Host(`b.com`)', expected: ['b.com'] },
  { desc: 'disjoint intersection', rule: 'Host(`a.com`) && Host(`b.com`)', expected: [] },
  { desc: 'hostless && branch is ignored', rule: 'Host(`a.com`) && (Host(`b.com`) || Path(`/`))', expected: ['a.com'] },
  { desc: 'hostless || branch', rule: 'Host(`a.com`) || Path(`/`)', expected: null },
  { desc: 'no host at all', rule: 'PathPrefix(`/`)', expected: null },
  { desc: 'negated host', rule: '!Host(`a.com`)', expected: null },
  { desc: 'negated host with a host', rule: 'Host(`a.com`) && !Host(`b.com`)', expected: ['a.com'] },
  { desc: 'HostRegexp', rule: 'HostRegexp(`^a\\.com$`)', expected: null },
  { desc: 'HostRegexp or Host', rule: 'HostRegexp(`^a\\.com$`) || Host(`b.com`)', expected: null },
  { desc: 'HostRegexp and Host', rule: 'HostRegexp(`^a`) && Host(`a.com`)', expected: ['a.com'] },
  { desc: 'wildcard', rule: 'Host(`*.example.com`)', expected: null },
  { desc: 'star alone', rule: 'Host(`*`)', expected: null },
  { desc: 'IPv6 literal', rule: 'Host(`[::1]`)', expected: null },
  { desc: 'host with a port', rule: 'Host(`a.com:8080`)', expected: null },
  { desc: 'v2 several hosts', rule: 'Host(`a.com`, `B.com`)', syntax: 'v2', expected: ['a.com', 'b.com'] },
  { desc: 'v2 HostHeader', rule: 'HostHeader(`a.com`)', syntax: 'v2', expected: ['a.com'] },
  { desc: 'v2 HostRegexp', rule: 'HostRegexp(`{x}.a.com`)', syntax: 'v2', expected: null },
];

describe('literalHosts', () => {
  test.each(cases)('$desc: $rule', ({ rule, syntax, expected }) => {
    expect(literalHosts(parseValid(rule, syntax))).toEqual(expected);
  });

  test('a disjoint intersection really never matches', () => {
    const matcher = compileRule(parseValid('Host(`a.com`) && Host(`b.com`)'));
    expect(matcher(facts({ host: 'a.com' }))).toBe(false);
    expect(matcher(facts({ host: 'b.com' }))).toBe(false);
  });

  test('trailing dot in rule host', () => {
    const tree = parseValid('Host(`example.com.`)');
    expect(literalHosts(tree)).toEqual(['example.com']);
    expect(compileRule(tree)(facts({ host: 'example.com' }))).toBe(true);
  });
});
