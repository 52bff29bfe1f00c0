// Middlewares on the real request path: compress in front of an event stream and a JSON body, and
// forwardauth with headers when the client names their fields in Connection.
import http from 'node:http';
import { once } from 'node:events';
import zlib from 'node:zlib';

import { afterEach, describe, expect, test } from 'vitest';

import { rawValues, send, startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

const EVENT_COUNT = 3;
const EVENT_INTERVAL_MS = 1_000;
const JSON_BODY = JSON.stringify({ items: Array.from({ length: 350 }, (_, i) => ({ id: i, label: `entry ${i}` })) });

/** Starts a server with an event stream at `/events` (one event a second) and a JSON body elsewhere. */
async function compressTarget(): Promise<{ server: RunningServer; sentAt: number[] }> {
  const sentAt: number[] = [];
  const server = await startServer((request, response) => {
    if (request.url !== '/events') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON_BODY);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let count = 0;
    const timer = setInterval(() => {
      count += 1;
      sentAt.push(performance.now());
      response.write(`data: tick ${count}\n\n`);
      if (count === EVENT_COUNT) {
        clearInterval(timer);
        response.end();
      }
    }, EVENT_INTERVAL_MS);
    response.on('close', () => clearInterval(timer));
  });
  running.push(server);
  return { server, sentAt };
}

describe('compress through Berth', () => {
  test('event stream stays uncompressed and live', async () => {
    const { server, sentAt } = await compressTarget();
    const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { squeeze: { type: 'compress', options: {} } } });
    running.push(berth);

    const started = performance.now();
    const request = http.get({ host: LOOPBACK, port: berth.port, path: '/events', headers: { host: 'app.example.test', 'accept-encoding': 'gzip, br' }, agent: false });
    const [response] = (await once(request, 'response')) as [http.IncomingMessage];
    const receivedAt: number[] = [];
    response.setEncoding('utf8');
    for await (const chunk of response) {
      for (const _event of String(chunk).split('\n\n').filter((part) => part.startsWith('data:'))) receivedAt.push(performance.now());
    }

    expect(response.headers['content-encoding']).toBeUndefined();
    expect(receivedAt).toHaveLength(EVENT_COUNT);
    expect((receivedAt[0] ?? Infinity) - started).toBeLessThan(1_500);
    // Each event reaches the client soon after the server wrote it, not at the end of the stream.
    receivedAt.forEach((at, index) => {
      expect(at - (sentAt[index] ?? 0)).toBeLessThan(300);
    });
  });

  test('JSON body compressed with Vary', async () => {
    const { server } = await compressTarget();
    const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { squeeze: { type: 'compress', options: {} } } });
    running.push(berth);
    expect(Buffer.byteLength(JSON_BODY)).toBeGreaterThan(10_000);

    const request = http.get({ host: LOOPBACK, port: berth.port, path: '/data.json', headers: { host: 'app.example.test', 'accept-encoding': 'gzip, br' }, agent: false });
    const [response] = (await once(request, 'response')) as [http.IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-encoding']).toBe('br');
    expect(response.headers.vary).toBe('Accept-Encoding');
    expect(response.headers['content-length']).toBeUndefined();
    expect(body.length).toBeLessThan(Buffer.byteLength(JSON_BODY));
    expect(zlib.brotliDecompressSync(body).toString('utf8')).toBe(JSON_BODY);
  });
});

describe('forwardauth through Berth', () => {
  test('Connection cannot strip middleware headers', async () => {
    const auth = await startServer((_request, response) => {
      response.writeHead(200, { 'x-auth-user': 'alice' });
      response.end();
    });
    running.push(auth);
    const seen: string[][] = [];
    const server = await startServer((request, response) => {
      seen.push(request.rawHeaders);
      response.end('ok');
    });
    running.push(server);
    const berth = await startInProcessBerth({
      servers: [server.url.origin],
      middlewares: {
        auth: { type: 'forwardauth', options: { address: `${auth.url.origin}/verify`, authResponseHeaders: ['X-Auth-User'] } },
        proxy: { type: 'headers', options: { customrequestheaders: { 'X-From-Proxy': 'berth' } } },
      },
    });
    running.push(berth);

    const response = await send(berth.port, {
      headers: {
        host: 'app.example.test',
        connection: 'keep-alive, X-Auth-User, X-From-Proxy, X-Forwarded-For',
        'keep-alive': 'timeout=5',
        'x-auth-user': 'mallory',
        'x-from-proxy': 'client',
      },
    });

    expect(response.status).toBe(200);
    const raw = seen[0] ?? [];
    expect(rawValues(raw, 'x-auth-user')).toEqual(['alice']);
    expect(rawValues(raw, 'x-from-proxy')).toEqual(['berth']);
    expect(rawValues(raw, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(rawValues(raw, 'keep-alive')).toEqual([]);
  });

  test('rejection reaches the client', async () => {
    const auth = await startServer((_request, response) => {
      response.writeHead(403, { 'content-type': 'text/plain' });
      response.end('forbidden by auth');
    });
    running.push(auth);
    let reached = 0;
    const server = await startServer((_request, response) => {
      reached += 1;
      response.end('ok');
    });
    running.push(server);
    const berth = await startInProcessBerth({
      servers: [server.url.origin],
      middlewares: { auth: { type: 'forwardauth', options: { address: `${auth.url.origin}/verify` } } },
    });
    running.push(berth);

    const response = await send(berth.port, { headers: { host: 'app.example.test' } });

    expect(response.status).toBe(403);
    expect(response.body).toBe('forbidden by auth');
    expect(reached).toBe(0);
  });
});
