// Keep-alive races with servers that close idle connections early, servers that close after
// every response, and requests that must never be sent twice.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, test } from 'vitest';

import { send, startServer } from '../../proxy/harness.js';
import { OK, startClosingServer } from './closing-server.js';
import { LOOPBACK, startInProcessBerth } from './harness.js';

const running: Array<{ close(): Promise<void> }> = [];

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

describe('connection closed as a request arrives', () => {
  test('GET sent again on a new connection', async () => {
    // The server closes each connection when its second request arrives, as one whose idle timer fired would.
    const server = await startClosingServer((_line, nth) => (nth === 1 ? OK : undefined));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);

    const first = await send(berth.port, { path: '/one', headers: { host: 'app.example.test' } });
    const second = await send(berth.port, { path: '/two', headers: { host: 'app.example.test' } });

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(server.seen).toEqual(['GET /one HTTP/1.1', 'GET /two HTTP/1.1', 'GET /two HTTP/1.1']);
    const replays = berth.logs().filter((entry) => entry.msg === 'forwarding failed; trying again');
    expect(replays.map((entry) => entry.level)).toEqual([20]);
  });

  test('POST never sent again', async () => {
    const server = await startClosingServer((_line, nth) => (nth === 1 ? OK : undefined));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);

    await send(berth.port, { path: '/one', headers: { host: 'app.example.test' } });
    const post = await send(berth.port, { method: 'POST', path: '/pay', headers: { host: 'app.example.test', 'content-length': '0' } });

    expect(post.status).toBe(502);
    expect(server.seen).toEqual(['GET /one HTTP/1.1', 'POST /pay HTTP/1.1']);
  });

  test('GET sent again once only', async () => {
    // Every request after the first on a connection closes it: the replay meets a stale connection too.
    const server = await startClosingServer((line, nth) => (nth === 1 && line.startsWith('GET /warm') ? OK : undefined));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);

    await send(berth.port, { path: '/warm', headers: { host: 'app.example.test' } });
    const response = await send(berth.port, { path: '/down', headers: { host: 'app.example.test' } });

    expect(response.status).toBe(502);
    expect(server.seen).toEqual(['GET /warm HTTP/1.1', 'GET /down HTTP/1.1', 'GET /down HTTP/1.1']);
  });

  test('GET on a new connection not sent again', async () => {
    // A server that fails on this very request, as a query of death would, gets it once.
    const server = await startClosingServer(() => undefined);
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);

    const response = await send(berth.port, { path: '/down', headers: { host: 'app.example.test' } });

    expect(response.status).toBe(502);
    expect(server.seen).toEqual(['GET /down HTTP/1.1']);
  });

  test('GET not sent again after part of a response', async () => {
    const server = await startClosingServer((_line, nth) => (nth === 1 ? OK : { sendThenClose: 'HTTP/1.1 200 OK\r\nContent-Le' }));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);

    await send(berth.port, { path: '/one', headers: { host: 'app.example.test' } });
    const partial = await send(berth.port, { path: '/two', headers: { host: 'app.example.test' } });

    expect(partial.status).toBe(502);
    expect(server.seen).toEqual(['GET /one HTTP/1.1', 'GET /two HTTP/1.1']);
  });

  test('GET sent again to the same server', async () => {
    // Round robin would pick the other server next, so the replay shows it stays with the first.
    const first = await startClosingServer((_line, nth) => (nth === 1 ? OK : undefined));
    const second = await startClosingServer(() => OK);
    running.push(first, second);
    const berth = await startInProcessBerth({ servers: [first.url, second.url] });
    running.push(berth);

    await send(berth.port, { path: '/one', headers: { host: 'app.example.test' } });
    await send(berth.port, { path: '/other', headers: { host: 'app.example.test' } });
    const replayed = await send(berth.port, { path: '/two', headers: { host: 'app.example.test' } });

    expect(replayed.status).toBe(200);
    expect(first.seen).toEqual(['GET /one HTTP/1.1', 'GET /two HTTP/1.1', 'GET /two HTTP/1.1']);
    expect(second.seen).toEqual(['GET /other HTTP/1.1']);
  });

  test('passive health check ignores a stale connection', async () => {
    const server = await startClosingServer((_line, nth) => (nth === 1 ? OK : undefined));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url], passiveHealthCheck: true });
    running.push(berth);

    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(berth.port, { path: `/s${i}`, headers: { host: 'app.example.test' } })).status);

    expect(statuses).toEqual([200, 200, 200, 200]);
  });

  test('server closing 30 ms after each response', async () => {
    // The reviewer's race: no Connection: close, and the next request arrives about as the server closes.
    const sockets = new Set<net.Socket>();
    const closer = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('data', () => {
        socket.write(OK);
        setTimeout(() => socket.end(), 30).unref();
      });
    });
    closer.listen(0, LOOPBACK);
    await once(closer, 'listening');
    running.push({
      close: async () => {
        for (const socket of sockets) socket.destroy();
        closer.close();
      },
    });
    const berth = await startInProcessBerth({ servers: [`http://${LOOPBACK}:${(closer.address() as AddressInfo).port}`] });
    running.push(berth);

    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) {
      statuses.push((await send(berth.port, { agent, headers: { host: 'app.example.test' } })).status);
      await sleep(28 + (i % 5));
    }
    agent.destroy();

    expect(statuses.filter((status) => status !== 200)).toEqual([]);
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
