// Routing from container labels through a running Berth against a real dockerd.

import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

import { findRouter, findServiceWithPorts } from './harness/api.js';
import {
  type BerthProcess,
  fetchVia,
  NOT_ROUTED_STATUSES,
  printBerthLogsOnFailure,
  startBerth,
  waitUntilNotRouted,
  waitUntilRouted,
} from './harness/berth.js';
import { freePort, TestDocker } from './harness/containers.js';
import { composeLabels, hostRouterLabels } from './harness/labels.js';
import { httpRequest } from './harness/http.js';
import { waitFor } from './harness/wait.js';

const docker = new TestDocker(inject('dockerSocket'));
let berth: BerthProcess | undefined;

function running(): BerthProcess {
  if (berth === undefined) throw new Error('Berth was not started by beforeAll');
  return berth;
}

beforeAll(async () => {
  await docker.removeAll();
  berth = await startBerth({ dockerSocket: inject('dockerSocket') });
});

afterAll(async () => {
  await berth?.stop();
  await docker.removeAll();
});

afterEach(async () => {
  await docker.removeAll();
});

printBerthLogsOnFailure(() => berth);

describe('labelled container', () => {
  it('is routed within 1 s of starting', async () => {
    const port = await freePort();
    const container = await docker.runHttpContainer({
      name: 'route-a',
      port,
      labels: hostRouterLabels('a', 'a.example.test', port),
    });

    const routedAt = await waitUntilRouted(running(), 'a.example.test', 'route-a', { timeoutMs: 5_000 });

    expect(routedAt - container.startedAt).toBeLessThan(1_000);
  });

  it('leaves routing at once on docker stop', async () => {
    const port = await freePort();
    const container = await docker.runHttpContainer({
      name: 'route-stop',
      port,
      labels: hostRouterLabels('stop', 'stop.example.test', port),
      stopTimeoutSec: 3,
    });
    await waitUntilRouted(running(), 'stop.example.test', 'route-stop');

    // httpd ignores SIGTERM as PID 1, so it keeps serving for the 3 s stop timeout: a 404 or 503
    // before then comes from the stop event, not from the server going away.
    const stopRequestedAt = performance.now();
    const stopping = docker.stop(container.name, { timeoutSec: 3 });
    const removedAt = await waitUntilNotRouted(running(), 'stop.example.test', { timeoutMs: 2_500 });
    const direct = await httpRequest(container.url);
    await stopping;

    expect(removedAt - stopRequestedAt).toBeLessThan(300);
    expect(direct.status).toBe(200);
  });

  it('is not routed for another host', async () => {
    const port = await freePort();
    await docker.runHttpContainer({
      name: 'route-other',
      port,
      labels: hostRouterLabels('other', 'other.example.test', port),
    });
    await waitUntilRouted(running(), 'other.example.test', 'route-other');

    const response = await fetchVia(running(), 'unknown.example.test');

    expect(response.status).toBe(404);
  });
});

describe('compose replicas', () => {
  it('balances over all three', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const names = ['demo-web-1', 'demo-web-2', 'demo-web-3'];
    // Host networking gives each replica its own port, so the only exposed port of each
    // container is the one to use, and no server.port label may name a single port.
    for (const [index, name] of names.entries()) {
      await docker.runHttpContainer({
        name,
        port: ports[index]!,
        exposed: [ports[index]!],
        labels: {
          ...composeLabels('demo', 'web', index + 1),
          'traefik.http.routers.web.rule': 'Host(`web.example.test`)',
        },
      });
    }
    await waitFor(async () => (await findServiceWithPorts(running(), ports)) !== undefined, {
      timeoutMs: 5_000,
      description: `one service with servers on ports ${ports.join(', ')}`,
    });

    const counts = new Map<string, number>();
    for (let i = 0; i < 30; i += 1) {
      const response = await fetchVia(running(), 'web.example.test');
      expect(response.status).toBe(200);
      counts.set(response.body, (counts.get(response.body) ?? 0) + 1);
    }

    expect([...counts.keys()].sort()).toEqual(names);
  });
});

interface BadLabelCase {
  desc: string;
  name: string;
  labels: Record<string, string>;
  router: string;
  host: string;
  /** Matches the part of the error that names the bad label. */
  key: RegExp;
}

describe('bad labels', () => {
  const badContainers: BadLabelCase[] = [
    {
      desc: 'unbalanced parenthesis in rule',
      name: 'bad-rule',
      labels: { 'traefik.http.routers.badrule.rule': 'Host(`badrule.example.test`) && (' },
      router: 'badrule@docker',
      host: 'badrule.example.test',
      key: /rule/i,
    },
    {
      desc: 'priority that is not a number',
      name: 'bad-priority',
      labels: {
        'traefik.http.routers.badpriority.rule': 'Host(`badpriority.example.test`)',
        'traefik.http.routers.badpriority.priority': 'abc',
      },
      router: 'badpriority@docker',
      host: 'badpriority.example.test',
      key: /priority/i,
    },
  ];

  it.each(badContainers)('disable only their router: $desc', async ({ name, labels, router, host, key }) => {
    const goodPort = await freePort();
    await docker.runHttpContainer({
      name: 'good-neighbour',
      port: goodPort,
      labels: hostRouterLabels('good', 'good.example.test', goodPort),
    });
    const badPort = await freePort();
    await docker.runHttpContainer({ name, port: badPort, exposed: [badPort], labels });

    const bad = await waitFor(async () => (await findRouter(running(), router)) ?? false, {
      timeoutMs: 5_000,
      description: `router ${router} in /api/http/routers`,
    });
    await waitUntilRouted(running(), 'good.example.test', 'good-neighbour');
    const badResponse = await fetchVia(running(), host);

    expect(bad.status).toBe('disabled');
    expect(bad.error?.length ?? 0).toBeGreaterThan(0);
    const errorText = (bad.error ?? []).join('\n');
    expect(errorText).toMatch(key);
    expect(errorText).toContain(name);
    expect(NOT_ROUTED_STATUSES).toContain(badResponse.status);
  });

  it('log their error once', async () => {
    const badPort = await freePort();
    await docker.runHttpContainer({
      name: 'bad-logged-once',
      port: badPort,
      exposed: [badPort],
      labels: {
        'traefik.http.routers.logonce.rule': 'Host(`logonce.example.test`)',
        'traefik.http.routers.logonce.priority': 'not-a-number',
      },
    });
    await waitFor(async () => (await findRouter(running(), 'logonce@docker')) ?? false, { timeoutMs: 5_000 });

    // A later, unrelated change rebuilds the configuration; the unchanged error must not repeat.
    const port = await freePort();
    await docker.runHttpContainer({
      name: 'after-bad',
      port,
      labels: hostRouterLabels('afterbad', 'afterbad.example.test', port),
    });
    await waitUntilRouted(running(), 'afterbad.example.test', 'after-bad');

    const errorEntries = running()
      .logEntries()
      .filter(isWarningOrWorse)
      .filter((entry) => JSON.stringify(entry).includes('bad-logged-once'));

    expect(errorEntries).toHaveLength(1);
  });
});

// pino writes numeric levels (40 is warn) unless a formatter turns them into labels.
function isWarningOrWorse(entry: Record<string, unknown>): boolean {
  const level = entry.level;
  if (typeof level === 'number') return level >= 40;
  return typeof level === 'string' && ['warn', 'warning', 'error', 'fatal'].includes(level.toLowerCase());
}
