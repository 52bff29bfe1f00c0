import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cleanPath, normalizeRequestTarget, requestFacts } from '../../src/routing/facts.js';

function incoming(url: string, host?: string): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  request.url = url;
  request.method = 'GET';
  if (host !== undefined) request.headers.host = host;
  return request;
}

describe('cleanPath', () => {
  const cases: Array<{ desc: string; path: string; expected: string }> = [
    { desc: 'plain path unchanged', path: '/a/b', expected: '/a/b' },
    { desc: 'dot-dot removes a segment', path: '/pub/../admin/x', expected: '/admin/x' },
    { desc: 'encoded dots count as dots', path: '/pub/%2e%2e/admin/x', expected: '/admin/x' },
    { desc: 'mixed encoded dot', path: '/pub/.%2E/admin', expected: '/admin' },
    { desc: 'single dot removed', path: '/a/./b', expected: '/a/b' },
    { desc: 'dot-dot above root stays at root', path: '/../../etc', expected: '/etc' },
    { desc: 'trailing dot-dot leaves a directory', path: '/a/b/..', expected: '/a/' },
    { desc: 'double slash collapsed', path: '/a//b', expected: '/a/b' },
    { desc: 'trailing slash kept', path: '/a/', expected: '/a/' },
    { desc: 'encoded slash kept byte for byte', path: '/a%2Fb/%25/;x', expected: '/a%2Fb/%25/;x' },
    { desc: 'dot-dot joined to encoded slash is no segment', path: '/pub/..%2fadmin', expected: '/pub/..%2fadmin' },
    { desc: 'root', path: '/', expected: '/' },
  ];
  for (const { desc, path, expected } of cases) {
    it(desc, () => {
      expect(cleanPath(path)).toBe(expected);
    });
  }
});

describe('normalizeRequestTarget', () => {
  it('takes the host from an absolute-form target', () => {
    const request = incoming('http://echo.example.test/abs?q=1', 'other.example.test');
    normalizeRequestTarget(request);
    expect(request.headers.host).toBe('echo.example.test');
    expect(request.url).toBe('/abs?q=1');
    expect(requestFacts(request).host).toBe('echo.example.test');
  });

  it('gives an absolute-form target without path the root', () => {
    const request = incoming('http://echo.example.test:8080?x');
    normalizeRequestTarget(request);
    expect(request.headers.host).toBe('echo.example.test:8080');
    expect(request.url).toBe('/?x');
  });

  it('keeps the Host field for an empty authority', () => {
    const request = incoming('http:///x?q', 'a.example.test');
    normalizeRequestTarget(request);
    expect(request.headers.host).toBe('a.example.test');
    expect(request.url).toBe('/x?q');
    expect(requestFacts(request).host).toBe('a.example.test');
  });

  it('cleans the path and keeps the query', () => {
    const request = incoming('/app/../cgi-bin/i?a=/../b', 'h');
    normalizeRequestTarget(request);
    expect(request.url).toBe('/cgi-bin/i?a=/../b');
  });
  it.each([
    { target: '/%61dmin/%7Euser', url: '/admin/~user' },
    { target: '/%41%5A%30%2D%2E%5F', url: '/AZ0-._' },
    { target: '/a%2Fb/%25/%3B/%20', url: '/a%2Fb/%25/%3B/%20' },
    { target: '/x/%2E%2E/admin?q=%61', url: '/admin?q=%61' },
  ])('decodes unreserved escapes in $target', ({ target, url }) => {
    const request = incoming(target, 'h');
    normalizeRequestTarget(request);
    expect(request.url).toBe(url);
  });
});

describe('requestFacts host', () => {
  it('takes an HTTP/2 host from :authority', () => {
    const request = incoming('/');
    request.headers[':authority'] = 'Echo.Example.test:443';
    expect(requestFacts(request).host).toBe('echo.example.test');
  });

  it('takes the host from an absolute-form target', () => {
    const facts = requestFacts(incoming('http://Echo.example.test:81?q=1', 'other.example.test'));
    expect(facts.host).toBe('echo.example.test');
    expect(facts.path).toBe('/');
    expect(facts.rawQuery).toBe('q=1');
  });

  it('takes the Host field for an empty authority', () => {
    const facts = requestFacts(incoming('http:///p', 'a.example.test'));
    expect(facts.host).toBe('a.example.test');
    expect(facts.path).toBe('/p');
  });

  it('falls back to Host without :authority', () => {
    expect(requestFacts(incoming('/', 'echo.example.test')).host).toBe('echo.example.test');
  });
});
