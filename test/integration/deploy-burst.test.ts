// A burst of container starts is coalesced into a few rebuilds, and every container ends up routed.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { getRouters } from './harness/api.js';
import { type BerthProcess, fetchVia, printBerthLogsOnFailure, startBerth } from './harness/berth.js';
import { freePort, TestDocker } from './harness/containers.js';
import { hostRouterLabels } from './harness/labels.js';
import { rebuildCount } from './harness/replicas.js';
import { waitFor } from './harness/wait.js';

const docker = new TestDocker(inject('dockerSocket'));
let berth: BerthProcess | undefined;

function running(): BerthProcess {
  if (berth === undefined) throw new Error('Berth was not started by beforeAll');
  return berth;
}

beforeAll(async () => {
  await docker.removeAll();
  berth = await startBerth({ dockerSocket: inject('dockerSocket'), args: ['--log.level=info'] });
});

afterAll(async () => {
  await berth?.stop();
  await docker.removeAll();
});

printBerthLogsOnFailure(() => berth);

const COUNT = 50;

describe('burst of starts', () => {
  it('50 containers: a few rebuilds, 50 routers', async () => {
    const ports = await Promise.all(Array.from({ length: COUNT }, () => freePort()));
    const before = rebuildCount(running());

    const startedAt = performance.now();
    const containers = await Promise.all(
      ports.map((port, index) =>
        docker.runHttpContainer({ name: `burst-${index}`, port, labels: hostRouterLabels(`burst${index}`, `burst${index}.example.test`, port), waitUntilServing: false }),
      ),
    );
    const allStartedMs = Math.round(performance.now() - startedAt);

    await waitFor(async () => (await getRouters(running())).filter((router) => router.name.startsWith('burst') && router.status === 'enabled').length === COUNT, {
      timeoutMs: 20_000,
      intervalMs: 50,
      description: `${COUNT} burst routers enabled`,
    });
    const routedMs = Math.round(performance.now() - startedAt);
    const rebuilds = rebuildCount(running()) - before;

    console.log(`burst of ${COUNT}: start requests done after ${allStartedMs} ms, all routers after ${routedMs} ms, ${rebuilds} rebuilds`);
    expect(containers).toHaveLength(COUNT);
    // One rebuild per container would mean no coalescing at all.
    expect(rebuilds).toBeLessThanOrEqual(COUNT / 4);
    for (const index of [0, 17, 49]) {
      await waitFor(async () => (await fetchVia(running(), `burst${index}.example.test`)).body === `burst-${index}`, {
        timeoutMs: 5_000,
        description: `burst-${index} serving`,
      });
    }
  });
});
