// The GOAWAY that keepAliveMaxRequests and keepAliveMaxTime send on HTTP/2: streams the client opened
// together with the one that reached the limit are still served, and none is refused.
import type { ClientHttp2Session } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, expect, test } from 'vitest';

import { startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth | ClientHttp2Session> = [];

afterEach(async () => {
  for (const item of running.splice(0).reverse()) {
    if ('request' in item) item.destroy();
    else await item.close();
  }
});

/** Starts Berth with the keep-alive limits, in front of a server that responds `ok` after `?ms=` milliseconds. */
async function berthWithLimits(maxRequests: number, maxTimeMs: number): Promise<InProcessBerth> {
  const server = await startServer((request, response) => {
    const delayMs = Number(new URL(request.url ?? '/', 'http://a.test').searchParams.get('ms') ?? 0);
    setTimeout(() => response.end('ok'), delayMs);
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url.origin], entryPoint: { keepAlive: { maxRequests, maxTimeMs }, http2: { maxConcurrentStreams: 250, h2c: true } } });
  running.push(berth);
  return berth;
}

/** Sends a GET on `session` and returns its status, or the error code with the stream's reset code. */
function statusOf(session: ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve) => {
    const stream = session.request({ ':authority': 'app.example.test', ':path': path });
    let status = '';
    stream.on('response', (headers) => (status = String(headers[':status'])));
    stream.resume();
    stream.on('end', () => resolve(status));
    stream.on('error', (error: NodeJS.ErrnoException) => resolve(`${error.code ?? 'error'} (reset ${stream.rstCode ?? '-'})`));
  });
}

// Observed: with TLS, 7 of the 10 streams got RST_STREAM REFUSED_STREAM. The GOAWAY went out as the third
// stream started, before the HEADERS frames of the others, already received, had been read.
// Expected: all 10 get 200, as the client sent them all before any GOAWAY.
test('concurrent streams survive maxRequests', async () => {
  const berth = await berthWithLimits(3, 0);
  const session = await connectHttp2(berth.port);
  running.push(session);

  const statuses = await Promise.all(Array.from({ length: 10 }, (_, index) => statusOf(session, `/${index}?ms=${index * 20}`)));

  expect(statuses).toEqual(Array.from({ length: 10 }, () => '200'));
});

// Observed: the second of two streams sent together on an h2c session older than keepAliveMaxTime got
// REFUSED_STREAM. Expected: both get 200, and the session then closes.
test('streams sent together survive maxTime', async () => {
  const berth = await berthWithLimits(0, 300);
  const session = await connectHttp2(berth.port, { h2c: true });
  running.push(session);
  expect(await statusOf(session, '/first')).toBe('200');
  await sleep(400);

  const statuses = await Promise.all([statusOf(session, '/slow?ms=300'), statusOf(session, '/quick')]);

  expect(statuses).toEqual(['200', '200']);
  await sleep(100);
  expect(session.closed || session.destroyed).toBe(true);
});
