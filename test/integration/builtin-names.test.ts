// Containers and labels whose names are also properties of every JavaScript object, against a real
// dockerd. Before the fix, a container named `constructor` present at start made the Docker provider
// fail with "issuesOf is not iterable" every 5 s, so every host returned 404, and a label such as
// `traefik.http.routers.toString.rule` added later stopped the running provider the same way.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { apiGet, type BerthProcess, fetchVia, printBerthLogsOnFailure, startBerth, waitUntilRouted } from './harness/berth.js';
import { freePort, TestDocker } from './harness/containers.js';
import { hostRouterLabels } from './harness/labels.js';

const docker = new TestDocker(inject('dockerSocket'));
let berth: BerthProcess | undefined;

function running(): BerthProcess {
  if (berth === undefined) throw new Error('Berth was not started by beforeAll');
  return berth;
}

interface Overview {
  providerStatus?: { docker?: { connected?: boolean; containers?: number } };
}

beforeAll(async () => {
  await docker.removeAll();

  // Both containers exist before Berth starts, so the first list of containers already has them.
  const constructorPort = await freePort();
  await docker.runHttpContainer({ name: 'constructor', port: constructorPort, exposed: [constructorPort] });
  const goodPort = await freePort();
  await docker.runHttpContainer({ name: 'good-at-start', port: goodPort, labels: hostRouterLabels('good', 'good.example.test', goodPort) });

  berth = await startBerth({ dockerSocket: inject('dockerSocket') });
});

afterAll(async () => {
  await berth?.stop();
  await docker.removeAll();
});

printBerthLogsOnFailure(() => berth);

describe('built-in object names', () => {
  it('routes constructor and its neighbour', async () => {
    // The default rule gives the label-less container Host(`constructor`).
    await waitUntilRouted(running(), 'constructor', 'constructor', { timeoutMs: 5_000 });
    await waitUntilRouted(running(), 'good.example.test', 'good-at-start', { timeoutMs: 5_000 });

    const overview = await apiGet<Overview>(running(), '/api/overview');
    expect(overview.providerStatus?.docker?.connected).toBe(true);
  });

  it('routes a later toString router', async () => {
    const port = await freePort();
    await docker.runHttpContainer({
      name: 'tostring-router',
      port,
      labels: {
        'traefik.http.routers.toString.rule': 'Host(`x.localhost`)',
        'traefik.http.routers.toString.middlewares': 'valueOf',
        'traefik.http.middlewares.valueOf.headers.customresponseheaders.constructor': 'kept',
        'traefik.http.services.hasOwnProperty.loadbalancer.server.port': String(port),
      },
    });

    await waitUntilRouted(running(), 'x.localhost', 'tostring-router', { timeoutMs: 5_000 });
    const routed = await fetchVia(running(), 'x.localhost');
    const good = await fetchVia(running(), 'good.example.test');
    const named = await fetchVia(running(), 'constructor');

    expect(routed.headers['constructor']).toBe('kept');
    expect(good.status).toBe(200);
    expect(named.status).toBe(200);
  });

  it('stays connected after removing constructor', async () => {
    await docker.remove('constructor');
    const port = await freePort();
    await docker.runHttpContainer({ name: 'after-remove', port, labels: hostRouterLabels('after', 'after.example.test', port) });

    await waitUntilRouted(running(), 'after.example.test', 'after-remove', { timeoutMs: 5_000 });
    const overview = await apiGet<Overview>(running(), '/api/overview');

    expect(overview.providerStatus?.docker?.connected).toBe(true);
    expect(running().logs()).not.toContain('issuesOf');
    expect(running().logs()).not.toContain('cannot reach Docker');
  });
});
