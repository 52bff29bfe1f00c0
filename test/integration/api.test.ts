// The ping endpoint and the JSON API on the `berth` entry point, in Traefik's response shapes.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { type ApiRouter, findServiceWithPorts, getRouters } from './harness/api.js';
import {
  apiGet,
  type BerthProcess,
  printBerthLogsOnFailure,
  startBerth,
  waitUntilRouted,
} from './harness/berth.js';
import { freePort, TestDocker } from './harness/containers.js';
import { httpRequest } from './harness/http.js';
import { hostRouterLabels } from './harness/labels.js';
import { waitFor } from './harness/wait.js';

const docker = new TestDocker(inject('dockerSocket'));
let berth: BerthProcess | undefined;
let serverPort = 0;
// A server whose URL label carries a password, which the API and the logs must not show.
const PASSWORD = 'SvcPass777';
let secretPort = 0;

function running(): BerthProcess {
  if (berth === undefined) throw new Error('Berth was not started by beforeAll');
  return berth;
}

beforeAll(async () => {
  await docker.removeAll();
  berth = await startBerth({ dockerSocket: inject('dockerSocket') });
  serverPort = await freePort();
  await docker.runHttpContainer({
    name: 'api-a',
    port: serverPort,
    labels: hostRouterLabels('a', 'a.example.test', serverPort),
  });
  await waitUntilRouted(berth, 'a.example.test', 'api-a');

  secretPort = await freePort();
  await docker.runHttpContainer({
    name: 'api-su',
    port: secretPort,
    labels: {
      'traefik.http.routers.su.rule': 'Host(`su.example.test`)',
      'traefik.http.services.su.loadbalancer.server.url': `http://svcuser:${PASSWORD}@127.0.0.1:${secretPort}/`,
    },
  });
  await waitUntilRouted(berth, 'su.example.test', 'api-su');
});

afterAll(async () => {
  await berth?.stop();
  await docker.removeAll();
});

printBerthLogsOnFailure(() => berth);

describe('ping', () => {
  it('returns 200 OK', async () => {
    const response = await httpRequest(`${running().apiUrl}/ping`);

    expect(response.status).toBe(200);
    expect(response.body.trim()).toBe('OK');
  });
});

describe('api', () => {
  it('returns the version', async () => {
    const version = await apiGet<Record<string, unknown>>(running(), '/api/version');

    expect(typeof version.Version).toBe('string');
  });

  it('returns the overview', async () => {
    const overview = await apiGet<{ http?: { routers?: { total?: unknown } } }>(running(), '/api/overview');

    expect(typeof overview.http?.routers?.total).toBe('number');
    expect(overview.http?.routers?.total).toBeGreaterThanOrEqual(1);
  });

  it('lists the docker router', async () => {
    const routers = await getRouters(running());
    const router = routers.find((candidate) => candidate.name === 'a@docker');

    expect(router).toBeDefined();
    const { rule, provider, status, entryPoints, service, priority } = router as ApiRouter;
    expect(rule).toBe('Host(`a.example.test`)');
    expect(provider).toBe('docker');
    expect(status).toBe('enabled');
    expect(entryPoints).toContain('web');
    expect(service).toMatch(/^a(@docker)?$/);
    expect(typeof priority).toBe('number');
  });

  it('lists the service with its server', async () => {
    const service = await waitFor(async () => (await findServiceWithPorts(running(), [serverPort])) ?? false, {
      timeoutMs: 5_000,
      description: `service with a server on port ${serverPort}`,
    });

    expect(service.name).toBe('a@docker');
    expect(service.status).toBe('enabled');
    expect(service.usedBy).toContain('a@docker');
    const url = service.loadBalancer?.servers?.[0]?.url ?? '';
    expect(url).toMatch(new RegExp(`^http://[^/]+:${serverPort}/?$`));
    expect(service.serverStatus?.[url]).toBe('UP');
  });

  it('returns the raw data', async () => {
    const raw = await apiGet<{ routers?: Record<string, unknown>; services?: Record<string, unknown> }>(
      running(),
      '/api/rawdata',
    );

    expect(Object.keys(raw.routers ?? {})).toContain('a@docker');
    expect(Object.keys(raw.services ?? {})).toContain('a@docker');
  });

  it('returns 404 for an unknown path', async () => {
    const response = await httpRequest(`${running().apiUrl}/api/no-such-thing`);

    expect(response.status).toBe(404);
  });
});

describe('server URL with a password', () => {
  const redactedUrl = () => `http://<redacted>@127.0.0.1:${secretPort}/`;

  it('is redacted in the service item', async () => {
    const service = await apiGet<{ loadBalancer: { servers: Array<{ url: string }> }; serverStatus: Record<string, string> }>(
      running(),
      '/api/http/services/su@docker',
    );

    expect(service.loadBalancer.servers.map((server) => server.url)).toEqual([redactedUrl()]);
    expect(service.serverStatus).toEqual({ [redactedUrl()]: 'UP' });
  });

  it('is redacted in every API response', async () => {
    const explainPath = `/api/explain?url=${encodeURIComponent('http://su.example.test/')}`;
    for (const path of ['/api/http/services', '/api/http/services/su@docker', '/api/rawdata', explainPath]) {
      const response = await httpRequest(`${running().apiUrl}${path}`);

      expect(response.status, path).toBe(200);
      expect(response.body, path).toContain(redactedUrl());
      expect(response.body, path).not.toContain(PASSWORD);
    }
  });

  it('is redacted in the log', async () => {
    // waitUntilRouted has sent requests through this server, so the debug log has forwarded them.
    const forwarding = running()
      .logEntries()
      .filter((entry) => entry.msg === 'forwarding request' && entry.serviceName === 'su@docker');

    expect(forwarding.length).toBeGreaterThan(0);
    expect(forwarding[0]?.serverUrl).toBe(redactedUrl());
    expect(running().logs()).not.toContain(PASSWORD);
  });
});
