// Explain normalizes and checks the request target with the dispatcher's own functions. Before,
// it matched the path as written: `/a/../exact` and `/%65xact` were explained as the catch-all
// router r7 while the real request went to r9, and `/public/..%2Fexact` was explained as routed
// while the real request got 400.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { EntryPoint } from '../../src/entrypoints/server.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createForwarder } from '../../src/proxy/forwarder.js';
import { explain } from '../../src/routing/explain.js';
import { sendRaw, startServer, type RunningServer } from '../proxy/harness.js';
import { listenWithRuntime, runtimeOf } from './helpers.js';

/** Routers of the reported fault: r9 for the exact path, r7 for the rest of the host. */
function faultRuntime(r9Url: string, r7Url: string) {
  return runtimeOf({
    routers: {
      r9: { rule: 'Host(`r.localhost`) && Path(`/exact`)' },
      r7: { rule: 'Host(`r.localhost`)', priority: 1 },
    },
    services: { r9: [r9Url], r7: [r7Url] },
  });
}

describe('explain request target', () => {
  const runtime = faultRuntime('http://127.0.0.1:9109', 'http://127.0.0.1:9107');

  it('removes dot segments before matching', () => {
    const report = explain(runtime, { url: 'http://r.localhost/a/../exact' });
    expect(report.winner?.router).toBe('r9@docker');
    expect(report.request.path).toBe('/exact');
    expect(report.request.receivedPath).toBe('/a/../exact');
  });

  it('decodes unreserved escapes before matching', () => {
    const report = explain(runtime, { url: 'http://r.localhost/%65xact' });
    expect(report.winner?.router).toBe('r9@docker');
    expect(report.request.receivedPath).toBe('/%65xact');
  });

  it('removes encoded dot segments', () => {
    expect(explain(runtime, { url: 'http://r.localhost/x/%2E%2e/exact' }).winner?.router).toBe('r9@docker');
  });

  it('reports 400 for a dot segment behind %2F', () => {
    const report = explain(runtime, { url: 'http://r.localhost/public/..%2Fexact' });
    expect(report.outcome).toBe('rejected');
    expect(report.response).toEqual({ status: 400, reason: 'encoded slash or backslash next to a dot segment in the path' });
    expect(report.winner).toBeUndefined();
    expect(report.candidates).toEqual([]);
  });

  it('reports 400 for a backslash dot segment', () => {
    expect(explain(runtime, { url: 'http://r.localhost/public\\..\\exact' }).response?.status).toBe(400);
  });

  it('reports 400 for an invalid Host header', () => {
    const report = explain(runtime, { url: 'http://r.localhost/', headers: { Host: 'r.localhost/x' } });
    expect(report.outcome).toBe('rejected');
    expect(report.response?.reason).toBe('invalid Host value');
  });

  it('reports 400 for two Host headers', () => {
    const report = explain(runtime, { url: 'http://r.localhost/', headers: { host: ['r.localhost', 'other.localhost'] } });
    expect(report.response).toEqual({ status: 400, reason: 'more than one Host field' });
  });

  it('keeps %2F encoded without a dot segment', () => {
    const report = explain(runtime, { url: 'http://r.localhost/a%2Fexact' });
    expect(report.outcome).toBe('routed');
    expect(report.request.path).toBe('/a%2Fexact');
    expect(report.request.receivedPath).toBeUndefined();
  });

  it('keeps the query as written', () => {
    const report = explain(runtime, { url: 'http://r.localhost/a/../exact?next=/b/../c' });
    expect(report.request.rawQuery).toBe('next=/b/../c');
    expect(report.winner?.router).toBe('r9@docker');
  });
});

describe('explain agrees with the dispatcher', () => {
  const servers: RunningServer[] = [];
  let entryPoint: EntryPoint;
  let port = 0;
  let runtime: ReturnType<typeof faultRuntime>;
  const forwarder = createForwarder({ logger: silentLogger() });

  beforeAll(async () => {
    // Each server responds with the name of the router whose service it is.
    for (const name of ['r9', 'r7']) servers.push(await startServer((_request, response) => response.end(name)));
    const [r9, r7] = servers as [RunningServer, RunningServer];
    runtime = faultRuntime(r9.url.origin, r7.url.origin);
    ({ entryPoint, port } = await listenWithRuntime(runtime, forwarder));
  });

  afterAll(async () => {
    await entryPoint.close(0);
    await forwarder.close();
    await Promise.all(servers.map((server) => server.close()));
  });

  const paths = ['/exact', '/a/../exact', '/%65xact', '/public/..%2Fexact', '/x/%2e%2E/exact', '/exact/', '/a%2Fexact', '/public\\..\\exact', '//exact', '/./exact'];
  for (const path of paths) {
    it(`gives the same result for ${path}`, async () => {
      const received = await sendRaw(port, `GET ${path} HTTP/1.1\r\nHost: r.localhost\r\nConnection: close\r\n\r\n`);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
      const body = received.slice(received.indexOf('\r\n\r\n') + 4);
      const report = explain(runtime, { url: `http://r.localhost${path}` });

      if (report.outcome === 'routed') {
        expect(status).toBe(200);
        expect(`${body.trim()}@docker`).toBe(report.winner?.router);
      } else {
        expect(status).toBe(report.response?.status);
      }
    });
  }
});
