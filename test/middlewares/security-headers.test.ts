// The security options of the headers middleware: HSTS by scheme, the fixed security fields,
// allowedHosts, the deprecated redirect options, and rejected values.
import { describe, expect, it } from 'vitest';

import { decodeLabels } from '../../src/labels/decode.js';
import { middlewareSchema } from '../../src/labels/middleware-schemas.js';
import { createHeaders } from '../../src/middlewares/headers.js';
import { createMiddleware } from '../../src/middlewares/registry.js';
import { securitySettings } from '../../src/middlewares/security-headers.js';
import { contextFor, runMiddleware } from './header-context.js';

const HOST: [string, string] = ['Host', 'app.example.test'];

describe('Strict-Transport-Security', () => {
  const options = { stsSeconds: 31536000, stsIncludeSubdomains: true, stsPreload: true };

  it('https: sent', async () => {
    const outcome = await runMiddleware(createHeaders(options), contextFor({ scheme: 'https', headers: [HOST] }));

    expect(outcome.header('strict-transport-security')).toBe('max-age=31536000; includeSubDomains; preload');
  });

  it('http: not sent', async () => {
    const outcome = await runMiddleware(createHeaders(options), contextFor({ scheme: 'http', headers: [HOST] }));

    expect(outcome.header('strict-transport-security')).toBeUndefined();
  });

  it('http with forceSTSHeader: sent', async () => {
    const outcome = await runMiddleware(createHeaders({ stsSeconds: '60', forceSTSHeader: 'true' }), contextFor({ headers: [HOST] }));

    expect(outcome.header('strict-transport-security')).toBe('max-age=60');
  });

  it('sslProxyHeaders mark https', async () => {
    const middleware = createHeaders({ stsSeconds: 60, sslProxyHeaders: { 'X-Forwarded-Proto': 'https' } });

    const marked = await runMiddleware(middleware, contextFor({ headers: [HOST, ['X-Forwarded-Proto', 'https']] }));
    const otherValue = await runMiddleware(middleware, contextFor({ headers: [HOST, ['X-Forwarded-Proto', 'HTTPS']] }));

    expect(marked.header('strict-transport-security')).toBe('max-age=60');
    expect(otherValue.header('strict-transport-security')).toBeUndefined();
  });

  it('stsSeconds 0: not sent', async () => {
    const outcome = await runMiddleware(createHeaders({ stsSeconds: 0, forceSTSHeader: true, frameDeny: true }), contextFor({ scheme: 'https', headers: [HOST] }));

    expect(outcome.header('strict-transport-security')).toBeUndefined();
  });

  it('isDevelopment: not sent', async () => {
    const outcome = await runMiddleware(createHeaders({ stsSeconds: 60, forceSTSHeader: true, isDevelopment: true }), contextFor({ scheme: 'https', headers: [HOST] }));

    expect(outcome.header('strict-transport-security')).toBeUndefined();
  });

  it('replaces the server value', async () => {
    const outcome = await runMiddleware(createHeaders({ stsSeconds: 60 }), contextFor({ scheme: 'https', headers: [HOST] }), ['Strict-Transport-Security', 'max-age=1']);

    expect(outcome.header('strict-transport-security')).toBe('max-age=60');
  });
});

describe('security fields', () => {
  it.each([
    { desc: 'frameDeny', options: { frameDeny: true }, name: 'X-Frame-Options', value: 'DENY' },
    { desc: 'customFrameOptionsValue', options: { frameDeny: true, customFrameOptionsValue: 'SAMEORIGIN' }, name: 'X-Frame-Options', value: 'SAMEORIGIN' },
    { desc: 'contentTypeNosniff', options: { contentTypeNosniff: true }, name: 'X-Content-Type-Options', value: 'nosniff' },
    { desc: 'browserXssFilter', options: { browserXssFilter: true }, name: 'X-XSS-Protection', value: '1; mode=block' },
    { desc: 'customBrowserXSSValue', options: { browserXssFilter: true, customBrowserXSSValue: '0' }, name: 'X-XSS-Protection', value: '0' },
    { desc: 'contentSecurityPolicy', options: { contentSecurityPolicy: "default-src 'self'" }, name: 'Content-Security-Policy', value: "default-src 'self'" },
    { desc: 'contentSecurityPolicyReportOnly', options: { contentSecurityPolicyReportOnly: 'default-src https:' }, name: 'Content-Security-Policy-Report-Only', value: 'default-src https:' },
    { desc: 'referrerPolicy', options: { referrerPolicy: 'same-origin' }, name: 'Referrer-Policy', value: 'same-origin' },
    { desc: 'permissionsPolicy', options: { permissionsPolicy: 'camera=()' }, name: 'Permissions-Policy', value: 'camera=()' },
    { desc: 'featurePolicy', options: { featurePolicy: "camera 'none'" }, name: 'Feature-Policy', value: "camera 'none'" },
  ])('$desc', async ({ options, name, value }) => {
    const outcome = await runMiddleware(createHeaders(options), contextFor({ headers: [HOST] }), [name, 'from-server']);

    expect(outcome.header(name)).toBe(value);
  });

  it('publicKey only on https', async () => {
    const options = { publicKey: 'pin-sha256="base64=="; max-age=5184000' };

    const https = await runMiddleware(createHeaders(options), contextFor({ scheme: 'https', headers: [HOST] }));
    const http = await runMiddleware(createHeaders(options), contextFor({ headers: [HOST] }));
    const development = await runMiddleware(createHeaders({ ...options, isDevelopment: true }), contextFor({ scheme: 'https', headers: [HOST] }));

    expect(https.header('public-key-pins')).toBe(options.publicKey);
    expect(http.header('public-key-pins')).toBeUndefined();
    expect(development.header('public-key-pins')).toBeUndefined();
  });

  it('custom response field overrides', async () => {
    const middleware = createHeaders({ frameDeny: true, contentTypeNosniff: true, customResponseHeaders: { 'X-Frame-Options': 'SAMEORIGIN', 'X-Content-Type-Options': '' } });

    const outcome = await runMiddleware(middleware, contextFor({ headers: [HOST] }));

    expect(outcome.header('x-frame-options')).toBe('SAMEORIGIN');
    expect(outcome.header('x-content-type-options')).toBeUndefined();
  });
});

describe('allowedHosts', () => {
  const options = { allowedHosts: ['app.example.test', 'app.example.test:8443'] };

  it('listed host: reaches the server', async () => {
    const plain = await runMiddleware(createHeaders(options), contextFor({ headers: [['Host', 'APP.example.test']] }));
    const withPort = await runMiddleware(createHeaders(options), contextFor({ headers: [['Host', 'app.example.test:8443']] }));

    expect(plain.reachedServer).toBe(true);
    expect(withPort.reachedServer).toBe(true);
  });

  it('other host: 500 Bad Host', async () => {
    const context = contextFor({ headers: [['Host', 'evil.example.test']] });
    const chunks: string[] = [];
    const end = context.response.end.bind(context.response);
    context.response.end = ((chunk?: unknown) => {
      if (typeof chunk === 'string') chunks.push(chunk);
      return end();
    }) as typeof context.response.end;

    const outcome = await runMiddleware(createHeaders({ ...options, customResponseHeaders: { 'X-Added': 'yes' } }), context);

    expect(outcome.reachedServer).toBe(false);
    expect(outcome.status).toBe(500);
    expect(chunks.join('')).toBe('Bad Host\n');
    expect(outcome.header('content-type')).toBe('text/plain; charset=utf-8');
    // Traefik applies the custom response fields to this response too.
    expect(outcome.header('x-added')).toBe('yes');
  });

  it('compares the port', async () => {
    const outcome = await runMiddleware(createHeaders(options), contextFor({ headers: [['Host', 'app.example.test:8080']] }));

    expect(outcome.status).toBe(500);
  });

  it('hostsProxyHeaders replace Host', async () => {
    const middleware = createHeaders({ ...options, hostsProxyHeaders: ['X-Forwarded-Host', 'X-Original-Host'] });

    const forwarded = await runMiddleware(middleware, contextFor({ headers: [['Host', 'internal:80'], ['X-Forwarded-Host', 'app.example.test']] }));
    const fallback = await runMiddleware(middleware, contextFor({ headers: [['Host', 'internal:80'], ['X-Forwarded-Host', ''], ['X-Original-Host', 'app.example.test']] }));
    const spoofed = await runMiddleware(middleware, contextFor({ headers: [['Host', 'app.example.test'], ['X-Forwarded-Host', 'evil.test']] }));

    expect(forwarded.reachedServer).toBe(true);
    expect(fallback.reachedServer).toBe(true);
    expect(spoofed.status).toBe(500);
  });

  it('isDevelopment: every host passes', async () => {
    const outcome = await runMiddleware(createHeaders({ ...options, isDevelopment: true }), contextFor({ headers: [['Host', 'localhost:3000']] }));

    expect(outcome.reachedServer).toBe(true);
  });

  it('checks the host after customRequestHeaders', async () => {
    const middleware = createHeaders({ ...options, customRequestHeaders: { Host: 'app.example.test' } });

    const outcome = await runMiddleware(middleware, contextFor({ headers: [['Host', 'other.test']] }));

    expect(outcome.reachedServer).toBe(true);
  });
});

describe('deprecated redirect options', () => {
  it('sslRedirect: 301 to https', async () => {
    const outcome = await runMiddleware(createHeaders({ sslRedirect: true }), contextFor({ url: '/a/b?c=d', headers: [['Host', 'app.example.test:8080']] }));

    expect(outcome.reachedServer).toBe(false);
    expect(outcome.status).toBe(301);
    expect(outcome.header('location')).toBe('https://app.example.test:8080/a/b?c=d');
  });

  it('sslTemporaryRedirect: 307 to sslHost', async () => {
    const outcome = await runMiddleware(createHeaders({ sslRedirect: true, sslTemporaryRedirect: true, sslHost: 'secure.example.test' }), contextFor({ url: '/x', headers: [HOST] }));

    expect(outcome.status).toBe(307);
    expect(outcome.header('location')).toBe('https://secure.example.test/x');
  });

  it('sslRedirect: https passes', async () => {
    const outcome = await runMiddleware(createHeaders({ sslRedirect: true }), contextFor({ scheme: 'https', headers: [HOST] }));

    expect(outcome.reachedServer).toBe(true);
  });

  it('sslRedirect: off in development', async () => {
    const outcome = await runMiddleware(createHeaders({ sslRedirect: true, isDevelopment: true }), contextFor({ headers: [HOST] }));

    expect(outcome.reachedServer).toBe(true);
  });

  it('sslForceHost redirects https too', async () => {
    const middleware = createHeaders({ sslForceHost: true, sslHost: 'www.example.test' });

    const other = await runMiddleware(middleware, contextFor({ scheme: 'https', url: '/p', headers: [HOST] }));
    const same = await runMiddleware(middleware, contextFor({ scheme: 'https', headers: [['Host', 'www.example.test']] }));

    expect(other.status).toBe(301);
    expect(other.header('location')).toBe('https://www.example.test/p');
    expect(same.reachedServer).toBe(true);
  });

  it('sslHost upgrades Location on https', async () => {
    const middleware = createHeaders({ sslHost: 'www.example.test' });

    const outcome = await runMiddleware(middleware, contextFor({ scheme: 'https', headers: [HOST] }), ['Location', 'http://www.example.test/next'], 302);

    expect(outcome.header('location')).toBe('https://www.example.test/next');
  });

  it('warns for each option', () => {
    const warnings: string[] = [];

    createMiddleware('headers', { sslRedirect: true, sslHost: 'www.example.test', featurePolicy: "camera 'none'", sslForceHost: false }, (message) => warnings.push(message));

    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toBe(
      'headers sslRedirect is deprecated. Traefik v3 still applies it, and so does Berth. Use the redirectScheme middleware (scheme=https, permanent=true) or the entry point option http.redirections.entryPoint instead.',
    );
    // Before, the warnings said redirectScheme and redirectRegex were not implemented, though both are.
    expect(warnings[1]).toBe('headers sslHost is deprecated. Traefik v3 still applies it, and so does Berth. Use the redirectRegex middleware instead.');
    expect(warnings.join('\n')).not.toContain('does not implement');
    expect(warnings[2]).toContain('headers featurePolicy is deprecated');
    expect(warnings[2]).toContain('Use permissionsPolicy instead');
  });
});

describe('security labels', () => {
  it('decode into working options', async () => {
    const labels = {
      'headers.stsseconds': '63072000',
      'headers.forcestsheader': 'true',
      'headers.sslredirect': 'true',
      'headers.sslhost': 'www.example.test',
      'headers.allowedhosts': 'app.example.test,www.example.test',
    };

    const decoded = decodeLabels(middlewareSchema, labels, 'traefik.http.middlewares.secure.');
    const options = decoded.value.headers ?? {};
    const warnings: string[] = [];
    const middleware = createMiddleware('headers', options, (message) => warnings.push(message));
    const outcome = await runMiddleware(middleware, contextFor({ url: '/login', headers: [HOST] }));

    expect(decoded.issues).toEqual([]);
    expect(outcome.status).toBe(301);
    expect(outcome.header('location')).toBe('https://www.example.test/login');
    expect(warnings).toHaveLength(2);
  });

  it('bad flag is a label issue', () => {
    const decoded = decodeLabels(middlewareSchema, { 'headers.framedeny': 'yes' }, 'traefik.http.middlewares.secure.');

    expect(decoded.issues).toHaveLength(1);
    expect(decoded.issues[0]?.key).toBe('traefik.http.middlewares.secure.headers.framedeny');
  });
});

describe('security options', () => {
  it('no security option: no settings', () => {
    expect(securitySettings({ customRequestHeaders: { 'X-A': 'b' }, frameDeny: false }, () => {})).toBeUndefined();
  });

  it.each([
    { desc: 'stsSeconds text', options: { stsSeconds: 'one year' }, message: 'headers stsSeconds "one year" is invalid: write a whole number of at least 0, for example stsSeconds=31536000' },
    { desc: 'negative stsSeconds', options: { stsSeconds: -1 }, message: 'headers stsSeconds -1 is invalid: write a whole number of at least 0' },
    { desc: 'stsSeconds unsafe', options: { stsSeconds: '99999999999999999999' }, message: 'headers stsSeconds "99999999999999999999" is invalid' },
    { desc: 'frameDeny text', options: { frameDeny: 'yes' }, message: 'headers frameDeny "yes" is invalid: write true or false, for example frameDeny=true' },
    { desc: 'forceSTSHeader object', options: { forceSTSHeader: { on: true } }, message: 'headers forceSTSHeader {"on":true} is invalid: write true or false' },
    { desc: 'isDevelopment number', options: { isDevelopment: 2 }, message: 'headers isDevelopment 2 is invalid' },
    { desc: 'sslRedirect text', options: { sslRedirect: 'always' }, message: 'headers sslRedirect "always" is invalid' },
    { desc: 'sslHost newline', options: { sslHost: 'a.test\r\nX: y' }, message: 'headers sslHost value "a.test\\r\\nX: y" of header "Location" is invalid' },
    { desc: 'featurePolicy control', options: { featurePolicy: 'camera\0' }, message: 'of header "Feature-Policy" is invalid' },
  ])('$desc: error', ({ options, message }) => {
    expect(() => createMiddleware('headers', options)).toThrow(message);
  });
});
