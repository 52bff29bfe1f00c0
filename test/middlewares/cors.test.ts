// The CORS options of the headers middleware: preflight requests handled by Berth, CORS fields on
// other responses, origin lists and patterns, and rejected values.
import { describe, expect, it } from 'vitest';

import { corsSettings } from '../../src/middlewares/cors.js';
import { createHeaders } from '../../src/middlewares/headers.js';
import { createMiddleware } from '../../src/middlewares/registry.js';
import { contextFor, runMiddleware } from './header-context.js';

const ORIGIN = 'https://app.example.test';

function preflight(origin = ORIGIN, extra: Array<[string, string]> = []) {
  return contextFor({
    method: 'OPTIONS',
    headers: [['Host', 'api.example.test'], ['Origin', origin], ['Access-Control-Request-Method', 'PUT'], ...extra],
  });
}

describe('CORS preflight', () => {
  it('responds without the server', async () => {
    const middleware = createHeaders({
      accessControlAllowMethods: ['GET', 'OPTIONS', 'PUT'],
      accessControlAllowHeaders: 'Content-Type,X-Trace',
      accessControlAllowOriginList: ['https://other.test', ORIGIN],
      accessControlAllowCredentials: true,
      accessControlMaxAge: 100,
    });

    const outcome = await runMiddleware(middleware, preflight());

    expect(outcome.reachedServer).toBe(false);
    expect(outcome.status).toBe(200);
    expect(outcome.headers).toEqual([
      'Access-Control-Allow-Credentials', 'true',
      'Access-Control-Allow-Headers', 'Content-Type,X-Trace',
      'Access-Control-Allow-Methods', 'GET,OPTIONS,PUT',
      'Access-Control-Allow-Origin', ORIGIN,
      'Access-Control-Max-Age', '100',
      'Content-Length', '0',
    ]);
  });

  it('sends max age 0 by default', async () => {
    const outcome = await runMiddleware(createHeaders({ accessControlAllowOriginList: '*' }), preflight());

    expect(outcome.header('access-control-max-age')).toBe('0');
    expect(outcome.header('access-control-allow-origin')).toBe('*');
  });

  it('non-matching origin: 200 without allow-origin', async () => {
    const middleware = createHeaders({ accessControlAllowOriginList: 'https://other.test', accessControlAllowMethods: 'GET' });

    const outcome = await runMiddleware(middleware, preflight('https://evil.test'));

    expect(outcome.reachedServer).toBe(false);
    expect(outcome.status).toBe(200);
    expect(outcome.header('access-control-allow-origin')).toBeUndefined();
    expect(outcome.header('access-control-allow-methods')).toBe('GET');
  });

  it.each([
    { desc: 'GET with both fields', method: 'GET', headers: [['Origin', ORIGIN], ['Access-Control-Request-Method', 'PUT']] },
    { desc: 'OPTIONS without Origin', method: 'OPTIONS', headers: [['Access-Control-Request-Method', 'PUT']] },
    { desc: 'OPTIONS without request method', method: 'OPTIONS', headers: [['Origin', ORIGIN]] },
  ] as const)('$desc: reaches the server', async ({ method, headers }) => {
    const middleware = createHeaders({ accessControlAllowOriginList: '*' });

    const outcome = await runMiddleware(middleware, contextFor({ method, headers: headers.map(([name, value]) => [name, value]) }));

    expect(outcome.reachedServer).toBe(true);
  });

  it('passes through without CORS options', async () => {
    const middleware = createHeaders({ customResponseHeaders: { 'X-Added': 'yes' } });

    const outcome = await runMiddleware(middleware, preflight());

    expect(outcome.reachedServer).toBe(true);
    expect(outcome.header('x-added')).toBe('yes');
  });

  it('skips custom and security fields', async () => {
    const middleware = createHeaders({
      accessControlAllowOriginList: ORIGIN,
      customResponseHeaders: { 'X-Added': 'yes' },
      frameDeny: true,
      allowedHosts: ['only.example.test'],
    });

    const outcome = await runMiddleware(middleware, preflight());

    expect(outcome.status).toBe(200);
    expect(outcome.header('x-added')).toBeUndefined();
    expect(outcome.header('x-frame-options')).toBeUndefined();
  });
});

describe('CORS response fields', () => {
  it('adds allow-origin for a listed origin', async () => {
    const middleware = createHeaders({ accessControlAllowOriginList: [ORIGIN], accessControlExposeHeaders: ['X-Total', 'X-Page'] });

    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Origin', ORIGIN]] }), ['Access-Control-Allow-Origin', 'https://server.test']);

    expect(outcome.reachedServer).toBe(true);
    expect(outcome.header('access-control-allow-origin')).toBe(ORIGIN);
    expect(outcome.header('access-control-expose-headers')).toBe('X-Total,X-Page');
  });

  it('non-matching origin: no allow-origin', async () => {
    const middleware = createHeaders({ accessControlAllowOriginList: [ORIGIN], accessControlAllowCredentials: true });

    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Origin', 'https://evil.test']] }));

    expect(outcome.header('access-control-allow-origin')).toBeUndefined();
    // Traefik sends the credentials field whatever the origin. Without allow-origin, browsers ignore it.
    expect(outcome.header('access-control-allow-credentials')).toBe('true');
  });

  it('compares origins exactly', async () => {
    const middleware = createHeaders({ accessControlAllowOriginList: [ORIGIN] });

    for (const origin of ['https://APP.example.test', 'http://app.example.test', `${ORIGIN}:443`, `${ORIGIN}.evil.test`]) {
      const outcome = await runMiddleware(middleware, contextFor({ headers: [['Origin', origin]] }));
      expect(outcome.header('access-control-allow-origin'), origin).toBeUndefined();
    }
  });

  it('wildcard: sends *', async () => {
    const outcome = await runMiddleware(createHeaders({ accessControlAllowOriginList: '*' }), contextFor({ headers: [['Origin', ORIGIN]] }));

    expect(outcome.header('access-control-allow-origin')).toBe('*');
  });

  it('credentials with *: keeps *', async () => {
    const middleware = createHeaders({ accessControlAllowOriginList: '*', accessControlAllowCredentials: 'true' });

    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Origin', ORIGIN]] }));

    // As in Traefik: the origin is not reflected, so browsers reject credentialed requests.
    expect(outcome.header('access-control-allow-origin')).toBe('*');
    expect(outcome.header('access-control-allow-credentials')).toBe('true');
  });

  it('regex origin: reflects the origin', async () => {
    const middleware = createHeaders({ accessControlAllowOriginListRegex: ['^https://[a-z]+\\.example\\.test$'] });

    const matched = await runMiddleware(middleware, contextFor({ headers: [['Origin', ORIGIN]] }));
    const missed = await runMiddleware(middleware, contextFor({ headers: [['Origin', 'https://app.example.test.evil.test']] }));

    expect(matched.header('access-control-allow-origin')).toBe(ORIGIN);
    expect(missed.header('access-control-allow-origin')).toBeUndefined();
  });

  it('regex matches any part', async () => {
    const middleware = createHeaders({ accessControlAllowOriginListRegex: 'example\\.test' });

    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Origin', 'https://example.test.evil.test']] }));

    expect(outcome.header('access-control-allow-origin')).toBe('https://example.test.evil.test');
  });

  it('regex needs an origin', async () => {
    const outcome = await runMiddleware(createHeaders({ accessControlAllowOriginListRegex: '.*' }), contextFor());

    expect(outcome.header('access-control-allow-origin')).toBeUndefined();
  });

  it('uses the first Origin line', async () => {
    const middleware = createHeaders({ accessControlAllowOriginList: [ORIGIN] });

    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Origin', ORIGIN], ['Origin', 'https://evil.test']] }));

    expect(outcome.header('access-control-allow-origin')).toBe(ORIGIN);
  });

  it('hostile pattern stays linear', async () => {
    const middleware = createHeaders({ accessControlAllowOriginListRegex: '^(a+)+$' });
    const origin = `${'a'.repeat(50_000)}!`;

    const started = performance.now();
    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Origin', origin]] }));

    expect(outcome.header('access-control-allow-origin')).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('CORS Vary', () => {
  it.each([
    { desc: 'no Vary', server: [], vary: 'Origin' },
    { desc: 'other Vary', server: ['Vary', 'Accept-Encoding'], vary: 'Accept-Encoding,Origin' },
    { desc: 'two Vary lines', server: ['Vary', 'Accept-Encoding', 'Vary', 'Cookie'], vary: 'Accept-Encoding,Cookie,Origin' },
    { desc: 'Origin listed', server: ['Vary', 'Cookie, origin'], vary: 'Cookie, origin' },
    { desc: 'Vary *', server: ['Vary', '*'], vary: '*' },
  ])('$desc', async ({ server, vary }) => {
    const middleware = createHeaders({ accessControlAllowOriginList: [ORIGIN], addVaryHeader: true });

    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Origin', ORIGIN]] }), server);

    expect(outcome.header('vary')).toBe(vary);
  });

  it('off by default', async () => {
    const outcome = await runMiddleware(createHeaders({ accessControlAllowOriginList: [ORIGIN] }), contextFor({ headers: [['Origin', ORIGIN]] }));

    expect(outcome.header('vary')).toBeUndefined();
  });
});

describe('CORS options', () => {
  it('no CORS option: no settings', () => {
    expect(corsSettings({ customResponseHeaders: { 'X-A': 'b' }, accessControlAllowCredentials: false })).toBeUndefined();
  });

  it.each([
    { desc: 'flag text', options: { accessControlAllowCredentials: 'yes' }, message: 'headers accessControlAllowCredentials "yes" is invalid: write true or false, for example accessControlAllowCredentials=true' },
    { desc: 'vary flag', options: { addVaryHeader: 2 }, message: 'headers addVaryHeader 2 is invalid: write true or false' },
    { desc: 'max age text', options: { accessControlMaxAge: '10m' }, message: 'headers accessControlMaxAge "10m" is invalid: write a whole number of at least 0, for example accessControlMaxAge=600' },
    { desc: 'negative max age', options: { accessControlMaxAge: -1 }, message: 'headers accessControlMaxAge -1 is invalid' },
    { desc: 'fractional max age', options: { accessControlMaxAge: 1.5 }, message: 'headers accessControlMaxAge 1.5 is invalid' },
    { desc: 'bad pattern', options: { accessControlAllowOriginListRegex: ['^https://(a|b$'] }, message: 'headers accessControlAllowOriginListRegex pattern "^https://(a|b$" is invalid: missing closing )' },
    { desc: 'look-ahead', options: { accessControlAllowOriginListRegex: ['^(?!evil)'] }, message: 'look-ahead and look-behind do not exist in Go regexps' },
  ])('$desc: error', ({ options, message }) => {
    expect(() => createMiddleware('headers', options)).toThrow(message);
  });

  it.each([
    { value: 'TRUE', expected: 'true' },
    { value: '1', expected: 'true' },
    { value: 'false', expected: undefined },
  ])('credentials $value', async ({ value, expected }) => {
    const middleware = createHeaders({ accessControlAllowOriginList: '*', accessControlAllowCredentials: value });

    const outcome = await runMiddleware(middleware, contextFor());

    expect(outcome.header('access-control-allow-credentials')).toBe(expected);
  });

  it('reads max age as text', () => {
    expect(corsSettings({ accessControlMaxAge: ' 600 ' })?.maxAgeSeconds).toBe(600);
  });
});
