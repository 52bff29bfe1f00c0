// Deploys under steady load must not fail a single request. A stopped replica leaves rotation on
// its `kill` event, before it dies, and finishes what it is serving. New replicas join only when
// they can serve. Each test prints sent/failed counts and timings.

import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

import { type BerthProcess, fetchVia, printBerthLogsOnFailure, startBerth } from './harness/berth.js';
import { freePort, TestDocker, type HttpContainer } from './harness/containers.js';
import { composeLabels } from './harness/labels.js';
import { describeLoad, type LoadSample, startLoad } from './harness/load.js';
import { startReplica, waitForHealth } from './harness/replicas.js';
import { waitFor } from './harness/wait.js';

const docker = new TestDocker(inject('dockerSocket'));
let berth: BerthProcess | undefined;

function running(): BerthProcess {
  if (berth === undefined) throw new Error('Berth was not started by beforeAll');
  return berth;
}

beforeAll(async () => {
  await docker.removeAll();
  // Info level: debug logs one line per forwarded request, which at 200 requests/s only adds noise.
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

/** Polls `host` until every container of `containers` has sent at least one response. */
async function waitUntilAllServe(host: string, containers: HttpContainer[]): Promise<void> {
  const seen = new Set<string>();
  await waitFor(
    async () => {
      const response = await fetchVia(running(), host, '/', { timeoutMs: 2_000 });
      if (response.status === 200) seen.add(response.body);
      return containers.every((container) => seen.has(container.name));
    },
    { timeoutMs: 10_000, intervalMs: 10, description: `${containers.map((container) => container.name).join(', ')} all serving ${host}` },
  );
}

function lastSentTo(samples: readonly LoadSample[], body: string): number {
  return Math.max(...samples.filter((sample) => sample.body === body).map((sample) => sample.sentAt));
}

describe('deploys under load', () => {
  it('stop of one of two replicas', async () => {
    const host = 'drain.example.test';
    const a = await startReplica(docker, 'drain', host, 'drain-a', { stopTimeoutSec: 2 });
    const b = await startReplica(docker, 'drain', host, 'drain-b', { stopTimeoutSec: 2 });
    await waitUntilAllServe(host, [a, b]);

    const load = startLoad({ url: running().webUrl, host, requestsPerSecond: 200, maxDurationMs: 15_000, maxRequests: 3_000 });
    await sleep(1_000);
    const stopAt = performance.now();
    await docker.stop(a.name, { timeoutSec: 2 });
    const exitedAt = performance.now();
    await sleep(1_000);
    const report = await load.stop();

    const leftAfterMs = Math.round(lastSentTo(report.samples, a.name) - stopAt);
    console.log(`${describeLoad('stop 1 of 2 (2 s drain)', report, stopAt)}\n  last request to the stopped replica sent ${leftAfterMs} ms after docker stop; it exited after ${Math.round(exitedAt - stopAt)} ms`);
    expect(report.failed, describeLoad('stop 1 of 2', report, stopAt)).toBe(0);
    expect(report.sent).toBeGreaterThan(600);
    // The replica left rotation on its kill event, long before it died.
    expect(leftAfterMs).toBeLessThan(1_000);
    expect(exitedAt - stopAt).toBeGreaterThan(1_900);
  });

  it('rolling replace five times', async () => {
    const host = 'roll.example.test';
    const health = { command: 'true', intervalMs: 200, retries: 1 };
    let current = await startReplica(docker, 'roll', host, 'roll-0', { health, stopTimeoutSec: 1 });
    await waitForHealth(docker, current.name, 'healthy');
    await waitUntilAllServe(host, [current]);

    const load = startLoad({ url: running().webUrl, host, requestsPerSecond: 200, maxDurationMs: 30_000, maxRequests: 6_000 });
    const startedAt = performance.now();
    const stepsMs: number[] = [];
    for (let step = 1; step <= 5; step++) {
      const stepStart = performance.now();
      const next = await startReplica(docker, 'roll', host, `roll-${step}`, { health, stopTimeoutSec: 1 });
      await waitForHealth(docker, next.name, 'healthy');
      await docker.stop(current.name, { timeoutSec: 1 });
      current = next;
      stepsMs.push(Math.round(performance.now() - stepStart));
    }
    await sleep(500);
    const report = await load.stop();

    console.log(`${describeLoad('rolling replace x5', report, startedAt)}\n  step durations (start, healthy, stop old) in ms: ${stepsMs.join(', ')}`);
    expect(report.failed, describeLoad('rolling replace', report, startedAt)).toBe(0);
    for (let step = 0; step <= 5; step++) expect(report.bodies[`roll-${step}`], `roll-${step} served`).toBeGreaterThan(0);
  });

  it('scale 1 to 5 to 1', async () => {
    const host = 'scale.example.test';
    const first = await startReplica(docker, 'scale', host, 'scale-1', { stopTimeoutSec: 1 });
    await waitUntilAllServe(host, [first]);

    const load = startLoad({ url: running().webUrl, host, requestsPerSecond: 200, maxDurationMs: 20_000, maxRequests: 4_000 });
    const startedAt = performance.now();
    await sleep(500);
    const extra = await Promise.all([2, 3, 4, 5].map((index) => startReplica(docker, 'scale', host, `scale-${index}`, { stopTimeoutSec: 1 })));
    await waitFor(() => extra.every((container) => load.samples().some((sample) => sample.body === container.name)), {
      timeoutMs: 5_000,
      description: 'every new replica answering the load',
    });
    const scaledUpMs = Math.round(performance.now() - startedAt - 500);
    await sleep(1_000);
    await Promise.all(extra.map((container) => docker.stop(container.name, { timeoutSec: 1 })));
    await sleep(500);
    const report = await load.stop();

    console.log(`${describeLoad('scale 1 -> 5 -> 1', report, startedAt)}\n  all five replicas served within ${scaledUpMs} ms of the first start request`);
    expect(report.failed, describeLoad('scale', report, startedAt)).toBe(0);
    for (const container of [first, ...extra]) expect(report.bodies[container.name], `${container.name} served`).toBeGreaterThan(0);
  });

  it('in-flight requests finish on a stopping replica', async () => {
    const host = 'inflight.example.test';
    // A CGI script that responds after one second with the container's name. Its header lines end
    // in CRLF, because undici rejects a response header line that ends in a bare LF.
    const prelude = String.raw`mkdir -p /www/cgi-bin && printf '#!/bin/sh\nsleep 1\nprintf "Content-Type: text/plain\\r\\n\\r\\nslow-%s\\n"\n' "$BERTH_TEST_BODY" > /www/cgi-bin/slow && chmod +x /www/cgi-bin/slow`;
    const a = await startReplica(docker, 'inflight', host, 'inflight-a', { prelude, stopTimeoutSec: 3 });
    const b = await startReplica(docker, 'inflight', host, 'inflight-b', { prelude, stopTimeoutSec: 3 });
    await waitUntilAllServe(host, [a, b]);

    // Round robin puts one of the two slow requests on each replica.
    const slow = [fetchVia(running(), host, '/cgi-bin/slow'), fetchVia(running(), host, '/cgi-bin/slow')];
    await sleep(300);
    const stopped = docker.stop(a.name, { timeoutSec: 3 });
    const responses = await Promise.all(slow);
    await stopped;

    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    expect(responses.map((response) => response.body.trim()).sort()).toEqual(['slow-inflight-a', 'slow-inflight-b']);
  });

  it('stop with a 5 s drain at 50 requests/s', async () => {
    const host = 'drain5.example.test';
    const a = await startReplica(docker, 'drain5', host, 'drain5-a', { stopTimeoutSec: 5 });
    const b = await startReplica(docker, 'drain5', host, 'drain5-b', { stopTimeoutSec: 5 });
    await waitUntilAllServe(host, [a, b]);

    const load = startLoad({ url: running().webUrl, host, requestsPerSecond: 50, maxDurationMs: 15_000, maxRequests: 1_000 });
    await sleep(500);
    const stopAt = performance.now();
    await docker.stop(a.name, { timeoutSec: 5 });
    await sleep(500);
    const report = await load.stop();

    console.log(describeLoad('stop 1 of 2 (5 s drain, 50 req/s)', report, stopAt));
    expect(report.failures.filter((sample) => sample.status >= 500 || sample.status === 0)).toEqual([]);
    expect(report.failed).toBe(0);
  });

  it('three compose replicas scaled to one', async () => {
    const host = 'w.example.test';
    const replicas: HttpContainer[] = [];
    for (const replica of [1, 2, 3]) {
      // Compose replicas differ only in the port they expose, from which Berth takes the server port.
      const port = await freePort();
      replicas.push(
        await docker.runHttpContainer({
          name: `scaled-w-${replica}`,
          port,
          exposed: [port],
          stopTimeoutSec: 1,
          labels: { ...composeLabels('scaled', 'w', replica), 'traefik.http.routers.w.rule': `Host(\`${host}\`)` },
        }),
      );
    }
    await waitUntilAllServe(host, replicas);

    const reached = new Set<string>();
    for (let i = 0; i < 30; i++) reached.add((await fetchVia(running(), host)).body);
    expect([...reached].sort()).toEqual(replicas.map((replica) => replica.name).sort());

    const load = startLoad({ url: running().webUrl, host, requestsPerSecond: 100, maxDurationMs: 10_000, maxRequests: 1_000 });
    const stopAt = performance.now();
    await Promise.all(replicas.slice(1).map((replica) => docker.stop(replica.name, { timeoutSec: 1 })));
    await sleep(500);
    const report = await load.stop();

    console.log(describeLoad('3 compose replicas scaled to 1', report, stopAt));
    expect(report.failed, describeLoad('scale to 1', report, stopAt)).toBe(0);
  });
});
