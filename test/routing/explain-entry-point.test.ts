// Explain applies what the entry point does before routing. Before, it kept the X-Forwarded-For
// and X-Forwarded-Proto of an untrusted client (ipallowlist with depth 1 reported `passes` where a
// real request got 403), upper-cased `get` (explained as 301 where the entry point sent 400),
// explained `mailto:a@m.test` as `http://m.test/`, and previewed headers sslRedirect as `passes`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ForwardedHeadersOptions } from '../../src/entrypoints/forwarded-trust.js';
import type { EntryPoint } from '../../src/entrypoints/server.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createForwarder } from '../../src/proxy/forwarder.js';
import { explain, InvalidExplainRequestError } from '../../src/routing/explain.js';
import { sendRaw, startServer, type RunningServer } from '../proxy/harness.js';
import { listenWithRuntime, runtimeOf } from './helpers.js';

function faultRuntime(serverUrl: string) {
  return runtimeOf({
    routers: {
      ci: { rule: 'Host(`m.test`) && PathPrefix(`/ci`)', service: 'app', middlewares: ['office'] },
      tls: { rule: 'Host(`m.test`) && PathPrefix(`/tls`)', service: 'app', middlewares: ['https'] },
      hr: { rule: 'Host(`m.test`) && PathPrefix(`/hr`)', service: 'app', middlewares: ['secure'] },
      exact: { rule: 'Host(`m.test`) && Path(`/exact`)', service: 'app' },
    },
    services: { app: [serverUrl] },
    middlewares: {
      office: { type: 'ipallowlist', options: { sourceRange: ['10.0.0.0/8'], ipStrategy: { depth: 1 } } },
      https: { type: 'redirectscheme', options: { scheme: 'https', permanent: true } },
      secure: { type: 'headers', options: { sslRedirect: true } },
    },
  });
}

const TRUSTED_PROXY: ForwardedHeadersOptions = { trustedIPs: ['192.168.0.0/16'], insecure: false };

describe('explain forwarded headers', () => {
  const runtime = faultRuntime('http://127.0.0.1:9151');

  it('removes X-Forwarded-For of an untrusted client', () => {
    const report = explain(runtime, { url: 'http://m.test/ci/', headers: { 'X-Forwarded-For': '10.1.1.1' } });
    expect(report.outcome).toBe('middleware-response');
    expect(report.response?.status).toBe(403);
    expect(report.request.headers['x-forwarded-for']).toBeUndefined();
    expect(report.request.removedHeaders).toEqual(['x-forwarded-for']);
  });

  it('removes X-Forwarded-Proto of an untrusted client', () => {
    const report = explain(runtime, { url: 'http://m.test/tls/', headers: { 'X-Forwarded-Proto': 'https', 'X-Real-Ip': '10.1.1.1' } });
    expect(report.response?.status).toBe(301);
    expect(report.response?.location).toBe('https://m.test/tls/');
    expect(report.request.removedHeaders).toEqual(['x-forwarded-proto', 'x-real-ip']);
  });

  it('keeps the fields of a trusted proxy', () => {
    const options = { forwardedHeaders: new Map([['web', TRUSTED_PROXY]]) };
    const allowed = explain(runtime, { url: 'http://m.test/ci/', headers: { 'X-Forwarded-For': '10.1.1.1' }, clientIp: '192.168.1.5' }, options);
    const proto = explain(runtime, { url: 'http://m.test/tls/', headers: { 'X-Forwarded-Proto': 'https' }, clientIp: '192.168.1.5' }, options);

    expect(allowed.outcome).toBe('routed');
    expect(allowed.request.removedHeaders).toBeUndefined();
    expect(proto.outcome).toBe('routed');
  });

  it('removes the fields of a client outside trustedIPs', () => {
    const options = { forwardedHeaders: new Map([['web', TRUSTED_PROXY]]) };
    const report = explain(runtime, { url: 'http://m.test/ci/', headers: { 'X-Forwarded-For': '10.1.1.1' }, clientIp: '172.16.0.1' }, options);
    expect(report.response?.status).toBe(403);
  });

  it('keeps every field with insecure', () => {
    const options = { forwardedHeaders: new Map([['web', { trustedIPs: [], insecure: true }]]) };
    const report = explain(runtime, { url: 'http://m.test/ci/', headers: { 'X-Forwarded-For': '10.1.1.1' } }, options);
    expect(report.outcome).toBe('routed');
  });

  it('uses the settings of the chosen entry point', () => {
    const options = { forwardedHeaders: new Map([['other', { trustedIPs: [], insecure: true }]]) };
    const report = explain(runtime, { url: 'http://m.test/ci/', headers: { 'X-Forwarded-For': '10.1.1.1' } }, options);
    expect(report.response?.status).toBe(403);
  });
});

describe('explain method', () => {
  const runtime = faultRuntime('http://127.0.0.1:9151');

  it('keeps the case of the method', () => {
    const report = explain(runtime, { url: 'http://m.test/tls/', method: 'get' });
    expect(report.request.method).toBe('get');
    expect(report.outcome).toBe('rejected');
    expect(report.response?.status).toBe(400);
    expect(report.response?.reason).toContain('write GET');
  });

  it('rejects an unknown method', () => {
    expect(explain(runtime, { url: 'http://m.test/exact', method: 'FETCH' }).response?.status).toBe(400);
  });

  it('defaults to GET', () => {
    expect(explain(runtime, { url: 'http://m.test/exact', method: ' ' }).request.method).toBe('GET');
  });
});

describe('explain URL scheme', () => {
  const runtime = faultRuntime('http://127.0.0.1:9151');

  for (const url of ['mailto:a@m.test', 'javascript:alert(1)', 'urn:isbn:0451450523']) {
    it(`rejects ${url}`, () => {
      expect(() => explain(runtime, { url })).toThrow(InvalidExplainRequestError);
      expect(() => explain(runtime, { url })).toThrow(`the URL "${url}" has the scheme`);
    });
  }

  for (const url of ['http:m.test/exact', 'HTTPS:m.test/', 'ws:/m.test/']) {
    it(`rejects ${url} without //`, () => {
      expect(() => explain(runtime, { url })).toThrow(InvalidExplainRequestError);
      expect(() => explain(runtime, { url })).toThrow('has no "//" after');
    });
  }

  it('accepts host and port without scheme', () => {
    expect(explain(runtime, { url: 'm.test:8080/exact' }).winner?.router).toBe('exact@docker');
    expect(explain(runtime, { url: 'm.test:8080' }).request.host).toBe('m.test');
    expect(explain(runtime, { url: 'm.test/exact' }).winner?.router).toBe('exact@docker');
  });
});

describe('explain headers sslRedirect', () => {
  const runtime = faultRuntime('http://127.0.0.1:9151');

  it('reports the 301 to https', () => {
    const report = explain(runtime, { url: 'http://m.test/hr/x?a=1' });
    expect(report.response).toEqual({ status: 301, reason: 'redirect to https', location: 'https://m.test/hr/x?a=1', middleware: 'secure@docker' });
    expect(report.winner?.middlewares[0]?.effect).toBe('responds');
  });

  it('reports 301 for POST too', () => {
    expect(explain(runtime, { url: 'http://m.test/hr/x', method: 'POST' }).response?.status).toBe(301);
  });

  it('reports 307 for sslTemporaryRedirect', () => {
    const temporary = runtimeOf({
      routers: { hr: { rule: 'Host(`m.test`)', service: 'app', middlewares: ['secure'] } },
      services: { app: ['http://127.0.0.1:9151'] },
      middlewares: { secure: { type: 'headers', options: { sslRedirect: true, sslTemporaryRedirect: true, sslHost: 'www.m.test' } } },
    });
    expect(explain(temporary, { url: 'http://m.test/a' }).response).toMatchObject({ status: 307, location: 'https://www.m.test/a' });
  });

  it('reports 500 for a host outside allowedHosts', () => {
    const allowed = runtimeOf({
      routers: { hr: { rule: 'Host(`m.test`)', service: 'app', middlewares: ['secure'] } },
      services: { app: ['http://127.0.0.1:9151'] },
      middlewares: { secure: { type: 'headers', options: { allowedHosts: ['other.test'] } } },
    });
    expect(explain(allowed, { url: 'http://m.test/a' }).response?.status).toBe(500);
  });

  it('uses a custom Host request header', () => {
    const rewritten = runtimeOf({
      routers: { hr: { rule: 'Host(`m.test`)', service: 'app', middlewares: ['secure'] } },
      services: { app: ['http://127.0.0.1:9151'] },
      middlewares: { secure: { type: 'headers', options: { sslRedirect: true, customRequestHeaders: { Host: 'n.test' } } } },
    });
    const report = explain(rewritten, { url: 'http://m.test/a' });
    expect(report.response?.location).toBe('https://n.test/a');
    expect(report.request.headers.host).toBe('m.test');
  });

  it('passes an https request on', () => {
    const tls = runtimeOf({
      routers: { hr: { rule: 'Host(`m.test`)', service: 'app', middlewares: ['secure'], tls: true } },
      services: { app: ['http://127.0.0.1:9151'] },
      middlewares: { secure: { type: 'headers', options: { sslRedirect: true } } },
    });
    expect(explain(tls, { url: 'https://m.test/a' }).outcome).toBe('routed');
  });
});

describe('explain agrees with the entry point', () => {
  let server: RunningServer;
  let entryPoint: EntryPoint;
  let port = 0;
  let runtime: ReturnType<typeof faultRuntime>;
  const forwarder = createForwarder({ logger: silentLogger() });

  beforeAll(async () => {
    server = await startServer((_request, response) => response.end('app'));
    runtime = faultRuntime(server.url.origin);
    ({ entryPoint, port } = await listenWithRuntime(runtime, forwarder));
  });

  afterAll(async () => {
    await entryPoint.close(0);
    await forwarder.close();
    await server.close();
  });

  const cases: Array<{ desc: string; method: string; path: string; headers: Record<string, string> }> = [
    { desc: 'X-Forwarded-For from an untrusted client', method: 'GET', path: '/ci/', headers: { 'X-Forwarded-For': '10.1.1.1' } },
    { desc: 'X-Forwarded-Proto from an untrusted client', method: 'GET', path: '/tls/', headers: { 'X-Forwarded-Proto': 'https' } },
    { desc: 'a lower-case method', method: 'get', path: '/tls/', headers: {} },
    { desc: 'headers sslRedirect', method: 'GET', path: '/hr/x', headers: {} },
  ];
  for (const { desc, method, path, headers } of cases) {
    it(`gives the same status for ${desc}`, async () => {
      const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      const received = await sendRaw(port, `${method} ${path} HTTP/1.1\r\nHost: m.test\r\n${lines}Connection: close\r\n\r\n`);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
      const report = explain(runtime, { url: `http://m.test${path}`, method, headers, clientIp: '127.0.0.1' });

      expect(report.outcome === 'routed' ? 200 : report.response?.status).toBe(status);
    });
  }
});
