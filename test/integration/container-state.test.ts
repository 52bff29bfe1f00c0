// A server takes traffic only while its container is running, unpaused and, with a HEALTHCHECK,
// healthy.

import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

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
import { hostRouterLabels } from './harness/labels.js';
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

describe('paused container', () => {
  it('leaves routing and returns on unpause', async () => {
    const port = await freePort();
    const container = await docker.runHttpContainer({
      name: 'state-pause',
      port,
      labels: hostRouterLabels('pause', 'pause.example.test', port),
    });
    await waitUntilRouted(running(), 'pause.example.test', 'state-pause');

    await docker.pause(container.name);
    await waitUntilNotRouted(running(), 'pause.example.test', { timeoutMs: 3_000 });

    await docker.unpause(container.name);
    await waitUntilRouted(running(), 'pause.example.test', 'state-pause', { timeoutMs: 3_000 });
  });
});

describe('stop signal', () => {
  // busybox httpd runs as PID 1 and ignores SIGTERM, so `docker kill -s TERM` leaves it running.
  // Berth takes it out of rotation at the signal, and puts it back once the stop timeout (1 s here)
  // and a 5 s margin have passed without the container stopping.
  it('returns a container that survives SIGTERM', async () => {
    const port = await freePort();
    const container = await docker.runHttpContainer({
      name: 'state-term',
      port,
      stopTimeoutSec: 1,
      labels: hostRouterLabels('term', 'term.example.test', port),
    });
    await waitUntilRouted(running(), 'term.example.test', 'state-term');

    await docker.client.getContainer(container.id).kill({ signal: 'SIGTERM' });
    const left = await waitUntilNotRouted(running(), 'term.example.test', { timeoutMs: 3_000 });

    const back = await waitUntilRouted(running(), 'term.example.test', 'state-term', { timeoutMs: 12_000 });
    expect(back - left).toBeGreaterThan(4_000);
  });
});

describe('health check', () => {
  it('keeps an unhealthy container out', async () => {
    const port = await freePort();
    const container = await docker.runHttpContainer({
      name: 'state-unhealthy',
      port,
      labels: hostRouterLabels('sick', 'sick.example.test', port),
      health: { command: 'false', intervalMs: 1_000, retries: 1 },
    });

    // Check through `starting` and into `unhealthy`: no response in that time may come from it.
    const statuses: number[] = [];
    await waitFor(
      async () => {
        statuses.push((await fetchVia(running(), 'sick.example.test')).status);
        return (await docker.inspect(container.name)).State.Health?.Status === 'unhealthy';
      },
      { timeoutMs: 10_000, intervalMs: 100, description: `container ${container.name} unhealthy` },
    );
    statuses.push((await fetchVia(running(), 'sick.example.test')).status);

    expect(statuses.filter((status) => !NOT_ROUTED_STATUSES.includes(status))).toEqual([]);
  });

  it('routes a container once healthy', async () => {
    const port = await freePort();
    const container = await docker.runHttpContainer({
      name: 'state-healthy',
      port,
      labels: hostRouterLabels('well', 'well.example.test', port),
      health: { command: 'true', intervalMs: 1_000, retries: 1 },
    });

    await waitUntilRouted(running(), 'well.example.test', 'state-healthy', { timeoutMs: 5_000 });

    expect((await docker.inspect(container.name)).State.Health?.Status).toBe('healthy');
  });
});
