import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, test } from 'vitest';

import { axios as acmeAxios } from 'acme-client';

import { configureAcmeHttp, parseRetryAfter, retryAfterOf, withRateLimitNotes } from '../../../src/tls/acme/acme-http.js';
import { fetchRenewalInfo } from '../../../src/tls/acme/ari.js';
import { nameCovers, readCertificate, sansCover } from '../../../src/tls/acme/certificate-info.js';
import { ariRenewalTime, lifetimeRenewalTime, retryDelay } from '../../../src/tls/acme/renewal.js';

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** Serves `handler` on 127.0.0.1 and returns its base URL. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('renewal time', () => {
  test('a third of the lifetime left', () => {
    const notBefore = new Date('2026-01-01T00:00:00Z');
    expect(lifetimeRenewalTime(notBefore, new Date('2026-04-01T00:00:00Z')).toISOString()).toBe('2026-03-02T00:00:00.000Z');
    // A six-day certificate is renewed two days before its end.
    expect(lifetimeRenewalTime(notBefore, new Date('2026-01-07T00:00:00Z')).toISOString()).toBe('2026-01-05T00:00:00.000Z');
    // A configured duration shorter than the certificate's lifetime sets the renewal period.
    const fiveYears = new Date('2031-01-01T00:00:00Z');
    expect(lifetimeRenewalTime(notBefore, fiveYears, 2160 * 3_600_000).toISOString()).toBe('2030-12-02T00:00:00.000Z');
    expect(lifetimeRenewalTime(notBefore, new Date('2026-01-07T00:00:00Z'), 2160 * 3_600_000).toISOString()).toBe('2026-01-05T00:00:00.000Z');
  });

  test('ARI time inside the window', () => {
    const window = { start: new Date(10_000), end: new Date(20_000) };
    expect(ariRenewalTime(window, 0, () => 0).getTime()).toBe(10_000);
    expect(ariRenewalTime(window, 0, () => 0.5).getTime()).toBe(15_000);
    // A window that already started is taken from now on, and one that ended means now.
    expect(ariRenewalTime(window, 15_000, () => 0).getTime()).toBe(15_000);
    expect(ariRenewalTime(window, 30_000, () => 0.7).getTime()).toBe(30_000);
  });

  test('retry delay doubles, capped, honours Retry-After', () => {
    expect([1, 2, 3, 4].map((failures) => retryDelay(failures, undefined, 1_000, 5_000))).toEqual([1_000, 2_000, 4_000, 5_000]);
    expect(retryDelay(1, 60_000, 1_000, 5_000)).toBe(60_000);
    expect(retryDelay(100, undefined, 1_000, 5_000)).toBe(5_000);
  });
});

describe('Retry-After', () => {
  test('seconds and HTTP dates parsed', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  test('long Retry-After fails at once and is reported', async () => {
    configureAcmeHttp();
    let requests = 0;
    const base = await serve((_request, response) => {
      requests += 1;
      response.writeHead(429, { 'retry-after': '3600', 'content-type': 'application/problem+json' });
      response.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many orders' }));
    });

    const started = performance.now();
    const error = await withRateLimitNotes(() => acmeAxios.get(`${base}/new-order`, { validateStatus: (status) => status < 400 })).catch((caught: unknown) => caught);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(requests).toBe(1);
    expect(retryAfterOf(error)).toBe(3_600_000);
  });
});

describe('certificate facts', () => {
  test('wildcard covers one label', () => {
    expect(nameCovers('*.example.test', 'www.example.test')).toBe(true);
    expect(nameCovers('*.example.test', 'example.test')).toBe(false);
    expect(nameCovers('*.example.test', 'a.b.example.test')).toBe(false);
    expect(sansCover(['example.test', '*.example.test'], ['example.test', 'www.example.test'])).toBe(true);
    expect(sansCover(['*.example.test'], ['*.example.test'])).toBe(true);
  });

  test('ARI certificate ID from RFC 9773', () => {
    // RFC 9773 section 4.1 example: keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4,
    // serial 00:87:65:43:21, giving aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE.
    const directory = mkdtempSync(join(tmpdir(), 'berth-ari-'));
    const path = (name: string): string => join(directory, name);
    const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path('ca.key'), '-out', path('ca.pem'), '-days', '1',
      '-subj', '/CN=ARI test CA', '-addext', 'subjectKeyIdentifier=69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4');
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path('leaf.key'), '-out', path('leaf.csr'), '-subj', '/CN=a.example.test');
    writeFileSync(path('leaf.ext'), 'subjectAltName=DNS:a.example.test,DNS:*.example.test\nauthorityKeyIdentifier=keyid\n');
    openssl('x509', '-req', '-in', path('leaf.csr'), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-set_serial', '0x87654321', '-days', '1', '-extfile', path('leaf.ext'), '-out', path('leaf.pem'));

    const facts = readCertificate(readFileSync(path('leaf.pem'), 'utf8'));
    expect(facts.ariCertId).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    expect(facts.sans).toEqual(['a.example.test', '*.example.test']);
    expect(facts.issuer).toBe('ARI test CA');
  });

  test('renewal info fetched with its poll time', async () => {
    configureAcmeHttp();
    let requested = '';
    const base = await serve((request, response) => {
      requested = request.url ?? '';
      response.writeHead(200, { 'content-type': 'application/json', 'retry-after': '21600' });
      response.end(JSON.stringify({ suggestedWindow: { start: '2026-03-01T00:00:00Z', end: '2026-03-02T00:00:00Z' } }));
    });

    const now = Date.parse('2026-01-01T00:00:00Z');
    const info = await fetchRenewalInfo(`${base}/renewal-info/`, 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE', now);
    expect(requested).toBe('/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    expect(info.start.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(info.end.toISOString()).toBe('2026-03-02T00:00:00.000Z');
    expect(info.nextPollAt.getTime() - now).toBe(21_600_000);
  });
});
