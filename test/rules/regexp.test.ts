// Rule regexps follow Go's RE2 syntax and match in linear time.
import { describe, expect, test } from 'vitest';
import { compileRule, parseRule } from '../../src/rules/index.js';
import { facts, parseValid, ruleMatches } from './helpers.js';

describe('Go syntax that JavaScript lacks or reads differently', () => {
  test.each([
    ['(?i) flag prefix', '(?i)^/ADMIN', '/admin', true],
    ['(?i:...) group', '^/(?i:ADMIN)$', '/Admin', true],
    ['(?s) lets . match a newline', '(?s)^/a.b$', '/a\nb', true],
    ['without (?s) . skips a newline', '^/a.b$', '/a\nb', false],
    ['(?m) multi-line anchors', '(?m)^b$', '/a\nb', true],
    ['(?U) makes quantifiers lazy but still matches', '(?U)^/a+$', '/aaa', true],
    ['\\A and \\z', '\\A/a\\z', '/a', true],
    ['POSIX class', '^/[[:digit:]]+$', '/123', true],
    ['Unicode class \\pL', '^/\\pL+$', '/\u00e9t\u00e9', true],
    ['\\Q...\\E quoting', '^/\\Qa.b\\E$', '/a.b', true],
    ['\\Q...\\E quoting is literal', '^/\\Qa.b\\E$', '/axb', false],
    ['named group (?P<n>)', '^/(?P<id>[0-9]+)$', '/42', true],
    ['named group (?<n>)', '^/(?<id>[0-9]+)$', '/42', true],
    ['\\x{...} escape', '^/\\x{41}$', '/A', true],
    ['literal brace without count', '^/{id}$', '/{id}', true],
    ['{,n} is literal in Go', '^/a{,2}$', '/a{,2}', true],
    ['octal escape', '^/\\101$', '/A', true],
    ['\\b is an ASCII word boundary', '\\bapi\\b', '/v1/api/x', true],
  ])('%s: %s on %j', (_desc, pattern, path, expected) => {
    expect(ruleMatches(`PathRegexp(\`${pattern}\`)`, { path })).toBe(expected);
  });
});

describe('constructs Go rejects', () => {
  test.each([
    ['back-reference', '(a)\\1', 'back-references do not exist'],
    ['named back-reference', '(?P<x>a)\\k<x>', 'back-references do not exist'],
    ['look-ahead', 'a(?=b)', 'look-ahead and look-behind do not exist'],
    ['negative look-ahead', 'a(?!b)', 'look-ahead and look-behind do not exist'],
    ['look-behind', '(?<=a)b', 'look-ahead and look-behind do not exist'],
    ['negative look-behind', '(?<!a)b', 'look-ahead and look-behind do not exist'],
    ['possessive +', 'a++', 'possessive quantifiers do not exist'],
    ['possessive *', 'a*+', 'possessive quantifiers do not exist'],
    ['atomic group', '(?>a)', 'atomic groups do not exist'],
    ['nested quantifier', 'a**', 'wrap the inner part in (?:...)'],
    ['\\Z', 'a\\Z', 'invalid escape sequence'],
    ['\\u escape', '\\u0041', 'invalid escape sequence'],
    ['repeat count over 1000', 'a{1001}', 'invalid repeat count'],
    ['unclosed group', '(a', 'missing closing )'],
    ['unclosed class', '[a', 'missing closing ]'],
    ['(?x) flag', '(?x) a', 'invalid or unsupported Perl syntax'],
    ['trailing backslash', 'a\\', 'trailing backslash'],
  ])('%s: %s', (_desc, pattern, reason) => {
    const result = parseRule(`PathRegexp(\`${pattern}\`)`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.hint).toContain('PathRegexp value is not a valid Go regexp');
    expect(result.error.hint).toContain(reason);
  });

  test('the caret points at the offending construct', () => {
    const result = parseRule('PathRegexp(`^/a(?=b)`)');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.column).toBe(16);
  });

  test('every regexp matcher checks its pattern', () => {
    for (const rule of ['HostRegexp(`(?=a)`)', 'HeaderRegexp(`X-A`, `(?=a)`)', 'QueryRegexp(`q`, `(?=a)`)']) {
      const result = parseRule(rule);
      expect(result.ok).toBe(false);
    }
  });
});

describe('matching time is linear', () => {
  const attack = `/${'a'.repeat(50_000)}b`;

  test.each([
    ['nested plus', '(a+)+$'],
    ['alternation under star', '^/(a|aa)*$'],
    ['overlapping stars', '^/(a*)*b?c$'],
  ])('%s %s on 50 000 characters finishes under one second', (_desc, pattern) => {
    const matcher = compileRule(parseValid(`PathRegexp(\`${pattern}\`)`));
    const started = performance.now();
    const matched = matcher(facts({ path: attack }));
    const elapsed = performance.now() - started;
    expect(matched).toBe(false);
    expect(elapsed).toBeLessThan(1000);
  });

  test('a header regexp on a long header value finishes under one second', () => {
    const matcher = compileRule(parseValid('HeaderRegexp(`X-A`, `^(x+x+)+y$`)'));
    const started = performance.now();
    expect(matcher(facts({ headers: { 'x-a': 'x'.repeat(50_000) } }))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
