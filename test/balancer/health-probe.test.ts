import type { IncomingHttpHeaders } from 'node:http';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { ActiveCheckOptions } from '../../src/balancer/health-options.js';
import { checkUrl, createHttpHealthProbe, statusPasses, type HttpHealthProbe } from '../../src/balancer/health-probe.js';
import { closedPort, startServer, type RunningServer } from '../proxy/harness.js';

function options(overrides: Partial<ActiveCheckOptions> = {}): ActiveCheckOptions {
  return { path: '/health', method: 'GET', headers: {}, intervalMs: 1_000, unhealthyIntervalMs: 1_000, timeoutMs: 1_000, followRedirects: true, ...overrides };
}

describe('checkUrl', () => {
  it.each([
    { desc: 'path replaces the server path', server: 'http://127.0.0.1:8080/app/', overrides: {}, expected: 'http://127.0.0.1:8080/health' },
    { desc: 'query kept', server: 'http://127.0.0.1:8080', overrides: { path: '/health?deep=1' }, expected: 'http://127.0.0.1:8080/health?deep=1' },
    { desc: 'port replaced', server: 'http://127.0.0.1:8080', overrides: { port: 9000 }, expected: 'http://127.0.0.1:9000/health' },
    { desc: 'scheme replaced', server: 'http://127.0.0.1:8080', overrides: { scheme: 'https' as const }, expected: 'https://127.0.0.1:8080/health' },
  ])('$desc', ({ server, overrides, expected }) => {
    expect(checkUrl(new URL(server), options(overrides)).href).toBe(expected);
  });
});

describe('statusPasses', () => {
  it.each([
    { status: 200, expected: true },
    { status: 302, expected: true },
    { status: 399, expected: true },
    { status: 199, expected: false },
    { status: 404, expected: false },
    { status: 503, expected: false },
  ])('default: $status is $expected', ({ status, expected }) => {
    expect(statusPasses(status, {})).toBe(expected);
  });

  it('configured status only', () => {
    expect(statusPasses(204, { status: 204 })).toBe(true);
    expect(statusPasses(200, { status: 204 })).toBe(false);
  });
});

describe('createHttpHealthProbe', () => {
  let probe: HttpHealthProbe;
  let server: RunningServer;
  let seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  let handler: (url: string, respond: (status: number, headers?: Record<string, string>) => void) => void = (_url, respond) => respond(200);

  beforeAll(async () => {
    probe = createHttpHealthProbe();
    server = await startServer((request, response) => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
      handler(request.url ?? '', (status, headers = {}) => {
        response.writeHead(status, headers);
        response.end('ok');
      });
    });
  });

  afterAll(async () => {
    await probe.close();
    await server.close();
  });

  afterEach(() => {
    seen = [];
    handler = (_url, respond) => respond(200);
  });

  it('sends method, path, Host and headers', async () => {
    const result = await probe.probe(server.url, options({ method: 'HEAD', hostname: 'ready.example.test', headers: { 'X-Check': 'berth' } }));

    expect(result).toEqual({ passed: true, detail: 'status 200' });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.method).toBe('HEAD');
    expect(seen[0]?.url).toBe('/health');
    expect(seen[0]?.headers.host).toBe('ready.example.test');
    expect(seen[0]?.headers['x-check']).toBe('berth');
  });

  it('fails on a 5xx status', async () => {
    handler = (_url, respond) => respond(503);

    expect(await probe.probe(server.url, options())).toEqual({ passed: false, detail: 'status 503' });
  });

  it('follows a redirect on the same server', async () => {
    handler = (url, respond) => (url === '/health' ? respond(302, { location: '/ready' }) : respond(url === '/ready' ? 200 : 404));

    const result = await probe.probe(server.url, options());

    expect(result).toEqual({ passed: true, detail: 'status 200' });
    expect(seen.map((request) => request.url)).toEqual(['/health', '/ready']);
  });

  it('judges a redirect by its status without followRedirects', async () => {
    handler = (_url, respond) => respond(302, { location: '/missing' });

    const result = await probe.probe(server.url, options({ followRedirects: false, status: 200 }));

    expect(result).toEqual({ passed: false, detail: 'status 302' });
    expect(seen).toHaveLength(1);
  });

  it('never follows a redirect to another origin', async () => {
    handler = (_url, respond) => respond(301, { location: 'http://127.0.0.2:1/elsewhere' });

    const result = await probe.probe(server.url, options());

    // The 301 itself passes the default 200-399 range, and nothing is sent elsewhere.
    expect(result).toEqual({ passed: true, detail: 'status 301' });
    expect(seen).toHaveLength(1);
  });

  it('stops a redirect loop', async () => {
    handler = (_url, respond) => respond(302, { location: '/health' });

    const result = await probe.probe(server.url, options());

    expect(result).toEqual({ passed: false, detail: 'more than 10 redirects' });
  });

  it('times out', async () => {
    handler = () => undefined;

    const result = await probe.probe(server.url, options({ timeoutMs: 100 }));

    expect(result).toEqual({ passed: false, detail: 'no response within 100 ms' });
  });

  it('reports a refused connection', async () => {
    const port = await closedPort();

    const result = await probe.probe(new URL(`http://127.0.0.1:${port}`), options());

    expect(result.passed).toBe(false);
    expect(result.detail).toContain('ECONNREFUSED');
  });
});
