// Docker's HEALTHCHECK decides when a container joins: not before `health_status: healthy`, and
// quickly after it. Repeated identical health events change nothing. A stopped container whose
// routers are kept gets 503 responses with Retry-After.

import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

import { apiGet, type BerthProcess, fetchVia, printBerthLogsOnFailure, startBerth, waitUntilNotRouted, waitUntilRouted } from './harness/berth.js';
import { TestDocker } from './harness/containers.js';
import { DockerEventProxy } from './harness/event-proxy.js';
import { describeLoad, startLoad } from './harness/load.js';
import { rebuildCount, startReplica, waitForHealth, watchContainerEvents } from './harness/replicas.js';
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

afterEach(async () => {
  await docker.removeAll();
});

printBerthLogsOnFailure(() => berth);

describe('docker health', () => {
  it('joins only when healthy, within 200 ms', async () => {
    const host = 'ready.example.test';
    const steady = await startReplica(docker, 'ready', host, 'ready-steady');
    await waitUntilRouted(running(), host, steady.name);
    const events = await watchContainerEvents(docker);
    const load = startLoad({ url: running().webUrl, host, requestsPerSecond: 200, maxDurationMs: 15_000, maxRequests: 3_000 });

    try {
      // Unhealthy at the first check, healthy once the delayed command has created the file.
      const late = await startReplica(docker, 'ready', host, 'ready-late', {
        prelude: '(sleep 3; touch /tmp/ready) &',
        health: { command: 'test -f /tmp/ready', intervalMs: 250, retries: 1 },
      });
      const unhealthy = await events.next((event) => event.id === late.id && event.action === 'health_status: unhealthy');
      const healthy = await events.next((event) => event.id === late.id && event.action === 'health_status: healthy');
      await sleep(500);
      const report = await load.stop();

      const fromLate = report.samples.filter((sample) => sample.body === late.name);
      const firstSentAt = Math.min(...fromLate.map((sample) => sample.sentAt));
      const routedAfterMs = Math.round(firstSentAt - healthy.at);
      console.log(
        `${describeLoad('unhealthy for 3 s, then healthy', report, healthy.at)}\n` +
          `  unhealthy ${Math.round(healthy.at - unhealthy.at)} ms before healthy; first request to it sent ${routedAfterMs} ms after the healthy event`,
      );
      expect(report.failed).toBe(0);
      expect(fromLate.length).toBeGreaterThan(0);
      expect(fromLate.filter((sample) => sample.doneAt < healthy.at)).toEqual([]);
      expect(routedAfterMs).toBeLessThanOrEqual(200);
    } finally {
      events.stop();
      await load.stop();
    }
  });

  it('a failing HEALTHCHECK keeps it out, and the API says unhealthy', async () => {
    const host = 'sick.example.test';
    const sick = await startReplica(docker, 'sick', host, 'health-sick', { health: { command: 'false', intervalMs: 250, retries: 1 } });
    await waitForHealth(docker, sick.name, 'unhealthy');

    // Berth applies the health event a moment after Docker reports it.
    const skipped = await waitFor(
      async () => {
        const data = await apiGet<{ skippedContainers: Array<{ name: string; reason: string }> }>(running(), '/api/rawdata');
        const item = data.skippedContainers.find((candidate) => candidate.name === sick.name);
        return item?.reason.includes('unhealthy') === true ? item : false;
      },
      { timeoutMs: 3_000, description: 'the sick container listed as skipped for being unhealthy' },
    );
    const response = await fetchVia(running(), host);

    expect(skipped.reason).toBe('unhealthy (HEALTHCHECK failing)');
    expect(response.status).toBe(404);
  });

  it('pause leaves, unpause alone returns', async () => {
    const host = 'nap.example.test';
    const napper = await startReplica(docker, 'nap', host, 'health-nap');
    await waitUntilRouted(running(), host, napper.name);
    const events = await watchContainerEvents(docker);

    try {
      await docker.pause(napper.name);
      await waitUntilNotRouted(running(), host, { timeoutMs: 3_000 });
      await docker.unpause(napper.name);
      await waitUntilRouted(running(), host, napper.name, { timeoutMs: 3_000 });

      expect(events.events.filter((event) => event.id === napper.id).map((event) => event.action)).toEqual(['pause', 'unpause']);
    } finally {
      events.stop();
    }
  });

  it('allownonrunning keeps the router of a stopped container: 503 with Retry-After', async () => {
    const host = 'parked.example.test';
    const parked = await startReplica(docker, 'parked', host, 'health-parked', { labels: { 'traefik.docker.allownonrunning': 'true' } });
    await waitUntilRouted(running(), host, parked.name);

    await docker.stop(parked.name, { timeoutSec: 1 });
    const response = await waitFor(
      async () => {
        const reply = await fetchVia(running(), host);
        return reply.status === 503 ? reply : false;
      },
      { timeoutMs: 5_000, description: `${host} answering 503` },
    );

    expect(response.headers['retry-after']).toBe('5');
    const routers = await apiGet<Array<{ name: string; status: string }>>(running(), '/api/http/routers');
    expect(routers.find((router) => router.name === 'parked@docker')?.status).not.toBe('disabled');

    await docker.start(parked.name);
    await waitUntilRouted(running(), host, parked.name, { timeoutMs: 5_000 });
  });
});

describe('repeated health events', () => {
  let proxy: DockerEventProxy | undefined;
  let proxied: BerthProcess | undefined;

  beforeAll(async () => {
    proxy = await DockerEventProxy.start(inject('dockerSocket'));
    // Debug level, so the log shows each event Berth received.
    proxied = await startBerth({ dockerSocket: proxy.socketPath });
  });

  afterAll(async () => {
    await proxied?.stop();
    await proxy?.close();
  });

  printBerthLogsOnFailure(() => proxied);

  it('ten identical healthy events cause no rebuild', async () => {
    if (proxy === undefined || proxied === undefined) throw new Error('beforeAll did not start the proxy and Berth');
    const host = 'echo.example.test';
    const events = await watchContainerEvents(docker);

    // The start period keeps the status at `starting` until the file exists, so the route appears
    // with `health_status: healthy` and no `unhealthy` before it.
    const echo = await startReplica(docker, 'echo', host, 'health-echo', {
      prelude: '(sleep 1; touch /tmp/ready) &',
      health: { command: 'test -f /tmp/ready', intervalMs: 200, retries: 1, startPeriodMs: 10_000 },
    });
    expect((await fetchVia(proxied, host)).status).toBe(404);
    const healthy = await events.next((event) => event.id === echo.id && event.action.startsWith('health_status'));
    events.stop();
    await waitUntilRouted(proxied, host, echo.name, { timeoutMs: 3_000 });
    expect(healthy.action).toBe('health_status: healthy');

    await sleep(300);
    const before = rebuildCount(proxied);
    const received = () =>
      proxied?.logEntries().filter((entry) => entry.msg === 'Docker event' && entry.dockerEvent === 'health_status: healthy' && entry.containerId === echo.id.slice(0, 12)).length ?? 0;
    const receivedBefore = received();
    for (let i = 0; i < 10; i++) {
      expect(proxy.inject({ Type: 'container', Action: 'health_status: healthy', status: 'health_status: healthy', id: echo.id, Actor: { ID: echo.id, Attributes: { name: echo.name } } })).toBe(1);
      await sleep(20);
    }
    await waitFor(() => received() - receivedBefore === 10, { timeoutMs: 3_000, description: 'Berth receiving the ten injected events' });
    // Longer than the event coalescing window plus an inspect, so a rebuild would have happened.
    await sleep(500);

    expect(rebuildCount(proxied)).toBe(before);
    expect((await fetchVia(proxied, host)).body).toBe(echo.name);
  });
});
