// Keep-alive races with servers that close idle connections early, servers that close after
// every response, and requests that must never be sent twice.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, test } from 'vitest';

import { send, startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

const LONG = process.env.LONG_TESTS === '1';

/** Sends GETs through one keep-alive client agent every 1000 ± 50 ms for `durationMs`, and returns the statuses. */
async function steadyGets(port: number, durationMs: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const statuses: number[] = [];
  const end = performance.now() + durationMs;
  try {
    while (performance.now() < end) {
      const response = await send(port, { agent, headers: { host: 'app.example.test' } }).catch(() => ({ status: 0 }));
      statuses.push(response.status);
      await sleep(950 + Math.random() * 100);
    }
  } finally {
    agent.destroy();
  }
  return statuses;
}

describe('keep-alive races', () => {
  test(
    LONG ? 'server idle 1 s, two minutes' : 'server idle 1 s, 20 seconds',
    { timeout: (LONG ? 120_000 : 20_000) + 30_000 },
    async () => {
      const server = await startServer((_request, response) => response.end('ok'), { keepAliveTimeout: 1_000 });
      running.push(server);
      const berth = await startInProcessBerth({ servers: [server.url.origin] });
      running.push(berth);

      const statuses = await steadyGets(berth.port, LONG ? 120_000 : 20_000);

      expect(statuses.length).toBeGreaterThan(LONG ? 100 : 15);
      expect(statuses.filter((status) => status !== 200)).toEqual([]);
    },
  );

  test('Connection: close never reused', async () => {
    let connections = 0;
    const server = await startServer((_request, response) => {
      response.setHeader('connection', 'close');
      response.end('ok');
    });
    server.server.on('connection', () => (connections += 1));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url.origin] });
    running.push(berth);

    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await send(berth.port, { agent, headers: { host: 'app.example.test' } })).status);
    agent.destroy();

    expect(statuses).toEqual(Array(10).fill(200));
    expect(connections).toBe(10);
  });

  test('sent POST never replayed', async () => {
    const posts: string[] = [];
    const failing = await startServer((request) => {
      // Reads the whole body, then drops the connection without a response.
      request.resume();
      request.on('end', () => {
        posts.push('failing');
        request.socket.destroy();
      });
    });
    const healthy = await startServer((request, response) => {
      posts.push('healthy');
      request.resume();
      response.end('ok');
    });
    running.push(failing, healthy);
    const berth = await startInProcessBerth({ servers: [failing.url.origin, healthy.url.origin] });
    running.push(berth);

    // Round robin starts with the first server, which fails after the body arrived.
    const response = await send(berth.port, { method: 'POST', headers: { host: 'app.example.test' }, body: 'payment=1' });

    expect(response.status).toBe(502);
    expect(posts).toEqual(['failing']);
  });
});

describe('client gone', () => {
  test('499 logged, no retry', async () => {
    let requests = 0;
    const slow = await startServer((_request, response) => {
      requests += 1;
      setTimeout(() => response.end('late'), 1_000).unref();
    });
    running.push(slow);
    const berth = await startInProcessBerth({ servers: [slow.url.origin, slow.url.origin] });
    running.push(berth);

    const request = http.get({ host: LOOPBACK, port: berth.port, headers: { host: 'app.example.test' }, agent: false });
    request.on('error', () => undefined);
    const closed = new Promise((resolve) => request.once('close', resolve));
    await sleep(200);
    request.destroy();
    await closed;
    await sleep(1_200);

    const entries = berth.logs().filter((entry) => entry.status === 499);
    expect(entries.length).toBeGreaterThan(0);
    expect(requests).toBe(1);
  });
});
