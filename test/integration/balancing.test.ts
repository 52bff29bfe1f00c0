// Balancing labels end to end: server weights, the p2c strategy, sticky cookies, active health
// checks shown in the API, and the retry middleware, all against real containers.

import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

import { getServices } from './harness/api.js';
import { type BerthProcess, fetchVia, printBerthLogsOnFailure, startBerth, waitUntilRouted } from './harness/berth.js';
import { freePort, TestDocker, type HttpContainer } from './harness/containers.js';
import { startReplica } from './harness/replicas.js';
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

const SERVICE_LABELS = (service: string) => `traefik.http.services.${service}.loadbalancer`;

/** Waits until the API lists `count` servers for the service, so every replica is in the runtime. */
async function waitForServers(service: string, count: number): Promise<void> {
  await waitFor(
    async () => (await getServices(running())).find((item) => item.name === `${service}@docker`)?.loadBalancer?.servers?.length === count,
    { timeoutMs: 5_000, description: `service ${service} with ${count} servers` },
  );
}

/** Sends `total` requests, `concurrency` at a time, and counts the bodies of the 200 responses. */
async function countBodies(host: string, total: number, concurrency = 8): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const response = await fetchVia(running(), host);
        expect(response.status).toBe(200);
        counts.set(response.body, (counts.get(response.body) ?? 0) + 1);
      }
    }),
  );
  return counts;
}

describe('balancing labels', () => {
  it('weights 1:2:3 over 600 requests within 5 percent', async () => {
    const host = 'weights.example.test';
    const replicas: HttpContainer[] = [];
    for (const weight of [1, 2, 3]) {
      replicas.push(await startReplica(docker, 'weights', host, `weights-${weight}`, { labels: { [`${SERVICE_LABELS('weights')}.server.weight`]: String(weight) } }));
    }
    await waitForServers('weights', 3);

    const counts = await countBodies(host, 600);

    console.log(`weights 1:2:3 over 600 requests: ${JSON.stringify(Object.fromEntries(counts))}`);
    for (const weight of [1, 2, 3]) {
      const ideal = 100 * weight;
      const count = counts.get(`weights-${weight}`) ?? 0;
      expect(Math.abs(count - ideal), `weights-${weight} got ${count}, ideal ${ideal}`).toBeLessThanOrEqual(ideal * 0.05);
    }
  });

  it('p2c strategy spreads requests', async () => {
    const host = 'p2c.example.test';
    for (const name of ['p2c-a', 'p2c-b']) {
      await startReplica(docker, 'p2c', host, name, { labels: { [`${SERVICE_LABELS('p2c')}.strategy`]: 'p2c' } });
    }
    await waitForServers('p2c', 2);

    const counts = await countBodies(host, 100);

    expect(counts.get('p2c-a')).toBeGreaterThan(20);
    expect(counts.get('p2c-b')).toBeGreaterThan(20);
    const service = (await getServices(running())).find((item) => item.name === 'p2c@docker') as { loadBalancer?: { strategy?: string } } | undefined;
    expect(service?.loadBalancer?.strategy).toBe('p2c');
  });

  it('sticky cookie pins a client and moves it when its server stops', async () => {
    const host = 'sticky.example.test';
    const labels = { [`${SERVICE_LABELS('sticky')}.sticky.cookie.name`]: 'berth_srv', [`${SERVICE_LABELS('sticky')}.sticky.cookie.httponly`]: 'true' };
    const a = await startReplica(docker, 'sticky', host, 'sticky-a', { labels });
    const b = await startReplica(docker, 'sticky', host, 'sticky-b', { labels });
    await waitForServers('sticky', 2);

    const first = await fetchVia(running(), host);
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    const cookie = setCookie.split(';')[0] ?? '';
    const pinned = [];
    for (let i = 0; i < 10; i++) pinned.push((await fetchVia(running(), host, '/', { headers: { cookie } })).body);

    expect(setCookie).toMatch(/^berth_srv=[0-9a-f]{16}; Path=\/; HttpOnly$/);
    expect(setCookie).not.toContain('127.0.0.1');
    expect(new Set(pinned)).toEqual(new Set([first.body]));

    const [gone, stays] = first.body === a.name ? [a, b] : [b, a];
    await docker.stop(gone.name, { timeoutSec: 1 });
    await waitForServers('sticky', 1);
    const moved = await fetchVia(running(), host, '/', { headers: { cookie } });

    expect(moved.body).toBe(stays.name);
    expect(moved.headers['set-cookie']?.[0]).toMatch(/^berth_srv=[0-9a-f]{16};/);
    expect(moved.headers['set-cookie']?.[0]?.split(';')[0]).not.toBe(cookie);
  });

  it('active health check takes a server out and back, shown in the API', async () => {
    const host = 'checked.example.test';
    const labels = {
      [`${SERVICE_LABELS('checked')}.healthcheck.path`]: '/health.txt',
      [`${SERVICE_LABELS('checked')}.healthcheck.interval`]: '300ms',
      [`${SERVICE_LABELS('checked')}.healthcheck.timeout`]: '1s',
    };
    const prelude = 'echo ok > /www/health.txt';
    const a = await startReplica(docker, 'checked', host, 'checked-a', { labels, prelude });
    const b = await startReplica(docker, 'checked', host, 'checked-b', { labels, prelude });
    await waitForServers('checked', 2);
    const statusOf = async (container: HttpContainer) =>
      (await getServices(running())).find((item) => item.name === 'checked@docker')?.serverStatus?.[`http://127.0.0.1:${container.port}`];

    await exec(a, ['rm', '/www/health.txt']);
    await waitFor(async () => (await statusOf(a)) === 'DOWN', { timeoutMs: 3_000, description: 'checked-a DOWN in the API' });
    const whileDown = await countBodies(host, 20, 1);

    expect(whileDown.get(b.name)).toBe(20);
    expect(await statusOf(b)).toBe('UP');

    await exec(a, ['sh', '-c', 'echo ok > /www/health.txt']);
    await waitFor(async () => (await statusOf(a)) === 'UP', { timeoutMs: 3_000, description: 'checked-a UP again in the API' });
    await waitUntilRouted(running(), host, a.name, { timeoutMs: 2_000 });

    const transitions = running()
      .logEntries()
      .filter((entry) => entry.serviceName === 'checked@docker' && entry.serverUrl === `http://127.0.0.1:${a.port}` && entry.level === 30);
    expect(transitions.map((entry) => entry.msg)).toEqual(['server left rotation', 'server is back in rotation']);
  });

  it('retry middleware waits between attempts', async () => {
    const host = 'retry.example.test';
    const closed = await freePort();
    // The container serves on its own port, but its server label names a port nothing listens on.
    await startReplica(docker, 'retry', host, 'retry-gone', {
      labels: {
        [`${SERVICE_LABELS('retry')}.server.port`]: String(closed),
        'traefik.http.routers.retry.middlewares': 'again',
        'traefik.http.middlewares.again.retry.attempts': '3',
        'traefik.http.middlewares.again.retry.initialinterval': '100ms',
      },
    });
    await waitForServers('retry', 1);

    const started = performance.now();
    const response = await fetchVia(running(), host);
    const elapsed = performance.now() - started;

    expect(response.status).toBe(502);
    // Waits of 100 ms and about 141 ms between the three attempts.
    expect(elapsed).toBeGreaterThanOrEqual(230);
    const warnings = running()
      .logEntries()
      .filter((entry) => entry.routerName === 'retry@docker' && entry.msg === 'forwarding failed; trying again');
    expect(warnings).toHaveLength(2);
  });
});

/** Runs a command in the container and waits for it to finish. */
async function exec(container: HttpContainer, command: string[]): Promise<void> {
  const created = await docker.client.getContainer(container.id).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
  const stream = await created.start({});
  stream.resume();
  await new Promise<void>((resolve) => stream.on('end', () => resolve()));
  await sleep(10);
}
