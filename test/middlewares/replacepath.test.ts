// replacePath, replacePathRegex and stripPrefixRegex on requests without a network, checked
// against the behaviour of Traefik v3's middlewares of the same names.
import { describe, expect, it } from 'vitest';

import { createReplacePath, createReplacePathRegex } from '../../src/middlewares/replacepath.js';
import { createStripPrefixRegex } from '../../src/middlewares/stripprefixregex.js';
import type { Middleware } from '../../src/middlewares/types.js';
import { contextFor, runMiddleware } from './header-context.js';

interface Rewrite {
  reachedServer: boolean;
  status: number | undefined;
  url: string | undefined;
  replacedPath: string | string[] | undefined;
  forwardedPrefix: string | string[] | undefined;
}

async function rewrite(middleware: Middleware, url: string, headers: Array<[string, string]> = []): Promise<Rewrite> {
  const context = contextFor({ url, headers });
  const outcome = await runMiddleware(middleware, context);
  return {
    reachedServer: outcome.reachedServer,
    status: outcome.status,
    url: context.request.url,
    replacedPath: context.request.headers['x-replaced-path'],
    forwardedPrefix: context.request.headers['x-forwarded-prefix'],
  };
}

describe('replacePath', () => {
  it('replaces the path and keeps the query', async () => {
    const result = await rewrite(createReplacePath({ path: '/new' }), '/old/path?a=1&b=2');
    expect(result.url).toBe('/new?a=1&b=2');
    expect(result.replacedPath).toBe('/old/path');
    expect(result.reachedServer).toBe(true);
  });

  it('keeps escapes in both paths', async () => {
    const result = await rewrite(createReplacePath({ path: '/foo%2Fbar' }), '/a%2Fb');
    expect(result.url).toBe('/foo%2Fbar');
    expect(result.replacedPath).toBe('/a%2Fb');
  });

  it('adds to an existing X-Replaced-Path', async () => {
    const result = await rewrite(createReplacePath({ path: '/new' }), '/second', [['X-Replaced-Path', '/first']]);
    expect(result.replacedPath).toEqual(['/first', '/second']);
  });

  it('escapes a space in the new path', async () => {
    const result = await rewrite(createReplacePath({ path: '/a b' }), '/x');
    expect(result.url).toBe('/a%20b');
  });

  it('rejects a missing or relative path', () => {
    expect(() => createReplacePath({})).toThrow(/replacePath path "" is invalid: write a path that starts with "\/"/);
    expect(() => createReplacePath({ path: 'api' })).toThrow(/replacePath path "api" is invalid/);
  });

  it('rejects an invalid escape', () => {
    expect(() => createReplacePath({ path: '/100%' })).toThrow(/replacePath path "\/100%" is invalid: invalid escape "%".*%25/);
  });
});

describe('replacePathRegex', () => {
  it('rewrites with a group', async () => {
    const middleware = createReplacePathRegex({ regex: '^/foo/(.*)', replacement: '/bar/$1' });
    const result = await rewrite(middleware, '/foo/x/y?q=1');
    expect(result.url).toBe('/bar/x/y?q=1');
    expect(result.replacedPath).toBe('/foo/x/y');
  });

  it('matches the escaped path and keeps %2F', async () => {
    const middleware = createReplacePathRegex({ regex: '^/api/(.*)', replacement: '/v2/${1}' });
    const result = await rewrite(middleware, '/api/a%2Fb?x');
    expect(result.url).toBe('/v2/a%2Fb?x');
    expect(result.replacedPath).toBe('/api/a%2Fb');
  });

  it('replaces every match as Go does', async () => {
    const all = await rewrite(createReplacePathRegex({ regex: 'o', replacement: '0' }), '/foo/boo');
    const empty = await rewrite(createReplacePathRegex({ regex: 'x*', replacement: '-' }), '/ab');
    const abutting = await rewrite(createReplacePathRegex({ regex: 'a*', replacement: '-' }), '/baaac');
    expect(all.url).toBe('/f00/b00');
    expect(empty.url).toBe('/-/-a-b-');
    // Go replaces no empty match right after a match, so `aaa` gives one `-`, not two.
    expect(abutting.url).toBe('/-/-b-c-');
  });

  it('leaves a path that does not match', async () => {
    const result = await rewrite(createReplacePathRegex({ regex: '^/foo', replacement: '/bar' }), '/other?q');
    expect(result.url).toBe('/other?q');
    expect(result.replacedPath).toBeUndefined();
  });

  it('trims spaces around the options', async () => {
    const result = await rewrite(createReplacePathRegex({ regex: ' ^/a ', replacement: ' /b ' }), '/a');
    expect(result.url).toBe('/b');
  });

  it('adds a leading slash', async () => {
    const result = await rewrite(createReplacePathRegex({ regex: '^/(.*)', replacement: '$1' }), '/x');
    expect(result.url).toBe('/x');
  });

  it('answers 500 for an invalid new path', async () => {
    const result = await rewrite(createReplacePathRegex({ regex: '^/(.*)', replacement: '/$1%' }), '/x');
    expect(result.status).toBe(500);
    expect(result.reachedServer).toBe(false);
  });

  // Before the fix, a replacement of /a%zz/$1 was accepted, and every path it rewrote got 500.
  it('rejects an invalid escape', () => {
    expect(() => createReplacePathRegex({ regex: '^/(.*)', replacement: '/a%zz/$1' })).toThrow(
      'replacePathRegex replacement "/a%zz/$1" is invalid: invalid escape "%zz": a "%" must be followed by two hex digits; write %25 for a literal "%"',
    );
    expect(() => createReplacePathRegex({ regex: '^/(.*)', replacement: '/$1%4z' })).toThrow(/invalid escape "%4z"/);
    expect(() => createReplacePathRegex({ regex: '^/(.*)', replacement: '/%%41' })).toThrow(/invalid escape "%%4"/);
  });

  it('accepts a percent sign before a group', async () => {
    const beforeGroup = createReplacePathRegex({ regex: '^/(..)$', replacement: '/%$1' });
    const withinEscape = createReplacePathRegex({ regex: '^/(.)$', replacement: '/%2${1}' });
    expect((await rewrite(beforeGroup, '/41')).url).toBe('/%41');
    expect((await rewrite(withinEscape, '/F')).url).toBe('/%2F');
  });

  it('accepts a percent sign at the end', async () => {
    const middleware = createReplacePathRegex({ regex: '^/x', replacement: '/y%' });
    expect((await rewrite(middleware, '/x41')).url).toBe('/y%41');
  });

  it('rejects missing options', () => {
    expect(() => createReplacePathRegex({ replacement: '/x' })).toThrow(/replacePathRegex regex is missing/);
    expect(() => createReplacePathRegex({ regex: '/x' })).toThrow(/replacePathRegex replacement is missing/);
  });

  it('rejects a bad regex or group', () => {
    expect(() => createReplacePathRegex({ regex: '[a-', replacement: '/x' })).toThrow(/replacePathRegex regex "\[a-" is not a valid Go regular expression/);
    expect(() => createReplacePathRegex({ regex: '(\\d+)', replacement: '/$3' })).toThrow(/replacePathRegex replacement "\/\$3" refers to group "3"/);
  });
});

describe('stripPrefixRegex', () => {
  it('strips the matched prefix', async () => {
    const result = await rewrite(createStripPrefixRegex({ regex: ['/api/v[0-9]+'] }), '/api/v2/users?x=1');
    expect(result.url).toBe('/users?x=1');
    expect(result.forwardedPrefix).toBe('/api/v2');
  });

  it('turns the whole path into the root', async () => {
    const result = await rewrite(createStripPrefixRegex({ regex: '/api' }), '/api?q');
    expect(result.url).toBe('/?q');
  });

  it('adds a slash after a partial segment', async () => {
    const result = await rewrite(createStripPrefixRegex({ regex: '/ap' }), '/apiary');
    expect(result.url).toBe('/iary');
  });

  it('needs the match at the start', async () => {
    const result = await rewrite(createStripPrefixRegex({ regex: '/v[0-9]+' }), '/api/v2/x');
    expect(result.url).toBe('/api/v2/x');
    expect(result.forwardedPrefix).toBeUndefined();
  });

  it('tries the regexes in order', async () => {
    const result = await rewrite(createStripPrefixRegex({ regex: '/none,/a/[a-z]+' }), '/a/bc/d');
    expect(result.url).toBe('/d');
    expect(result.forwardedPrefix).toBe('/a/bc');
  });

  it('matches the decoded path and keeps escapes', async () => {
    const decodedSlash = await rewrite(createStripPrefixRegex({ regex: '^/a/b' }), '/a%2Fb/c%2Fd');
    const unicode = await rewrite(createStripPrefixRegex({ regex: '^/é' }), '/%C3%A9/x%2Fy');
    expect(decodedSlash.url).toBe('/c%2Fd');
    expect(decodedSlash.forwardedPrefix).toBe('/a%2Fb');
    expect(unicode.url).toBe('/x%2Fy');
  });

  it('rejects a missing or invalid regex', () => {
    expect(() => createStripPrefixRegex({})).toThrow(/stripPrefixRegex regex is missing/);
    expect(() => createStripPrefixRegex({ regex: ['/ok', '(x'] })).toThrow(/stripPrefixRegex regex "\(x" is not a valid Go regular expression/);
  });
});
