// Parser-side checks for the label scenarios users hit most: v2 forms under v3, quoting
// mistakes, and default priority by rule length.
import { describe, expect, test } from 'vitest';
import { compileRule, defaultPriority, parseRule } from '../../src/rules/index.js';
import { facts, ruleMatches } from './helpers.js';

describe('v2 forms under v3', () => {
  test('Host with two values is rejected with the v3 form', () => {
    const result = parseRule('Host(`example.com`,`www.example.com`)');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.hint).toBe('Host takes one value; write Host(`example.com`) || Host(`www.example.com`)');
    expect(result.error.message).toContain('Host(`example.com`) || Host(`www.example.com`)');
  });

  test('the v3 form answers both hosts', () => {
    const rule = 'Host(`example.com`) || Host(`www.example.com`)';
    expect(ruleMatches(rule, { host: 'example.com' })).toBe(true);
    expect(ruleMatches(rule, { host: 'www.example.com' })).toBe(true);
    expect(ruleMatches(rule, { host: 'other.example.com' })).toBe(false);
  });

  test('anchored HostRegexp matches subdomains only', () => {
    const rule = 'HostRegexp(`^.+\\.example\\.com$`)';
    expect(ruleMatches(rule, { host: 'x.example.com' })).toBe(true);
    expect(ruleMatches(rule, { host: 'example.com' })).toBe(false);
  });

  test('HostRegexp with a v2 placeholder parses, matches nothing useful and warns', () => {
    const result = parseRule('HostRegexp(`{sub:[a-z]+}.example.com`)');
    expect(result.ok).toBe(true);
    if (!result.ok) return;

    const matcher = compileRule(result.tree);
    for (const host of ['abc.example.com', 'example.com', 'a.b.example.com']) {
      expect(matcher(facts({ host }))).toBe(false);
    }
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain('looks like Traefik v2 syntax');
    expect(result.warnings[0]).toContain('HostRegexp(`^[a-z]+\\.example\\.com$`)');
  });
});

// Before, Host(`*.a.test`) matched subdomains with no warning that Traefik v3 compares it
// literally, so the same labels on Traefik route nothing.
describe('Host wildcard portability', () => {
  test.each([
    ['Host(`*.a.test`)', 'Host(`*.a.test`) matches one label in place of * in Berth, but Traefik v3 compares it literally and never matches it; for a rule that works in both, write HostRegexp(`^[^.]+\\.a\\.test$`)'],
    ['Host(`*`)', 'Host(`*`) matches every host in Berth, but Traefik v3 compares it literally and never matches it; for a rule that works in both, write HostRegexp(`.+`)'],
  ])('%s still matches and warns', (rule, warning) => {
    const result = parseRule(rule);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.warnings).toEqual([warning]);
    expect(ruleMatches(rule, { host: 'x.a.test' })).toBe(true);
  });

  test('suggested HostRegexp matches the same hosts', () => {
    const wildcard = 'Host(`*.a.test`)';
    const portable = 'HostRegexp(`^[^.]+\\.a\\.test$`)';
    for (const host of ['x.a.test', 'X-1.A.test', 'a.test', 'y.x.a.test', 'xa.test']) {
      expect(ruleMatches(portable, { host })).toBe(ruleMatches(wildcard, { host }));
    }
  });

  test('literal host gives no warning', () => {
    const result = parseRule('Host(`a.test`)');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.warnings).toEqual([]);
  });
});

describe('quoting', () => {
  test('double-quoted value routes', () => {
    expect(ruleMatches('Host("example.com")', { host: 'example.com' })).toBe(true);
  });

  test.each([
    ["Host('example.com')", 6, 'single quotes are not accepted'],
    ["'PathPrefix(`/`)'", 1, 'wrapped in single quotes'],
    ['Host(`example.com`) && (PathPrefix(`/a`)', 24, 'this ( is never closed'],
    ['Host() && PathPrefix()', 6, 'Host needs a value'],
  ])('%s is a parse error', (rule, column, hint) => {
    const result = parseRule(rule);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.column).toBe(column);
    expect(result.error.hint).toContain(hint);
  });

  test('a bad rule does not affect the next parse', () => {
    expect(parseRule("Host('example.com')").ok).toBe(false);
    expect(parseRule('Host(`example.com`)').ok).toBe(true);
  });
});

describe('default priority is rule length', () => {
  const web = 'Host(`app.example.com`) && (PathPrefix(`/`) || PathPrefix(`/v2/webhook`) || PathPrefix(`/v2/token`))';
  const api = 'Host(`app.example.com`) && PathPrefix(`/v2`)';

  test('priority equals the rule length', () => {
    expect(defaultPriority(web)).toBe(web.length);
    expect(defaultPriority(api)).toBe(api.length);
  });

  test('both rules match /v2/asdf and the longer one ranks first', () => {
    const request = { host: 'app.example.com', path: '/v2/asdf' };
    expect(ruleMatches(web, request)).toBe(true);
    expect(ruleMatches(api, request)).toBe(true);
    expect(defaultPriority(web)).toBeGreaterThan(defaultPriority(api));
  });

  test('a longer HostRegexp outranks a shorter Host for the same request', () => {
    const regexp = 'HostRegexp(`[a-z]+\\.traefik\\.com`)';
    const host = 'Host(`foobar.traefik.com`)';
    expect(defaultPriority(regexp)).toBe(34);
    expect(defaultPriority(host)).toBe(26);
    expect(ruleMatches(regexp, { host: 'foobar.traefik.com' })).toBe(true);
    expect(ruleMatches(host, { host: 'foobar.traefik.com' })).toBe(true);
  });

  test('priority counts UTF-8 bytes, as Go len does', () => {
    expect(defaultPriority('Header(`X-A`, `é`)')).toBe(19);
  });

  test('priority counts the text as written, white space included', () => {
    expect(defaultPriority('Host(`a`) && Path(`/`)')).toBe(22);
    expect(defaultPriority('Host(`a`)&&Path(`/`)')).toBe(20);
  });
});
