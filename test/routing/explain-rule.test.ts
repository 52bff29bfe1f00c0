// evaluateRule must agree with the compiled matcher that routing uses, or explain would name a
// winner that routing does not pick.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateRule } from '../../src/rules/explain.js';
import { compileRule, parseRule, type RuleNode } from '../../src/rules/index.js';
import type { RequestFacts } from '../../src/rules/types.js';

const RULES = [
  'Host(`a.example.com`)',
  'Host(`a.example.com`) && PathPrefix(`/api`)',
  'Host(`a.example.com`) || Host(`b.example.com`)',
  '!Host(`a.example.com`) && !(PathPrefix(`/x`) || Method(`POST`))',
  'HostRegexp(`^.+\\.example\\.com$`) && !Path(`/`)',
  '(Method(`GET`) || Method(`POST`)) && Header(`X-Env`, `prod`) && !ClientIP(`10.0.0.0/8`)',
  'Query(`x`, `1`) || QueryRegexp(`y`, `^[0-9]+$`) || HeaderRegexp(`X-Env`, `^pr`)',
  'PathRegexp(`^/v[0-9]+/`) && !(Host(`a.example.com`) && Method(`DELETE`))',
];

function treeOf(rule: string): RuleNode {
  const parsed = parseRule(rule);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.tree;
}

const factsArbitrary: fc.Arbitrary<RequestFacts> = fc.record({
  host: fc.constantFrom('a.example.com', 'b.example.com', 'x.example.com', 'example.com', ''),
  path: fc.constantFrom('/', '/api', '/api/x', '/x', '/v1/a', '/v22/', '/apple'),
  rawQuery: fc.constantFrom('', 'x=1', 'y=12', 'y=a', 'x=2&y=3'),
  method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
  headers: fc.constantFrom({}, { 'x-env': 'prod' }, { 'x-env': 'preview' }),
  clientIp: fc.constantFrom('127.0.0.1', '10.2.3.4', '::1'),
});

describe('evaluateRule', () => {
  it('agrees with the compiled matcher', () => {
    const compiled = RULES.map((rule) => ({ rule, tree: treeOf(rule), matcher: compileRule(treeOf(rule)) }));
    fc.assert(
      fc.property(factsArbitrary, (facts) => {
        for (const { tree, matcher } of compiled) {
          expect(evaluateRule(tree, facts).matched).toBe(matcher(facts));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('lists matchers in written order', () => {
    const result = evaluateRule(treeOf(RULES[3] ?? ''), { host: 'a.example.com', path: '/y', rawQuery: '', method: 'GET', headers: {}, clientIp: '127.0.0.1' });
    expect(result.matchers.map((matcher) => [matcher.name, matcher.matched, matcher.negated])).toEqual([
      ['Host', true, true],
      ['PathPrefix', false, true],
      ['Method', false, true],
    ]);
    expect(result.matched).toBe(false);
  });

  it('evaluates v2 matchers', () => {
    const parsed = parseRule('Host(`a.example.com`, `b.example.com`) && PathPrefix(`/{id:[0-9]+}`)', 'v2');
    if (!parsed.ok) throw new Error(parsed.error.message);
    const result = evaluateRule(parsed.tree, { host: 'b.example.com', path: '/42/x', rawQuery: '', method: 'GET', headers: {}, clientIp: '127.0.0.1' });
    expect(result.matchers.map((matcher) => matcher.matched)).toEqual([true, true]);
    expect(result.matched).toBe(true);
  });
});
