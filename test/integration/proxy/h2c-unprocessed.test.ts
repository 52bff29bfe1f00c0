// Requests that an h2c server did not process (RFC 9113 §8.7): a stream refused with REFUSED_STREAM, or
// a GOAWAY whose last-stream-id is below the request's stream. They are sent again once, whatever their
// method, on a new connection to the same server, and do not count against passive health. A request
// the server did process and then reset is not sent again.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, test } from 'vitest';

import { send } from '../../proxy/harness.js';
import { startH2cServer, type SeenStream, type StreamAction } from './h2c-server.js';
import { startInProcessBerth } from './harness.js';

const running: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

const HOST = { host: 'app.example.test' };
const METHODS = ['GET', 'HEAD', 'DELETE', 'POST', 'PATCH'];

/** Sends `count` requests one after another, cycling through METHODS, and returns their statuses. */
async function sendInTurn(port: number, count: number, agent?: http.Agent): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const method = METHODS[i % METHODS.length] ?? 'GET';
    // Node.js would send an empty chunked body with POST and PATCH, which is a body all the same.
    const headers = method === 'POST' || method === 'PATCH' ? { ...HOST, 'content-length': '0' } : HOST;
    statuses.push((await send(port, { agent, method, path: `/r${i}`, headers })).status);
  }
  return statuses;
}

function retryLogs(logs: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return logs.filter((entry) => entry.msg === 'forwarding failed; trying again');
}

describe('h2c request not processed', () => {
  test('every other stream refused', async () => {
    // Before the fix, each refused stream got a 502.
    let count = 0;
    const server = await startH2cServer(() => (++count % 2 === 0 ? 'refuse' : 'respond'));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);

    const statuses = await sendInTurn(berth.port, 20);

    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(server.responded.map((stream) => stream.path)).toEqual(statuses.map((_, i) => `/r${i}`));
    const refused = server.seen.length - server.responded.length;
    expect(refused).toBeGreaterThanOrEqual(9);
    const retries = retryLogs(berth.logs());
    expect(retries.length).toBe(refused);
    expect(retries.every((entry) => entry.level === 20)).toBe(true);
  });

  test('GOAWAY below the request stream', async () => {
    // Before the fix, the request on stream 3 got a 502 although the GOAWAY's last-stream-id was 1.
    const server = await startH2cServer((stream) => (stream.id === 1 ? 'respond' : 'goaway-below'));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);

    const statuses = await sendInTurn(berth.port, 10);

    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(server.responded.map((stream) => stream.path)).toEqual(statuses.map((_, i) => `/r${i}`));
    expect(server.seen.some((stream) => stream.id > 1)).toBe(true);
    expect(retryLogs(berth.logs()).length).toBe(server.seen.length - server.responded.length);
  });

  test('refused again on a new connection', async () => {
    const refusing = await startH2cServer(() => 'refuse');
    const healthy = await startH2cServer(() => 'respond');
    running.push(refusing, healthy);

    const alone = await startInProcessBerth({ servers: [refusing.url] });
    running.push(alone);
    const response = await send(alone.port, { path: '/once', headers: HOST });
    expect(response.status).toBe(502);
    // The request and one replay on a new connection.
    expect(refusing.seen.map((stream) => stream.path)).toEqual(['/once', '/once']);
    expect(refusing.sessions()).toBe(2);

    const paired = await startInProcessBerth({ servers: [refusing.url, healthy.url] });
    running.push(paired);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(paired.port, { method: 'POST', path: `/p${i}`, headers: { ...HOST, 'content-length': '0' } })).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(healthy.responded.map((stream) => stream.path)).toEqual(['/p0', '/p1', '/p2', '/p3']);
  });

  test('passive health ignores refused streams', async () => {
    // One counted failure takes the server out with the default passive health check.
    let count = 0;
    const server = await startH2cServer(() => (++count % 2 === 0 ? 'refuse' : 'respond'));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url], passiveHealthCheck: true });
    running.push(berth);

    expect(await sendInTurn(berth.port, 10)).toEqual(Array.from({ length: 10 }, () => 200));
  });

  test('refused POST with a body not replayed', async () => {
    // undici reads from the body as soon as it opens the stream, so the body may be partly consumed.
    let count = 0;
    const server = await startH2cServer(() => (++count === 2 ? 'refuse' : 'respond'));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);

    expect((await send(berth.port, { path: '/warm', headers: HOST })).status).toBe(200);
    const response = await send(berth.port, { method: 'POST', path: '/upload', headers: HOST, body: 'payload' });

    expect(response.status).toBe(502);
    expect(server.seen.map((stream) => stream.path)).toEqual(['/warm', '/upload']);
  });

  test('INTERNAL_ERROR after the header not replayed', async () => {
    const actions: Record<string, StreamAction> = { '/warm': 'respond', '/broken': 'internal-error' };
    const server = await startH2cServer((stream: SeenStream) => actions[stream.path] ?? 'respond');
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);

    expect((await send(berth.port, { path: '/warm', headers: HOST })).status).toBe(200);
    const response = await send(berth.port, { path: '/broken', headers: HOST });

    expect(response.status).toBe(502);
    expect(server.seen.map((stream) => stream.path)).toEqual(['/warm', '/broken']);
    expect(retryLogs(berth.logs())).toEqual([]);
  });
});

describe('h2c session closed when idle', () => {
  test.each([
    { close: 'GOAWAY', abrupt: false },
    { close: 'abrupt close', abrupt: true },
  ])('requests spaced around idle time: $close', { timeout: 30_000 }, async ({ abrupt }) => {
    // Before the fix, a request sent as the server closed its idle session got a 502.
    const idleMs = 100;
    const server = await startH2cServer(() => 'respond', { idleCloseMs: idleMs, abrupt });
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url], forwarder: { idleTimeoutMs: 10_000 } });
    running.push(berth);

    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      await sleep(idleMs - 4 + (i % 8));
      statuses.push((await send(berth.port, { path: `/i${i}`, headers: HOST })).status);
    }

    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(server.responded.length).toBe(60);
  });
});
