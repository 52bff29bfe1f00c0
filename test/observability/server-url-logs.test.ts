// Log lines that carry a server URL must not carry its password. The request path runs in-process
// with the real forwarder against loopback servers, and every line it logs is captured.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { HealthRegistry } from '../../src/balancer/health-registry.js';
import { mergeProviders } from '../../src/dynamic/merged.js';
import type { ProviderConfig } from '../../src/dynamic/model.js';
import { Fields } from '../../src/observability/fields.js';
import { createForwarder } from '../../src/proxy/forwarder.js';
import { Dispatcher } from '../../src/routing/dispatch.js';
import { buildRuntime } from '../../src/routing/runtime.js';
import { httpRequest } from '../integration/harness/http.js';
import { captureLogs, type CapturedLogs } from '../middlewares/log-capture.js';
import { closedPort, startServer } from '../proxy/harness.js';

const PASSWORD = 'SvcPass777';
const SOURCES = [{ provider: 'file', origin: 'test' }];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Returns `http://svcuser:SvcPass777@127.0.0.1:PORT`, a server URL with credentials. */
function withPassword(port: number): string {
  return `http://svcuser:${PASSWORD}@127.0.0.1:${port}`;
}

function providerConfig(urls: string[]): ProviderConfig {
  return {
    routers: { web: { rule: 'PathPrefix(`/`)', entryPoints: [], service: 'web', middlewares: [], sources: SOURCES, errors: [], warnings: [] } },
    services: { web: { loadBalancer: { servers: urls.map((url) => ({ url, weight: 1 })), passHostHeader: true }, sources: SOURCES, errors: [], warnings: [] } },
    middlewares: {},
    skipped: [],
  };
}

/** Serves service `web@file` over `urls` on a loopback port, logging at debug into `logs`. */
async function startProxy(urls: string[], logs: CapturedLogs): Promise<string> {
  const registry = new HealthRegistry({ logger: logs.logger });
  const forwarder = createForwarder({ logger: logs.logger });
  const runtime = buildRuntime(mergeProviders(new Map([['file', providerConfig(urls)]])), { entryPoints: ['web'], generation: 1, health: registry });
  const dispatcher = new Dispatcher(runtime, forwarder, logs.logger);
  const server = http.createServer((request, response) => {
    void dispatcher.handle(request, response, { entryPoint: 'web', scheme: 'http', serverName: 'berth-test' });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    server.close();
    await registry.close();
    await forwarder.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('server URL in logs', () => {
  it('redacts the forwarding request line', async () => {
    const backend = await startServer((_request, response) => response.end('ok'));
    cleanups.push(() => backend.close());
    const logs = captureLogs('debug');
    const proxy = await startProxy([withPassword(Number(backend.url.port))], logs);

    const response = await httpRequest(proxy);
    const forwarding = logs.withMessage('forwarding request');

    expect(response.body).toBe('ok');
    expect(forwarding).toHaveLength(1);
    expect(forwarding[0]?.[Fields.server]).toBe(`http://<redacted>@127.0.0.1:${backend.url.port}`);
    expect(JSON.stringify(logs.records)).not.toContain(PASSWORD);
  });

  it('redacts the lines of a failed forward', async () => {
    const port = await closedPort();
    const logs = captureLogs('debug');
    const proxy = await startProxy([withPassword(port)], logs);

    const response = await httpRequest(proxy);
    const failed = logs.withMessage('forwarding failed');

    expect(response.status).toBe(502);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.[Fields.server]).toBe(`http://<redacted>@127.0.0.1:${port}`);
    expect(logs.withMessage('forwarding to the server failed')[0]?.[Fields.server]).toBe(`http://<redacted>@127.0.0.1:${port}/`);
    expect(JSON.stringify(logs.records)).not.toContain(PASSWORD);
  });

  it('redacts the health change line', async () => {
    const logs = captureLogs('info');
    const registry = new HealthRegistry({ logger: logs.logger });
    const url = withPassword(9);
    const [health] = registry.apply([{ service: 'web@file', url, target: new URL(url) }]);

    health?.recordCheck(false, 'health check failed: status 500');
    await registry.close();
    const left = logs.withMessage('server left rotation');

    expect(left).toHaveLength(1);
    expect(left[0]?.[Fields.server]).toBe('http://<redacted>@127.0.0.1:9');
    expect(JSON.stringify(logs.records)).not.toContain(PASSWORD);
  });
});
