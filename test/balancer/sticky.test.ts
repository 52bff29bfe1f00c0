import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { defaultCookieName, readCookie, serializeCookie, stickyCookie, stickyValue } from '../../src/balancer/sticky.js';

describe('stickyCookie', () => {
  it('flag alone: defaults', () => {
    const result = stickyCookie('web@docker', {});

    expect(result.errors).toEqual([]);
    expect(result.cookie).toEqual({ name: defaultCookieName('web@docker'), secure: false, httpOnly: false, maxAge: 0, path: '/' });
  });

  it('every option', () => {
    const result = stickyCookie('web@docker', { name: 'srv', secure: true, httpOnly: true, sameSite: 'strict', maxAge: 3600, path: '/app', domain: 'example.test' });

    expect(result.cookie).toEqual({ name: 'srv', secure: true, httpOnly: true, sameSite: 'Strict', maxAge: 3600, path: '/app', domain: 'example.test' });
  });

  it('default name differs per service', () => {
    expect(defaultCookieName('web@docker')).toMatch(/^_[0-9a-f]{6}$/);
    expect(defaultCookieName('web@docker')).not.toBe(defaultCookieName('api@docker'));
  });

  it.each([
    { desc: 'name with a space', config: { name: 'my cookie' }, error: 'sticky.cookie.name "my cookie" is invalid: use letters, digits and !#$%&\'*+-.^_`|~ only' },
    { desc: 'path with a semicolon', config: { path: '/a;b' }, error: 'sticky.cookie.path "/a;b" is invalid: it must not contain ";" or control characters' },
  ])('$desc: error', ({ config, error }) => {
    const result = stickyCookie('web@docker', config);

    expect(result.cookie).toBeUndefined();
    expect(result.errors).toEqual([error]);
  });

  it('sameSite none without secure: warning', () => {
    const result = stickyCookie('web@docker', { sameSite: 'none' });

    expect(result.warnings).toEqual(['sticky.cookie.sameSite is none without sticky.cookie.secure=true, which browsers reject; set secure=true']);
  });
});

describe('stickyValue', () => {
  it('hides the address', () => {
    const value = stickyValue('http://127.0.0.1:8001');

    expect(value).toMatch(/^[0-9a-f]{16}$/);
    expect(value).not.toContain('127');
    expect(value).toBe(stickyValue('http://127.0.0.1:8001'));
    expect(value).not.toBe(stickyValue('http://127.0.0.1:8002'));
  });

  it('matches Traefik for a URL without a password', () => {
    // sha256("http://127.0.0.1:8001"), first 16 hex digits, as Traefik computes it.
    expect(stickyValue('http://127.0.0.1:8001')).toBe(createHash('sha256').update('http://127.0.0.1:8001').digest('hex').slice(0, 16));
  });

  it('leaves a password out of the hash', () => {
    expect(stickyValue('http://user:first@127.0.0.1:8001')).toBe(stickyValue('http://user:second@127.0.0.1:8001'));
    expect(stickyValue('http://user:first@127.0.0.1:8001')).not.toBe(stickyValue('http://other:first@127.0.0.1:8001'));
    expect(stickyValue('http://user@127.0.0.1:8001')).toBe(createHash('sha256').update('http://user@127.0.0.1:8001').digest('hex').slice(0, 16));
  });
});

describe('readCookie', () => {
  it.each([
    { header: 'srv=abc', expected: 'abc' },
    { header: 'a=1; srv=abc; b=2', expected: 'abc' },
    { header: 'srv="abc"', expected: 'abc' },
    { header: 'srvx=abc', expected: undefined },
    { header: 'a=1', expected: undefined },
    { header: undefined, expected: undefined },
  ])('$header', ({ header, expected }) => {
    expect(readCookie(header, 'srv')).toBe(expected);
  });
});

describe('serializeCookie', () => {
  it('session cookie', () => {
    expect(serializeCookie({ name: 'srv', secure: false, httpOnly: false, maxAge: 0, path: '/' }, 'abc')).toBe('srv=abc; Path=/');
  });

  it('every attribute', () => {
    const cookie = { name: 'srv', secure: true, httpOnly: true, sameSite: 'Lax' as const, maxAge: 60, path: '/app', domain: 'example.test' };

    expect(serializeCookie(cookie, 'abc')).toBe('srv=abc; Path=/app; Domain=example.test; Max-Age=60; Secure; HttpOnly; SameSite=Lax');
  });

  it('negative maxAge expires at once', () => {
    expect(serializeCookie({ name: 'srv', secure: false, httpOnly: false, maxAge: -1, path: '/' }, 'abc')).toBe('srv=abc; Path=/; Max-Age=0');
  });
});
