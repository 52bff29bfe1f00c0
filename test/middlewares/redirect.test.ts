// redirectScheme and redirectRegex on requests without a network, checked against the behaviour of
// Traefik v3's pkg/middlewares/redirect.
import { describe, expect, it } from 'vitest';

import { createRedirectRegex, createRedirectScheme, locationValue } from '../../src/middlewares/redirect.js';
import { contextFor, runMiddleware, type RequestShape } from './header-context.js';

function request(host: string, shape: RequestShape = {}): RequestShape {
  return { ...shape, headers: [['Host', host], ...(shape.headers ?? [])] };
}

async function runScheme(options: Record<string, unknown>, host: string, shape: RequestShape = {}) {
  return runMiddleware(createRedirectScheme(options), contextFor(request(host, shape)));
}

async function runRegex(options: Record<string, unknown>, host: string, shape: RequestShape = {}) {
  return runMiddleware(createRedirectRegex(options), contextFor(request(host, shape)));
}

describe('redirectScheme', () => {
  it('redirects http to https with 302', async () => {
    const outcome = await runScheme({ scheme: 'https' }, 'app.example.test', { url: '/a/b?c=1' });
    expect(outcome.reachedServer).toBe(false);
    expect(outcome.status).toBe(302);
    expect(outcome.header('location')).toBe('https://app.example.test/a/b?c=1');
  });

  it('uses 301 for GET when permanent', async () => {
    const outcome = await runScheme({ scheme: 'https', permanent: 'true' }, 'app.example.test');
    expect(outcome.status).toBe(301);
  });

  it('uses 307 and 308 for other methods', async () => {
    const temporary = await runScheme({ scheme: 'https' }, 'app.example.test', { method: 'POST' });
    const permanent = await runScheme({ scheme: 'https', permanent: true }, 'app.example.test', { method: 'HEAD' });
    expect(temporary.status).toBe(307);
    expect(permanent.status).toBe(308);
  });

  it('forwards a request already on https', async () => {
    const outcome = await runScheme({ scheme: 'https' }, 'app.example.test', { scheme: 'https' });
    expect(outcome.reachedServer).toBe(true);
    expect(outcome.status).toBe(200);
  });

  it('forwards https on the default port named in Host', async () => {
    const outcome = await runScheme({ scheme: 'https' }, 'app.example.test:443', { scheme: 'https' });
    expect(outcome.reachedServer).toBe(true);
  });

  it('takes the scheme from X-Forwarded-Proto', async () => {
    const forwarded = await runScheme({ scheme: 'https' }, 'app.example.test', { headers: [['X-Forwarded-Proto', 'https']] });
    const secureSocket = await runScheme({ scheme: 'https' }, 'app.example.test', { headers: [['X-Forwarded-Proto', 'wss']] });
    const plain = await runScheme({ scheme: 'https' }, 'app.example.test', { scheme: 'https', headers: [['X-Forwarded-Proto', 'http']] });
    expect(forwarded.reachedServer).toBe(true);
    expect(secureSocket.reachedServer).toBe(true);
    expect(plain.status).toBe(302);
    expect(plain.header('location')).toBe('https://app.example.test/');
  });

  it('replaces the port of Host', async () => {
    const outcome = await runScheme({ scheme: 'https', port: 8443 }, 'app.example.test:8000', { url: '/x' });
    expect(outcome.header('location')).toBe('https://app.example.test:8443/x');
  });

  it('drops the default port of the target', async () => {
    const outcome = await runScheme({ scheme: 'https', port: '443' }, 'app.example.test:8000');
    expect(outcome.header('location')).toBe('https://app.example.test/');
  });

  it('forwards when scheme and port match', async () => {
    const outcome = await runScheme({ scheme: 'https', port: '8443' }, 'app.example.test:8443', { scheme: 'https' });
    expect(outcome.reachedServer).toBe(true);
  });

  it('redirects https on another port, as Traefik does', async () => {
    const outcome = await runScheme({ scheme: 'https' }, 'app.example.test:8443', { scheme: 'https' });
    expect(outcome.status).toBe(302);
    expect(outcome.header('location')).toBe('https://app.example.test/');
  });

  it('redirects https to http', async () => {
    const outcome = await runScheme({ scheme: 'http' }, 'app.example.test', { scheme: 'https' });
    expect(outcome.header('location')).toBe('http://app.example.test/');
  });

  it('keeps IPv6 brackets and escapes', async () => {
    const outcome = await runScheme({ scheme: 'https' }, '[::1]:8080', { url: '/a%2Fb' });
    expect(outcome.header('location')).toBe('https://[::1]/a%2Fb');
  });

  it('uses an absolute-form target', async () => {
    const outcome = await runScheme({ scheme: 'https' }, 'ignored.example.test', { url: 'http://app.example.test:80/p?q' });
    expect(outcome.header('location')).toBe('https://app.example.test/p?q');
  });

  it('rejects a request without Host', async () => {
    const outcome = await runMiddleware(createRedirectScheme({ scheme: 'https' }), contextFor({}));
    expect(outcome.status).toBe(400);
    expect(outcome.reachedServer).toBe(false);
  });

  it('rejects a missing or invalid scheme', () => {
    expect(() => createRedirectScheme({})).toThrow(/redirectScheme scheme "" is invalid.*scheme=https/);
    expect(() => createRedirectScheme({ scheme: 'ht tp' })).toThrow(/redirectScheme scheme "ht tp" is invalid/);
  });

  it('rejects an invalid port', () => {
    expect(() => createRedirectScheme({ scheme: 'https', port: '0' })).toThrow(/redirectScheme port "0" is invalid.*1 to 65535/);
    expect(() => createRedirectScheme({ scheme: 'https', port: '70000' })).toThrow(/port "70000" is invalid/);
    expect(() => createRedirectScheme({ scheme: 'https', port: 'https' })).toThrow(/port "https" is invalid/);
  });

  it('rejects an invalid permanent', () => {
    expect(() => createRedirectScheme({ scheme: 'https', permanent: 'yes' })).toThrow(/redirectScheme permanent "yes" is invalid/);
  });
});

describe('redirectRegex', () => {
  it('redirects with numbered groups', async () => {
    const options = { regex: '^http://localhost/(.*)', replacement: 'http://mydomain/${1}' };
    const outcome = await runRegex(options, 'localhost', { url: '/a/b?c=d' });
    expect(outcome.status).toBe(302);
    expect(outcome.header('location')).toBe('http://mydomain/a/b?c=d');
  });

  it('reads $1 and named groups', async () => {
    const options = { regex: '^https://(?P<host>[^/:]+):8443/(.*)', replacement: 'https://$host/v2/$2', permanent: true };
    const outcome = await runRegex(options, 'app.example.test:8443', { scheme: 'https', url: '/x' });
    expect(outcome.status).toBe(301);
    expect(outcome.header('location')).toBe('https://app.example.test/v2/x');
  });

  it('matches the Host port and the connection scheme only', async () => {
    const options = { regex: '^http://app\\.example\\.test:8000/', replacement: 'https://app.example.test/' };
    const outcome = await runRegex(options, 'app.example.test:8000', { headers: [['X-Forwarded-Proto', 'https']] });
    expect(outcome.header('location')).toBe('https://app.example.test/');
  });

  it('forwards a request that does not match', async () => {
    const outcome = await runRegex({ regex: '^https://', replacement: 'http://x/' }, 'app.example.test');
    expect(outcome.reachedServer).toBe(true);
  });

  it('forwards when the URL stays the same', async () => {
    const outcome = await runRegex({ regex: '^(http://.*)$', replacement: '$1' }, 'app.example.test', { url: '/same' });
    expect(outcome.reachedServer).toBe(true);
  });

  it('treats $$ as a dollar sign', async () => {
    const outcome = await runRegex({ regex: '/price$', replacement: '/cost$$' }, 'app.example.test', { url: '/price' });
    expect(outcome.header('location')).toBe('http://app.example.test/cost$');
  });

  it('uses 307 and 308 for POST', async () => {
    const temporary = await runRegex({ regex: '/old', replacement: '/new' }, 'a.test', { method: 'POST', url: '/old' });
    const permanent = await runRegex({ regex: '/old', replacement: '/new', permanent: 'true' }, 'a.test', { method: 'POST', url: '/old' });
    expect(temporary.status).toBe(307);
    expect(permanent.status).toBe(308);
  });

  it('escapes spaces and non-ASCII in Location', async () => {
    const outcome = await runRegex({ regex: '/old', replacement: '/a b/é' }, 'a.test', { url: '/old' });
    expect(outcome.header('location')).toBe('http://a.test/a%20b/%C3%A9');
  });

  it('answers 500 for an invalid target', async () => {
    const badEscape = await runRegex({ regex: '/old', replacement: '/100%' }, 'a.test', { url: '/old' });
    const badHost = await runRegex({ regex: '^http://[^/]*/(.*)', replacement: 'https://exa mple/$1' }, 'a.test', { url: '/old' });
    const badPort = await runRegex({ regex: '^http://[^/]*/(.*)', replacement: 'https://example.test:99999/$1' }, 'a.test', { url: '/old' });
    const noHost = await runRegex({ regex: '^http://[^/]*/(.*)', replacement: 'https:///$1' }, 'a.test', { url: '/old' });
    for (const outcome of [badEscape, badHost, badPort, noHost]) {
      expect(outcome.status).toBe(500);
      expect(outcome.reachedServer).toBe(false);
      expect(outcome.header('location')).toBeUndefined();
    }
  });

  it('rejects a missing regex or replacement', () => {
    expect(() => createRedirectRegex({ replacement: '/x' })).toThrow(/redirectRegex regex is missing/);
    expect(() => createRedirectRegex({ regex: '.*' })).toThrow(/redirectRegex replacement is missing/);
  });

  it('rejects an invalid regex', () => {
    expect(() => createRedirectRegex({ regex: '(a', replacement: '/x' })).toThrow(/redirectRegex regex "\(a" is not a valid Go regular expression: missing closing \)/);
    expect(() => createRedirectRegex({ regex: '(?=a)', replacement: '/x' })).toThrow(/look-ahead/);
  });

  it('rejects a reference to a missing group', () => {
    expect(() => createRedirectRegex({ regex: '^(.*)$', replacement: 'https://x/$2' })).toThrow(/redirectRegex replacement "https:\/\/x\/\$2" refers to group "2"/);
    expect(() => createRedirectRegex({ regex: '^(.*)$', replacement: '$1x' })).toThrow(/group "1x".*Write \$\{1\}x for group 1 followed by "x"/);
    expect(() => createRedirectRegex({ regex: '^(.*)$', replacement: '${name}' })).toThrow(/group "name"/);
  });

  it('matches a hostile pattern in linear time', async () => {
    const options = { regex: '^(a+)+$', replacement: '/x' };
    const started = performance.now();
    const outcome = await runRegex(options, 'a.test', { url: `/${'a'.repeat(50_000)}!` });
    expect(outcome.reachedServer).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('locationValue', () => {
  it('keeps a valid relative reference', () => {
    expect(locationValue('/a?b=c#d')).toEqual({ ok: true, value: '/a?b=c#d' });
  });

  it('rejects control characters', () => {
    expect(locationValue('/a\r\nSet-Cookie: x=y')).toMatchObject({ ok: false });
  });

  it('rejects an invalid escape in the path', () => {
    expect(locationValue('https://a.test/x%zz?q')).toMatchObject({ ok: false, problem: 'invalid escape' });
  });

  it('escapes a stray percent in the query', () => {
    expect(locationValue('https://a.test/x?a=%zz&b=%41%')).toEqual({ ok: true, value: 'https://a.test/x?a=%25zz&b=%41%25' });
  });

  it('escapes a stray percent in the fragment', () => {
    expect(locationValue('/x#50%')).toEqual({ ok: true, value: '/x#50%25' });
  });
});

// Before, a query with an invalid escape made redirectScheme respond with 500 instead of redirecting.
describe('redirectScheme hostile query', () => {
  it('redirects a query with a stray percent', async () => {
    const outcome = await runScheme({ scheme: 'https' }, 'app.example.test', { url: '/a?x=%zz%00%ff' });
    expect(outcome.status).toBe(302);
    expect(outcome.header('location')).toBe('https://app.example.test/a?x=%25zz%00%ff');
  });
});
