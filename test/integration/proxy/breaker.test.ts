// circuitBreaker on the real request path: a client, Berth's entry point and forwarder, and a
// server behind it, all on 127.0.0.1. Durations are short so that each test takes well under a second.
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, test } from 'vitest';

import { closedPort, send, startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

const HOST = 'app.example.test';

/** Starts a server that responds with `status.current` and counts the requests it receives. */
async function switchableServer(status: { current: number }): Promise<{ server: RunningServer; hits: () => number }> {
  let hits = 0;
  const server = await startServer((_request, response) => {
    hits++;
    response.statusCode = status.current;
    response.end(`server ${status.current}`);
  });
  running.push(server);
  return { server, hits: () => hits };
}

async function berthWith(servers: string[], options: Record<string, unknown>): Promise<InProcessBerth> {
  const berth = await startInProcessBerth({ servers, middlewares: { breaker: { type: 'circuitbreaker', options } } });
  running.push(berth);
  return berth;
}

describe('circuitBreaker through Berth', () => {
  test('500s trip it, then traffic returns', async () => {
    const status = { current: 500 };
    const { server, hits } = await switchableServer(status);
    const berth = await berthWith([server.url.origin], {
      expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.25',
      checkPeriod: '10ms',
      fallbackDuration: '200ms',
      recoveryDuration: '200ms',
    });

    const failed = await send(berth.port, { headers: { host: HOST } });
    expect(failed.status).toBe(500);
    expect(hits()).toBe(1);

    for (let i = 0; i < 3; i++) {
      const blocked = await send(berth.port, { headers: { host: HOST } });
      expect(blocked.status).toBe(503);
      expect(blocked.body).toBe('Service Unavailable');
    }
    expect(hits()).toBe(1);

    // The server heals. After the fallback duration the breaker lets a growing share through, and
    // after the recovery duration all of it.
    status.current = 200;
    await sleep(200);
    const statuses: number[] = [];
    const deadline = Date.now() + 400;
    while (Date.now() < deadline) {
      statuses.push((await send(berth.port, { headers: { host: HOST } })).status);
      await sleep(10);
    }
    expect(statuses).toContain(200);
    expect(statuses.every((code) => code === 200 || code === 503)).toBe(true);

    for (let i = 0; i < 5; i++) {
      const healthy = await send(berth.port, { headers: { host: HOST } });
      expect(healthy.status).toBe(200);
      expect(healthy.body).toBe('server 200');
    }
  });

  test('network errors trip it with responseCode', async () => {
    const port = await closedPort();
    const berth = await berthWith([`http://${LOOPBACK}:${port}`], { expression: 'NetworkErrorRatio() > 0.5', fallbackDuration: '10s', responseCode: 429 });

    const refused = await send(berth.port, { headers: { host: HOST } });
    expect(refused.status).toBe(502);

    const blocked = await send(berth.port, { headers: { host: HOST } });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toBe('Too Many Requests');
  });

  test('502 from the server is no network error', async () => {
    const { server, hits } = await switchableServer({ current: 502 });
    const berth = await berthWith([server.url.origin], { expression: 'NetworkErrorRatio() > 0.5', checkPeriod: '1ms' });

    for (let i = 0; i < 4; i++) {
      const relayed = await send(berth.port, { headers: { host: HOST } });
      expect(relayed.status).toBe(502);
      expect(relayed.body).toBe('server 502');
      await sleep(2);
    }
    expect(hits()).toBe(4);
  });

  test('malformed expression disables the router', async () => {
    const { server, hits } = await switchableServer({ current: 200 });
    const berth = await berthWith([server.url.origin], { expression: 'NetworkErrorRatio() >> 0.5' });

    const response = await send(berth.port, { headers: { host: HOST } });
    expect(response.status).toBe(404);
    expect(hits()).toBe(0);
    const logged = JSON.stringify(berth.logs());
    expect(logged).toContain('circuitbreaker expression');
    expect(logged).toContain('is invalid at character 22');
  });
});
