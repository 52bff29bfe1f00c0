// Every v3 matcher and operator against requests, as Traefik v3 matches them.
import { describe, expect, test } from 'vitest';
import type { RequestFacts } from '../../src/rules/types.js';
import { ruleMatches } from './helpers.js';

interface MatchCase {
  desc: string;
  rule: string;
  request: Partial<RequestFacts>;
  expected: boolean;
}

const hostCases: MatchCase[] = [
  { desc: 'exact host', rule: 'Host(`example.com`)', request: { host: 'example.com' }, expected: true },
  { desc: 'other host', rule: 'Host(`example.com`)', request: { host: 'example.org' }, expected: false },
  { desc: 'rule host in upper case', rule: 'Host(`EXAMPLE.COM`)', request: { host: 'example.com' }, expected: true },
  { desc: 'rule host with trailing dot', rule: 'Host(`example.com.`)', request: { host: 'example.com' }, expected: true },
  { desc: 'subdomain is another host', rule: 'Host(`example.com`)', request: { host: 'www.example.com' }, expected: false },
  { desc: 'empty request host', rule: 'Host(`example.com`)', request: { host: '' }, expected: false },
  { desc: 'punycode host', rule: 'Host(`xn--9t9h.com`)', request: { host: 'xn--9t9h.com' }, expected: true },
  { desc: 'wildcard, one label', rule: 'Host(`*.example.com`)', request: { host: 'foo.example.com' }, expected: true },
  { desc: 'wildcard, two labels', rule: 'Host(`*.example.com`)', request: { host: 'foo.bar.example.com' }, expected: false },
  { desc: 'wildcard, apex', rule: 'Host(`*.example.com`)', request: { host: 'example.com' }, expected: false },
  { desc: 'wildcard, suffix without dot', rule: 'Host(`*.example.com`)', request: { host: 'fooexample.com' }, expected: false },
  { desc: 'wildcard, empty label', rule: 'Host(`*.example.com`)', request: { host: '.example.com' }, expected: false },
  { desc: 'wildcard in upper case', rule: 'Host(`*.EXAMPLE.com`)', request: { host: 'a.example.com' }, expected: true },
  { desc: 'star alone, any host', rule: 'Host(`*`)', request: { host: 'anything.test' }, expected: true },
  { desc: 'star alone, no host', rule: 'Host(`*`)', request: { host: '' }, expected: false },
  { desc: 'IPv6 literal without brackets', rule: 'Host(`::1`)', request: { host: '[::1]' }, expected: true },
  { desc: 'IPv6 literal with brackets', rule: 'Host(`[::1]`)', request: { host: '[::1]' }, expected: true },
  { desc: 'IPv4 literal', rule: 'Host(`127.0.0.1`)', request: { host: '127.0.0.1' }, expected: true },
  { desc: 'double-quoted value', rule: 'Host("example.com")', request: { host: 'example.com' }, expected: true },
];

const hostRegexpCases: MatchCase[] = [
  { desc: 'anchored subdomains', rule: 'HostRegexp(`^.+\\.example\\.com$`)', request: { host: 'x.example.com' }, expected: true },
  { desc: 'anchored, apex', rule: 'HostRegexp(`^.+\\.example\\.com$`)', request: { host: 'example.com' }, expected: false },
  { desc: 'unanchored search', rule: 'HostRegexp(`example`)', request: { host: 'www.example.com' }, expected: true },
  { desc: 'alternation', rule: 'HostRegexp(`^example\\.(com|org)$`)', request: { host: 'example.org' }, expected: true },
  { desc: 'case-sensitive pattern', rule: 'HostRegexp(`^EXAMPLE\\.com$`)', request: { host: 'example.com' }, expected: false },
  { desc: 'Go (?i) flag', rule: 'HostRegexp(`(?i)^EXAMPLE\\.com$`)', request: { host: 'example.com' }, expected: true },
  { desc: 'Go \\z anchor', rule: 'HostRegexp(`^example\\.com\\z`)', request: { host: 'example.com' }, expected: true },
  { desc: 'POSIX class', rule: 'HostRegexp(`^[[:alpha:]]+\\.com$`)', request: { host: 'example.com' }, expected: true },
  { desc: 'double-quoted with doubled backslash', rule: 'HostRegexp("^a\\\\.com$")', request: { host: 'a.com' }, expected: true },
];

const pathCases: MatchCase[] = [
  { desc: 'Path exact', rule: 'Path(`/css`)', request: { path: '/css' }, expected: true },
  { desc: 'Path with trailing slash differs', rule: 'Path(`/css`)', request: { path: '/css/' }, expected: false },
  { desc: 'Path below differs', rule: 'Path(`/css`)', request: { path: '/css/main.css' }, expected: false },
  { desc: 'Path is case-sensitive', rule: 'Path(`/css`)', request: { path: '/CSS' }, expected: false },
  { desc: 'Path does not decode %2F', rule: 'Path(`/a/b`)', request: { path: '/a%2Fb' }, expected: false },
  { desc: 'Path compares raw escapes', rule: 'Path(`/a%2Fb`)', request: { path: '/a%2Fb' }, expected: true },
  { desc: 'PathPrefix itself', rule: 'PathPrefix(`/app`)', request: { path: '/app' }, expected: true },
  { desc: 'PathPrefix below', rule: 'PathPrefix(`/app`)', request: { path: '/app/x' }, expected: true },
  { desc: 'PathPrefix is a string prefix', rule: 'PathPrefix(`/app`)', request: { path: '/apple' }, expected: true },
  { desc: 'PathPrefix shorter path', rule: 'PathPrefix(`/app`)', request: { path: '/ap' }, expected: false },
  { desc: 'PathPrefix root', rule: 'PathPrefix(`/`)', request: { path: '/anything' }, expected: true },
  { desc: 'PathRegexp alternation', rule: 'PathRegexp(`^/(css|js)`)', request: { path: '/js/main.js' }, expected: true },
  { desc: 'PathRegexp no match', rule: 'PathRegexp(`^/(css|js)`)', request: { path: '/html' }, expected: false },
  { desc: 'PathRegexp unanchored suffix', rule: 'PathRegexp(`\\.(jpeg|jpg|png)$`)', request: { path: '/img/a.png' }, expected: true },
  { desc: 'PathRegexp case-insensitive flag', rule: 'PathRegexp(`(?i)^/products`)', request: { path: '/PRODUCTS/1' }, expected: true },
  { desc: 'PathRegexp $ is end of text only', rule: 'PathRegexp(`^/a$`)', request: { path: '/a\n' }, expected: false },
  { desc: 'PathRegexp v2 braces are literal', rule: 'PathRegexp(`/{path:(css|js)}`)', request: { path: '/{path:css}' }, expected: true },
];

const methodCases: MatchCase[] = [
  { desc: 'Method equal', rule: 'Method(`GET`)', request: { method: 'GET' }, expected: true },
  { desc: 'Method other', rule: 'Method(`GET`)', request: { method: 'POST' }, expected: false },
  { desc: 'rule method in lower case', rule: 'Method(`get`)', request: { method: 'GET' }, expected: true },
  { desc: 'request method in lower case', rule: 'Method(`GET`)', request: { method: 'get' }, expected: false },
];

const headerCases: MatchCase[] = [
  { desc: 'Header value', rule: 'Header(`X-Forwarded-Proto`, `https`)', request: { headers: { 'x-forwarded-proto': 'https' } }, expected: true },
  { desc: 'Header name in lower case', rule: 'Header(`x-forwarded-proto`, `https`)', request: { headers: { 'x-forwarded-proto': 'https' } }, expected: true },
  { desc: 'Header value is case-sensitive', rule: 'Header(`X-Forwarded-Proto`, `https`)', request: { headers: { 'x-forwarded-proto': 'HTTPS' } }, expected: false },
  { desc: 'Header missing', rule: 'Header(`X-Forwarded-Proto`, `https`)', request: { headers: {} }, expected: false },
  { desc: 'Header one of several lines', rule: 'Header(`X-Forwarded-Proto`, `https`)', request: { headers: { 'x-forwarded-proto': ['http', 'https'] } }, expected: true },
  { desc: 'Header joined lines are one value', rule: 'Header(`X-Forwarded-Proto`, `https`)', request: { headers: { 'x-forwarded-proto': 'http, https' } }, expected: false },
  { desc: 'Header Host never matches', rule: 'Header(`Host`, `example.com`)', request: { headers: { host: 'example.com' } }, expected: false },
  { desc: 'HeaderRegexp match', rule: 'HeaderRegexp(`X-Forwarded-Proto`, `^https?$`)', request: { headers: { 'x-forwarded-proto': 'http' } }, expected: true },
  { desc: 'HeaderRegexp case-sensitive', rule: 'HeaderRegexp(`X-Forwarded-Proto`, `^https?$`)', request: { headers: { 'x-forwarded-proto': 'HTTPS' } }, expected: false },
  { desc: 'HeaderRegexp any line', rule: 'HeaderRegexp(`X-Forwarded-Proto`, `^https?$`)', request: { headers: { 'x-forwarded-proto': ['ws', 'https'] } }, expected: true },
  { desc: 'HeaderRegexp (?i)', rule: 'HeaderRegexp(`Content-Type`, `(?i)^application/(json|yaml)$`)', request: { headers: { 'content-type': 'Application/JSON' } }, expected: true },
  { desc: 'HeaderRegexp missing header', rule: 'HeaderRegexp(`X-A`, `.*`)', request: { headers: {} }, expected: false },
];

const queryCases: MatchCase[] = [
  { desc: 'Query value', rule: 'Query(`q`, `traefik`)', request: { rawQuery: 'q=traefik' }, expected: true },
  { desc: 'Query among others', rule: 'Query(`q`, `traefik`)', request: { rawQuery: 'rel=ddg&q=traefik' }, expected: true },
  { desc: 'Query second value', rule: 'Query(`q`, `traefik`)', request: { rawQuery: 'q=awesome&q=traefik' }, expected: true },
  { desc: 'Query value case-sensitive', rule: 'Query(`q`, `traefik`)', request: { rawQuery: 'q=TRAEFIK' }, expected: false },
  { desc: 'Query key case-sensitive', rule: 'Query(`q`, `traefik`)', request: { rawQuery: 'Q=traefik' }, expected: false },
  { desc: 'Query other key', rule: 'Query(`q`, `traefik`)', request: { rawQuery: 'rel=traefik' }, expected: false },
  { desc: 'Query plus is a space', rule: 'Query(`q`, `hello world`)', request: { rawQuery: 'q=hello+world' }, expected: true },
  { desc: 'Query percent escape', rule: 'Query(`q`, `a&b`)', request: { rawQuery: 'q=a%26b' }, expected: true },
  { desc: 'Query escaped key', rule: 'Query(`a b`, `1`)', request: { rawQuery: 'a%20b=1' }, expected: true },
  { desc: 'Query UTF-8 escape', rule: 'Query(`q`, `é`)', request: { rawQuery: 'q=%C3%A9' }, expected: true },
  { desc: 'Query pair with ; is skipped', rule: 'Query(`q`, `traefik`)', request: { rawQuery: 'q=traefik;x=1' }, expected: false },
  { desc: 'Query bad escape skips that pair only', rule: 'Query(`q`, `traefik`)', request: { rawQuery: 'q=%zz&q=traefik' }, expected: true },
  { desc: 'Query one value, bare key', rule: 'Query(`mobile`)', request: { rawQuery: 'mobile' }, expected: true },
  { desc: 'Query one value, empty value', rule: 'Query(`mobile`)', request: { rawQuery: 'mobile=' }, expected: true },
  { desc: 'Query one value, key with a value', rule: 'Query(`mobile`)', request: { rawQuery: 'mobile=true' }, expected: false },
  { desc: 'Query one value, absent', rule: 'Query(`mobile`)', request: { rawQuery: '' }, expected: false },
  { desc: 'QueryRegexp alternation', rule: 'QueryRegexp(`q`, `^(traefik|nginx)$`)', request: { rawQuery: 'q=nginx' }, expected: true },
  { desc: 'QueryRegexp no match', rule: 'QueryRegexp(`q`, `^(traefik|nginx)$`)', request: { rawQuery: 'q=haproxy' }, expected: false },
  { desc: 'QueryRegexp any value, empty', rule: 'QueryRegexp(`q`, `^.*$`)', request: { rawQuery: 'q=' }, expected: true },
  { desc: 'QueryRegexp any value, absent', rule: 'QueryRegexp(`q`, `^.*$`)', request: { rawQuery: 'rel=ddg' }, expected: false },
  { desc: 'QueryRegexp one value acts as Query', rule: 'QueryRegexp(`mobile`)', request: { rawQuery: 'mobile' }, expected: true },
  { desc: 'QueryRegexp one value, key with a value', rule: 'QueryRegexp(`mobile`)', request: { rawQuery: 'mobile=1' }, expected: false },
];

const clientIpCases: MatchCase[] = [
  { desc: 'ClientIP address', rule: 'ClientIP(`127.0.0.1`)', request: { clientIp: '127.0.0.1' }, expected: true },
  { desc: 'ClientIP other address', rule: 'ClientIP(`127.0.0.1`)', request: { clientIp: '192.168.1.1' }, expected: false },
  { desc: 'ClientIP CIDR inside', rule: 'ClientIP(`192.168.1.0/24`)', request: { clientIp: '192.168.1.100' }, expected: true },
  { desc: 'ClientIP CIDR outside', rule: 'ClientIP(`192.168.1.0/24`)', request: { clientIp: '192.168.2.1' }, expected: false },
  { desc: 'ClientIP CIDR with host bits', rule: 'ClientIP(`192.168.1.7/24`)', request: { clientIp: '192.168.1.200' }, expected: true },
  { desc: 'ClientIP IPv6 address', rule: 'ClientIP(`::1`)', request: { clientIp: '::1' }, expected: true },
  { desc: 'ClientIP IPv6 long form', rule: 'ClientIP(`0:0:0:0:0:0:0:1`)', request: { clientIp: '::1' }, expected: true },
  { desc: 'ClientIP IPv6 CIDR', rule: 'ClientIP(`fe80::/10`)', request: { clientIp: 'fe80::1%eth0' }, expected: true },
  { desc: 'ClientIP IPv6 CIDR outside', rule: 'ClientIP(`fe80::/10`)', request: { clientIp: '2001:db8::1' }, expected: false },
  { desc: 'ClientIP mapped client vs IPv4 CIDR', rule: 'ClientIP(`10.0.0.0/8`)', request: { clientIp: '::ffff:10.1.2.3' }, expected: true },
  { desc: 'ClientIP mapped rule vs IPv4 client', rule: 'ClientIP(`::ffff:10.1.2.3`)', request: { clientIp: '10.1.2.3' }, expected: true },
  { desc: 'ClientIP mapped prefix', rule: 'ClientIP(`::ffff:10.0.0.0/104`)', request: { clientIp: '10.9.9.9' }, expected: true },
  { desc: 'ClientIP IPv6 range excludes IPv4', rule: 'ClientIP(`::/0`)', request: { clientIp: '10.0.0.1' }, expected: false },
  { desc: 'ClientIP IPv4 range excludes IPv6', rule: 'ClientIP(`0.0.0.0/0`)', request: { clientIp: '2001:db8::1' }, expected: false },
  { desc: 'ClientIP unparsable client', rule: 'ClientIP(`127.0.0.1`)', request: { clientIp: '1' }, expected: false },
  { desc: 'ClientIP empty client', rule: 'ClientIP(`0.0.0.0/0`)', request: { clientIp: '' }, expected: false },
];

const operatorCases: MatchCase[] = [
  { desc: '&& both true', rule: 'Host(`example.com`) && Path(`/a`)', request: { path: '/a' }, expected: true },
  { desc: '&& one false', rule: 'Host(`example.com`) && Path(`/a`)', request: { path: '/b' }, expected: false },
  { desc: '|| one true', rule: 'Path(`/a`) || Path(`/b`)', request: { path: '/b' }, expected: true },
  { desc: '|| none true', rule: 'Path(`/a`) || Path(`/b`)', request: { path: '/c' }, expected: false },
  { desc: '! inverts', rule: '!Path(`/a`)', request: { path: '/b' }, expected: true },
  { desc: '! of a match', rule: '!Path(`/a`)', request: { path: '/a' }, expected: false },
  { desc: 'double !', rule: '!!Path(`/a`)', request: { path: '/a' }, expected: true },
  { desc: '&& binds tighter than || (left)', rule: 'Path(`/a`) || Path(`/b`) && Method(`POST`)', request: { path: '/a', method: 'GET' }, expected: true },
  { desc: '&& binds tighter than || (right)', rule: 'Path(`/b`) && Method(`POST`) || Path(`/a`)', request: { path: '/b', method: 'GET' }, expected: false },
  { desc: 'parentheses override', rule: '(Path(`/a`) || Path(`/b`)) && Method(`POST`)', request: { path: '/a', method: 'GET' }, expected: false },
  { desc: '! binds tighter than &&', rule: '!Path(`/a`) && Method(`GET`)', request: { path: '/a', method: 'GET' }, expected: false },
  { desc: '! of a group', rule: '!(Path(`/a`) || Path(`/b`))', request: { path: '/b' }, expected: false },
  { desc: '! of a group, neither', rule: '!(Path(`/a`) || Path(`/b`))', request: { path: '/c' }, expected: true },
  { desc: 'three-way ||', rule: 'Path(`/a`) || Path(`/b`) || Path(`/c`)', request: { path: '/c' }, expected: true },
  { desc: 'nested groups', rule: 'Host(`example.com`) && ((Path(`/a`) || Path(`/b`)) && !Method(`DELETE`))', request: { path: '/b' }, expected: true },
  { desc: 'rule over several lines', rule: 'Host(`example.com`) &&\n  PathPrefix(`/a`)\n', request: { path: '/a/b' }, expected: true },
  { desc: 'comments are white space', rule: 'Host(`example.com`) /* api */ && Path(`/a`) // end', request: { path: '/a' }, expected: true },
];

describe.each([
  ['Host', hostCases],
  ['HostRegexp', hostRegexpCases],
  ['Path, PathPrefix, PathRegexp', pathCases],
  ['Method', methodCases],
  ['Header, HeaderRegexp', headerCases],
  ['Query, QueryRegexp', queryCases],
  ['ClientIP', clientIpCases],
  ['operators', operatorCases],
])('%s', (_group, cases) => {
  test.each(cases)('$desc: $rule', ({ rule, request, expected }) => {
    expect(ruleMatches(rule, request)).toBe(expected);
  });
});

describe('matcher name spellings', () => {
  test.each(['Host', 'host', 'HOST'])('%s is accepted', (name) => {
    expect(ruleMatches(`${name}(\`example.com\`)`, {})).toBe(true);
  });

  test.each(['PathPrefix', 'pathprefix', 'PATHPREFIX', 'Pathprefix'])('%s is accepted', (name) => {
    expect(ruleMatches(`${name}(\`/\`)`, {})).toBe(true);
  });
});

describe('value literals', () => {
  test('double-quoted escapes are decoded', () => {
    expect(ruleMatches('Header(`X-A`, "a\\tb\\u00e9\\x41\\101")', { headers: { 'x-a': 'a\tbéAA' } })).toBe(true);
  });

  test('UTF-8 bytes from \\x escapes form one character', () => {
    expect(ruleMatches('Header(`X-A`, "\\xc3\\xa9")', { headers: { 'x-a': 'é' } })).toBe(true);
  });

  test('raw string drops carriage returns', () => {
    expect(ruleMatches('Header(`X-A`, `a\rb`)', { headers: { 'x-a': 'ab' } })).toBe(true);
  });

  test('trailing comma after the last value', () => {
    expect(ruleMatches('Header(`X-A`, `b`,)', { headers: { 'x-a': 'b' } })).toBe(true);
  });
});
