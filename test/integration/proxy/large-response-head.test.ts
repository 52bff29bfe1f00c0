// Server responses whose head is larger than 16 KiB, such as one with many Set-Cookie fields. Go's
// Transport, and so Traefik, reads response heads of up to 10 MiB, and Berth relays them too. The
// tests cover HTTP/1.1, Expect: 100-continue (another client path) and HTTP/2.
import type { ClientHttp2Session } from 'node:http2';

import { afterEach, expect, test } from 'vitest';

import { rawValues, send } from '../../proxy/harness.js';
import { connectHttp2, requestHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';
import { contentLength, splitHead, startRawServer, type RawConnection, type RawServer } from './raw.js';

const running: Array<RawServer | InProcessBerth | ClientHttp2Session> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

/** Set-Cookie values of `count` cookies of 1,500 bytes each. */
function cookies(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `c${index}=${'v'.repeat(1_500)}`);
}

/**
 * Starts a server that responds to each request with the cookies that its path names, `/cookies/N`,
 * after a `100 Continue` when the request expects one, and Berth in front of it.
 */
async function start(): Promise<InProcessBerth> {
  const answered = new WeakSet<RawConnection>();
  const continued = new WeakSet<RawConnection>();
  const server = await startRawServer((connection) => {
    const request = splitHead(connection.received);
    if (request === undefined || answered.has(connection)) return;
    if (/\r\nexpect: 100-continue/i.test(request.head) && !continued.has(connection)) {
      continued.add(connection);
      connection.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
    if (request.rest.length < contentLength(request.head)) return;

    answered.add(connection);
    const count = Number(/^\w+ \/cookies\/(\d+)/.exec(request.head)?.[1] ?? 0);
    const fields = cookies(count).map((cookie) => `Set-Cookie: ${cookie}\r\n`);
    connection.socket.write(`HTTP/1.1 200 OK\r\n${fields.join('')}Content-Length: 2\r\nConnection: close\r\n\r\nok`);
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url] });
  running.push(berth);
  return berth;
}

// node:http's client reads heads of up to 16 KiB by default.
const CLIENT_LIMIT = { maxHeaderSize: 1024 * 1024 };

test('64 KiB head over HTTP/1.1', async () => {
  const berth = await start();

  const response = await send(berth.port, { path: '/cookies/40', headers: { host: 'app.example.test' }, ...CLIENT_LIMIT });

  // Observed: 502, because undici reads heads of up to 16 KiB. Expected: the response with every cookie.
  expect(response.status).toBe(200);
  expect(rawValues(response.rawHeaders, 'set-cookie')).toEqual(cookies(40));
  expect(response.body).toBe('ok');
});

test('64 KiB head after 100 Continue', async () => {
  const berth = await start();

  const response = await send(berth.port, {
    method: 'POST',
    path: '/cookies/40',
    headers: { host: 'app.example.test', expect: '100-continue', 'content-length': '5' },
    body: 'hello',
    ...CLIENT_LIMIT,
  });

  expect(response.status).toBe(200);
  expect(rawValues(response.rawHeaders, 'set-cookie')).toEqual(cookies(40));
});

test('24 KiB head over HTTP/2', async () => {
  const berth = await start();
  const session = await connectHttp2(berth.port);
  running.push(session);

  const response = await requestHttp2(session, { ':path': '/cookies/16' });

  expect(response.status).toBe(200);
  expect(response.headers['set-cookie']).toEqual(cookies(16));
  expect(response.body).toBe('ok');
});

test('head beyond HTTP/2 limit is 502', async () => {
  const berth = await start();
  const session = await connectHttp2(berth.port);
  running.push(session);

  // 60 cookies make a header list of about 92 KiB, more than the 64 KiB block Node.js sends.
  const response = await requestHttp2(session, { ':path': '/cookies/60' });

  expect(response.status).toBe(502);
});
