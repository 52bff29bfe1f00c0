// Rules Traefik v3 rejects. Each error points at a column and gives the fix.
import { describe, expect, test } from 'vitest';
import { parseRule, RuleSyntaxError } from '../../src/rules/index.js';

interface ErrorCase {
  desc: string;
  rule: string;
  column: number;
  /** Text the hint must contain. */
  hint: string;
}

const syntaxErrors: ErrorCase[] = [
  { desc: 'empty rule', rule: '', column: 1, hint: 'the rule is empty' },
  { desc: 'blank rule', rule: '   ', column: 1, hint: 'the rule is empty' },
  { desc: 'single-quoted value', rule: "Host('example.com')", column: 6, hint: 'write the value in backticks: `example.com`' },
  { desc: 'rule in single quotes', rule: "'PathPrefix(`/`)'", column: 1, hint: 'remove the outer quotes' },
  { desc: 'rule in double quotes', rule: '"PathPrefix(`/`)"', column: 1, hint: 'remove the outer quotes' },
  { desc: 'unclosed group', rule: 'Host(`example.com`) && (PathPrefix(`/a`)', column: 24, hint: 'this ( is never closed' },
  { desc: 'unclosed call', rule: 'Host(`example.com`', column: 5, hint: 'Host( is never closed' },
  { desc: 'extra )', rule: 'Host(`a`))', column: 10, hint: 'this ) has no matching (' },
  { desc: 'missing operator', rule: 'Host(`a`) Path(`/`)', column: 11, hint: 'missing operator before Path' },
  { desc: 'missing operator before group', rule: 'Host(`a`) (Path(`/`))', column: 11, hint: 'missing operator before (' },
  { desc: 'trailing operator', rule: 'Host(`a`) &&', column: 13, hint: 'the rule ends where a matcher is expected' },
  { desc: 'leading operator', rule: '&& Host(`a`)', column: 1, hint: 'a matcher is missing before &&' },
  { desc: 'doubled operator', rule: 'Host(`a`) && || Path(`/`)', column: 14, hint: 'a matcher is missing before ||' },
  { desc: 'empty group', rule: '()', column: 2, hint: 'a matcher is missing before this )' },
  { desc: 'single &', rule: 'Host(`a`) & Path(`/`)', column: 11, hint: 'write && for "and"' },
  { desc: 'single |', rule: 'Host(`a`) | Path(`/`)', column: 11, hint: 'write || for "or"' },
  { desc: 'word and', rule: 'Host(`a`) and Path(`/`)', column: 11, hint: 'write && instead of and' },
  { desc: 'word OR', rule: 'Host(`a`) OR Path(`/`)', column: 11, hint: 'write || instead of OR' },
  { desc: 'word not', rule: 'not Host(`a`)', column: 1, hint: 'write ! instead of not' },
  { desc: 'comparison operator', rule: 'Host(`a`) == Path(`/`)', column: 11, hint: 'unexpected "="' },
  { desc: 'unknown matcher, typo', rule: 'Hots(`a`)', column: 1, hint: 'unknown matcher Hots; did you mean Host?' },
  { desc: 'unknown matcher, extra letter', rule: 'Host(`a`) && PathPrefixx(`/`)', column: 14, hint: 'did you mean PathPrefix?' },
  { desc: 'unknown matcher, other spelling', rule: 'pathPrefix(`/`)', column: 1, hint: 'did you mean PathPrefix?' },
  { desc: 'unknown matcher, far off', rule: 'Bogus(`a`)', column: 1, hint: 'known matchers: Host, HostRegexp' },
  { desc: 'matcher without parentheses', rule: 'Host && Path(`/`)', column: 5, hint: 'Host needs its value in parentheses' },
  { desc: 'unquoted value', rule: 'Host(example.com)', column: 6, hint: 'values must be quoted; write Host(`example.com`)' },
  { desc: 'number value', rule: 'Host(1)', column: 6, hint: 'values must be quoted; write Host(`1`)' },
  { desc: 'nested matcher as value', rule: 'Host(Path(`/`))', column: 6, hint: 'values must be quoted' },
  { desc: 'missing comma', rule: 'Header(`X-A` `b`)', column: 14, hint: 'missing comma between values of Header' },
  { desc: 'value outside a matcher', rule: 'Host(`a`) `b`', column: 11, hint: 'this value is outside any matcher' },
  { desc: 'unterminated backtick', rule: 'Host(`a)', column: 6, hint: 'this backtick has no closing backtick' },
  { desc: 'unterminated double quote', rule: 'Host("a)', column: 6, hint: 'this double quote has no closing double quote' },
  { desc: 'unknown escape', rule: 'HostRegexp("^a\\.com$")', column: 15, hint: 'unknown escape sequence \\.' },
  { desc: 'invalid \\x escape', rule: 'Host("\\xZZ")', column: 7, hint: 'unknown escape sequence \\xZZ' },
  { desc: 'surrogate \\u escape', rule: 'Host("\\ud800")', column: 7, hint: 'unknown escape sequence \\ud800' },
  { desc: 'line break before &&', rule: 'Host(`a`)\n&& Path(`/`)', column: 10, hint: 'a line break after a value, a name or ) ends the rule' },
  { desc: 'line break inside values', rule: 'Header(`X-A`\n, `b`)', column: 13, hint: 'a line break after a value' },
  { desc: 'line break after the name', rule: 'Host\n(`a`)', column: 5, hint: 'a line break after a value' },
  { desc: 'unterminated comment', rule: 'Host(`a`) /* note', column: 11, hint: 'comment is not terminated' },
  { desc: 'illegal character', rule: 'Host(`a`) \u00a0&& Path(`/`)', column: 11, hint: 'unexpected "\u00a0"' },
];

const valueErrors: ErrorCase[] = [
  { desc: 'Host without value', rule: 'Host()', column: 6, hint: 'Host needs a value; write for example Host(`example.com`)' },
  { desc: 'Host empty value', rule: 'Host(``)', column: 6, hint: 'Host has an empty value' },
  { desc: 'second matcher without value', rule: 'Host(`a`) && PathPrefix()', column: 25, hint: 'PathPrefix needs a value' },
  { desc: 'Host non-ASCII', rule: 'Host(`b\u00fccher.de`)', column: 8, hint: 'punycode' },
  { desc: 'Host wildcard inside a label', rule: 'Host(`foo*.example.com`)', column: 10, hint: 'a Host wildcard must be the whole first label' },
  { desc: 'Host double wildcard', rule: 'Host(`*.*.example.com`)', column: 7, hint: 'a Host wildcard must be the whole first label' },
  { desc: 'HostRegexp non-ASCII', rule: 'HostRegexp(`^\u00fc$`)', column: 14, hint: 'punycode' },
  { desc: 'HostRegexp invalid', rule: 'HostRegexp(`(example.com`)', column: 13, hint: 'missing closing )' },
  { desc: 'Path without slash', rule: 'Path(`css`)', column: 6, hint: 'Path value must start with /; write Path(`/css`)' },
  { desc: 'PathPrefix two values', rule: 'PathPrefix(`/a`, `/b`)', column: 18, hint: 'write PathPrefix(`/a`) || PathPrefix(`/b`)' },
  { desc: 'PathRegexp two values', rule: 'PathRegexp(`^/a`, `^/b`)', column: 19, hint: 'write PathRegexp(`^/a`) || PathRegexp(`^/b`)' },
  { desc: 'Header one value', rule: 'Header(`X-A`)', column: 13, hint: 'Header takes one header name and one value' },
  { desc: 'Header three values', rule: 'Header(`X-A`, `1`, `2`)', column: 20, hint: 'Header takes one header name and one value' },
  { desc: 'Header two pairs', rule: 'Header(`X-A`, `1`, `X-B`, `2`)', column: 20, hint: 'write Header(`X-A`, `1`) && Header(`X-B`, `2`)' },
  { desc: 'HeaderRegexp empty pattern', rule: 'HeaderRegexp(`X-A`, ``)', column: 21, hint: 'HeaderRegexp has an empty value' },
  { desc: 'Query three values', rule: 'Query(`a`, `b`, `c`)', column: 17, hint: 'Query takes a key and an optional value' },
  { desc: 'Query empty value', rule: 'Query(`q`, ``)', column: 12, hint: 'Query has an empty value' },
  { desc: 'QueryRegexp invalid', rule: 'QueryRegexp(`q`, `(traefik`)', column: 19, hint: 'missing closing )' },
  { desc: 'ClientIP not an address', rule: 'ClientIP(`1`)', column: 10, hint: 'is not an IP address or CIDR range' },
  { desc: 'ClientIP leading zero', rule: 'ClientIP(`010.0.0.1`)', column: 10, hint: 'is not an IP address or CIDR range' },
  { desc: 'ClientIP prefix too long', rule: 'ClientIP(`10.0.0.0/33`)', column: 10, hint: 'is not an IP address or CIDR range' },
  { desc: 'ClientIP zone in a prefix', rule: 'ClientIP(`fe80::%eth0/10`)', column: 10, hint: 'is not an IP address or CIDR range' },
  { desc: 'ClientIP two ellipses', rule: 'ClientIP(`1::2::3`)', column: 10, hint: 'is not an IP address or CIDR range' },
];

describe.each([
  ['syntax', syntaxErrors],
  ['values', valueErrors],
])('parse errors: %s', (_group, cases) => {
  test.each(cases)('$desc: $rule', ({ rule, column, hint }) => {
    const result = parseRule(rule);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(RuleSyntaxError);
    expect(result.error.rule).toBe(rule);
    expect(result.error.hint).toContain(hint);
    expect(result.error.column).toBe(column);
  });
});

describe('error message', () => {
  test('shows the rule, a caret under the column and the fix', () => {
    const result = parseRule('Host(`a`, `b`)');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message.split('\n')).toEqual([
      'invalid rule at column 11: Host takes one value; write Host(`a`) || Host(`b`)',
      '  Host(`a`, `b`)',
      `  ${' '.repeat(10)}^`,
    ]);
  });

  test('shows only the line that holds the column', () => {
    const result = parseRule('Host(`a`) &&\n  Hots(`b`)');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.column).toBe(16);
    expect(result.error.message.split('\n').slice(1)).toEqual(['    Hots(`b`)', '    ^']);
  });

  test('counts columns in characters, not UTF-16 units', () => {
    const result = parseRule('Header(`X-\u{1F9AD}`, `a`) && Hots(`b`)');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    // The emoji is two UTF-16 units but one column, so Hots starts at column 23.
    expect(result.error.column).toBe(23);
  });
});

describe('never throws', () => {
  test.each([
    ['deep parentheses', `${'('.repeat(5000)}Host(\`a\`)${')'.repeat(5000)}`],
    ['deep negation', `${'!'.repeat(5000)}Host(\`a\`)`],
    ['lone surrogate', 'Host(`\ud800`)'],
    ['NUL byte', 'Host(`a`)\0'],
    ['only operators', '&&||!()'],
  ])('%s', (_desc, rule) => {
    expect(() => parseRule(rule)).not.toThrow();
    expect(parseRule(rule).ok).toBe(false);
  });

  test('a non-string rule is an error, not a crash', () => {
    const result = parseRule(undefined as unknown as string);
    expect(result.ok).toBe(false);
  });
});

describe('warnings', () => {
  test.each([
    ['HostRegexp with a v2 placeholder', 'HostRegexp(`{sub:[a-z]+}.example.com`)', 'write HostRegexp(`^[a-z]+\\.example\\.com$`)'],
    ['Host with a v2 placeholder', 'Host(`{sub:[a-z]+}.example.com`)', 'write HostRegexp(`^[a-z]+\\.example\\.com$`)'],
    ['PathRegexp with a v2 placeholder', 'PathRegexp(`/{id:[0-9]+}`)', 'looks like Traefik v2 syntax'],
    ['Header named Host', 'Header(`Host`, `example.com`)', 'never matches'],
    ['Host with a port', 'Host(`example.com:8080`)', 'never matches'],
    ['PathPrefix with a star', 'PathPrefix(`/api/*`)', 'matches only a literal *'],
  ])('%s', (_desc, rule, warning) => {
    const result = parseRule(rule);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.warnings).toEqual([expect.stringContaining(warning)]);
  });

  test.each([
    'Host(`example.com`) && PathPrefix(`/`)',
    'HostRegexp(`^[a-z]{2,3}\\.example\\.com$`)',
    'Host(`::1`)',
    'Host(`[::1]`)',
  ])('no warning for %s', (rule) => {
    const result = parseRule(rule);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.warnings).toEqual([]);
  });
});
