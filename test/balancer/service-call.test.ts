import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, it } from 'vitest';

import { mergeProviders } from '../../src/dynamic/merged.js';
import type { ProviderConfig } from '../../src/dynamic/model.js';
import type { RequestContext } from '../../src/middlewares/types.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { Forwarder } from '../../src/proxy/types.js';
import { buildRuntime } from '../../src/routing/runtime.js';
import { callService } from '../../src/routing/service-call.js';
import type { Route } from '../../src/routing/table.js';
import { httpRequest } from '../integration/harness/http.js';
import { CONTEXT, closedPort, startServer } from '../proxy/harness.js';
import { startInProcessBerth, type InProcessBerth } from './dispatch-harness.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts a backend that responds with its name and counts the requests it received. */
async function backend(name: string, handler?: http.RequestListener): Promise<{ url: URL; readonly hits: number }> {
  const state = { hits: 0 };
  const server = await startServer((request, response) => {
    state.hits++;
    if (handler) {
      handler(request, response);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(name);
  });
  cleanups.push(() => server.close());
  return {
    url: server.url,
    get hits() {
      return state.hits;
    },
  };
}

async function berth(...args: Parameters<typeof startInProcessBerth>): Promise<InProcessBerth> {
  const started = await startInProcessBerth(...args);
  cleanups.push(() => started.close());
  return started;
}

/** Returns a file-provider configuration with service `web` over `urls`. */
function fileConfig(urls: string[]): ProviderConfig {
  const sources = [{ provider: 'file', origin: 'test' }];
  return {
    routers: {},
    services: { web: { loadBalancer: { servers: servers(...urls), passHostHeader: true }, sources, errors: [], warnings: [] } },
    middlewares: {},
    skipped: [],
  };
}

function servers(...urls: Array<string | URL>): Array<{ url: string; weight: number }> {
  return urls.map((url) => ({ url: String(url).replace(/\/$/, ''), weight: 1 }));
}

describe('retry without the retry middleware', () => {
  it('refused connections go to another server', async () => {
    const live = await backend('live');
    const deadA = await closedPort();
    const deadB = await closedPort();
    const proxy = await berth({ servers: servers(`http://127.0.0.1:${deadA}`, `http://127.0.0.1:${deadB}`, live.url) });

    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) bodies.push((await httpRequest(proxy.url)).body);

    expect(bodies).toEqual(Array(6).fill('live'));
  });

  it('a POST that reached its server is not retried', async () => {
    const reset = await backend('reset', (request) => request.socket.destroy());
    const live = await backend('live');
    const proxy = await berth({ servers: servers(reset.url, live.url) });

    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await httpRequest(proxy.url, { method: 'POST', body: 'x' })).status);

    expect(statuses.sort()).toEqual([200, 200, 502, 502]);
    expect(reset.hits).toBe(2);
  });

  it('a GET reset on a new connection is not retried', async () => {
    // Only a connection that served an earlier request can be stale, as in Go's Transport.
    const reset = await backend('reset', (request) => request.socket.destroy());
    const live = await backend('live');
    const proxy = await berth({ servers: servers(reset.url, live.url) });

    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await httpRequest(proxy.url)).status);

    expect(statuses.sort()).toEqual([200, 200, 502, 502]);
    expect(reset.hits).toBe(2);
  });
});

describe('retry across a rebuild', () => {
  it('retries on the newest runtime', async () => {
    const build = (...urls: string[]) =>
      buildRuntime(mergeProviders(new Map([['file', fileConfig(urls)]])), { entryPoints: ['web'], generation: 1 }).services.get('web@file');
    const before = build('http://127.0.0.1:8001');
    const after = build('http://127.0.0.1:8002');
    if (before === undefined || after === undefined) throw new Error('the test services were not built');
    const forwarded: string[] = [];
    const forwarder: Forwarder = {
      // The first server refuses, as a server that exited while the request waited would.
      forward: async (_request, _response, upstream) => {
        forwarded.push(upstream.url.href);
        return forwarded.length === 1 ? { status: 502, safeToRetry: true, error: new Error('connect ECONNREFUSED') } : { status: 200, safeToRetry: false };
      },
      close: async () => undefined,
    };
    const context = { request: { headers: {}, complete: true }, response: {}, facts: {}, entryPoint: 'web', scheme: 'http' } as unknown as RequestContext;
    const route = { name: 'web@file' } as Route;

    const served = await callService(context, route, before, { forwarder, logger: silentLogger(), forwardContext: CONTEXT, currentService: () => after });

    expect(served).toBe(true);
    expect(forwarded).toEqual(['http://127.0.0.1:8001/', 'http://127.0.0.1:8002/']);
  });
});

describe('retry middleware', () => {
  it('retries an idempotent request that got no response', async () => {
    const reset = await backend('reset', (request) => request.socket.destroy());
    const live = await backend('live');
    const proxy = await berth({ servers: servers(reset.url, live.url) }, { again: { retry: { attempts: 2, initialInterval: '1ms' } } });

    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await httpRequest(proxy.url)).status);

    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(reset.hits).toBe(2);
  });

  it('never retries a POST that reached the server', async () => {
    const reset = await backend('reset', (request) => request.socket.destroy());
    const proxy = await berth({ servers: servers(reset.url) }, { again: { retry: { attempts: 3, initialInterval: '1ms' } } });

    const response = await httpRequest(proxy.url, { method: 'POST', body: 'payload' });

    expect(response.status).toBe(502);
    expect(reset.hits).toBe(1);
  });

  it('waits between attempts on the same server', async () => {
    const port = await closedPort();
    const proxy = await berth({ servers: servers(`http://127.0.0.1:${port}`) }, { again: { retry: { attempts: 3, initialInterval: '50ms' } } });

    const started = performance.now();
    const response = await httpRequest(proxy.url);
    const elapsed = performance.now() - started;

    expect(response.status).toBe(502);
    // Waits of 50 ms and 50 × 2^(1/2) ≈ 71 ms.
    expect(elapsed).toBeGreaterThanOrEqual(115);
  });
});

describe('no available server', () => {
  it('answers 503 with Retry-After', async () => {
    const proxy = await berth({ servers: [] });

    const response = await httpRequest(proxy.url);

    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
  });

  it('answers 503 while every server is down', async () => {
    const port = await closedPort();
    const proxy = await berth({ servers: servers(`http://127.0.0.1:${port}`), passiveHealthCheck: {} });

    const first = await httpRequest(proxy.url);
    const second = await httpRequest(proxy.url);

    expect(first.status).toBe(502);
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBe('5');
  });
});

describe('passive health check', () => {
  it('a failing server leaves rotation', async () => {
    const failing = await backend('failing', (_request, response) => {
      response.writeHead(500);
      response.end('broken');
    });
    const live = await backend('live');
    const proxy = await berth({ servers: servers(failing.url, live.url), passiveHealthCheck: { failureWindow: '10s', maxFailedAttempts: 1 } });

    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await httpRequest(proxy.url)).status);

    expect(failing.hits).toBe(1);
    expect(statuses.filter((status) => status === 500)).toHaveLength(1);
    expect(proxy.registry.get('web@file', failing.url.href.replace(/\/$/, ''))?.status).toBe('DOWN');
  });

  it('a client that cancels never counts', async () => {
    const slow = await backend('slow', (_request, response) => {
      setTimeout(() => response.end('late'), 300).unref();
    });
    const proxy = await berth({ servers: servers(slow.url), passiveHealthCheck: { maxFailedAttempts: 1 } });

    await expect(httpRequest(proxy.url, { timeoutMs: 50 })).rejects.toThrow(/timed out/);
    await sleep(400);

    expect(proxy.registry.get('web@file', slow.url.href.replace(/\/$/, ''))?.status).toBe('UP');
    expect((await httpRequest(proxy.url)).status).toBe(200);
  });
});

describe('health state across rebuilds', () => {
  it('a rebuild keeps a passively failed server out', async () => {
    const port = await closedPort();
    const live = await backend('live');
    const settings = { servers: servers(`http://127.0.0.1:${port}`, live.url), passiveHealthCheck: {} };
    const proxy = await berth(settings);
    await httpRequest(proxy.url);

    const runtime = proxy.update({ ...settings, servers: [...settings.servers, ...servers((await backend('third')).url)] });

    const dead = runtime.services.get('web@file')?.servers.find((server) => server.url === `http://127.0.0.1:${port}`);
    expect(dead?.health.status).toBe('DOWN');
  });
});

describe('sticky cookie', () => {
  it('pins a client to one server', async () => {
    const a = await backend('a');
    const b = await backend('b');
    const proxy = await berth({ servers: servers(a.url, b.url), sticky: { cookie: { name: 'srv', httpOnly: true } } });

    const first = await httpRequest(proxy.url);
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    const cookie = setCookie.split(';')[0] ?? '';
    const bodies = [];
    for (let i = 0; i < 6; i++) {
      const response = await httpRequest(proxy.url, { headers: { cookie } });
      bodies.push(response.body);
      expect(response.headers['set-cookie']).toBeUndefined();
    }

    expect(setCookie).toMatch(/^srv=[0-9a-f]{16}; Path=\/; HttpOnly$/);
    expect(setCookie).not.toContain('127.0.0.1');
    expect(new Set(bodies)).toEqual(new Set([first.body]));
  });

  it('falls back and rewrites the cookie when its server is gone', async () => {
    const a = await backend('a');
    const b = await backend('b');
    const proxy = await berth({ servers: servers(a.url, b.url), sticky: { cookie: { name: 'srv' } } });
    const first = await httpRequest(proxy.url);
    const cookie = (first.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '';
    const other = first.body === 'a' ? b : a;

    proxy.update({ servers: servers(other.url), sticky: { cookie: { name: 'srv' } } });
    const moved = await httpRequest(proxy.url, { headers: { cookie } });

    expect(moved.body).toBe(first.body === 'a' ? 'b' : 'a');
    expect(moved.headers['set-cookie']?.[0]).toMatch(/^srv=[0-9a-f]{16}; Path=\/$/);
    expect(moved.headers['set-cookie']?.[0]?.split(';')[0]).not.toBe(cookie);
  });

  it('falls back when its server is down', async () => {
    const port = await closedPort();
    const live = await backend('live');
    const settings = { servers: servers(`http://127.0.0.1:${port}`, live.url), sticky: { cookie: { name: 'srv' } }, passiveHealthCheck: {} };
    const proxy = await berth(settings);
    const deadValue = proxy.runtime().services.get('web@file')?.servers[0]?.stickyValue;

    const first = await httpRequest(proxy.url, { headers: { cookie: `srv=${deadValue}` } });
    const second = await httpRequest(proxy.url, { headers: { cookie: `srv=${deadValue}` } });

    expect(first.status).toBe(200);
    expect(second.body).toBe('live');
    expect(second.headers['set-cookie']?.[0]).not.toContain(`srv=${deadValue}`);
  });

  it('keeps the server’s own Set-Cookie', async () => {
    const app = await backend('app', (_request, response) => {
      response.writeHead(200, { 'set-cookie': 'session=42; Path=/' });
      response.end('app');
    });
    const proxy = await berth({ servers: servers(app.url), sticky: { cookie: { name: 'srv' } } });

    const response = await httpRequest(proxy.url);

    expect(response.headers['set-cookie']).toHaveLength(2);
    expect(response.headers['set-cookie']?.[0]).toBe('session=42; Path=/');
    expect(response.headers['set-cookie']?.[1]).toMatch(/^srv=/);
  });
});

describe('p2c strategy', () => {
  it('sends new requests away from a busy server', async () => {
    const release: Array<() => void> = [];
    const slow = await backend('slow', (_request, response) => {
      release.push(() => response.end('slow'));
    });
    const fast = await backend('fast');
    const proxy = await berth({ servers: servers(slow.url, fast.url), strategy: 'p2c' });

    // Hold one request on the slow server, then send ten more, which round robin would alternate.
    const held = [];
    while (slow.hits < 1) {
      held.push(httpRequest(proxy.url));
      await sleep(20);
    }
    const bodies: string[] = [];
    for (let i = 0; i < 10; i++) bodies.push((await httpRequest(proxy.url)).body);
    for (const end of release) end();
    await Promise.all(held);

    expect(bodies).toEqual(Array(10).fill('fast'));
  });
});
