// Traefik v3's `transport.keepAliveMaxRequests` and `keepAliveMaxTime`: a client connection closes after
// that many requests, or after the first request that starts once it is that old. HTTP/1.1 gets
// `Connection: close` and a closed connection, HTTP/2 a GOAWAY that lets the open streams finish.
import { once } from 'node:events';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';

import { loadStaticConfig } from '../../src/config/index.js';
import { listenerSettings } from '../../src/entrypoints/from-config.js';
import { EntryPoint } from '../../src/entrypoints/server.js';

let entryPoint: EntryPoint | undefined;

afterEach(async () => {
  await entryPoint?.close(0);
  entryPoint = undefined;
});

/**
 * Sends `count` pipelined requests on one connection, the last after `pauseMs`. Returns what was read, and
 * whether the server closed the connection, once it closes or 100 ms after all responses are in. Idle
 * connections never time out in these tests.
 */
async function pipelined(port: number, count: number, pauseMs = 0): Promise<{ text: string; closedByServer: boolean }> {
  const socket = connect(port, '127.0.0.1');
  const request = 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n';
  socket.write(request.repeat(count - 1));
  if (pauseMs > 0) await sleep(pauseMs);
  socket.write(request);
  let text = '';
  socket.setEncoding('utf8');
  return new Promise((resolve) => {
    const onData = (chunk: string): void => {
      text += chunk;
      if (text.split('ok').length > count) {
        // A server that closes the connection after the last response does so within this time.
        setTimeout(() => {
          resolve({ text, closedByServer: false });
          socket.destroy();
        }, 100);
      }
    };
    socket.on('data', onData);
    socket.on('end', () => resolve({ text, closedByServer: true }));
  });
}

async function start(keepAlive: { maxRequests?: number; maxTimeMs?: number }): Promise<number> {
  entryPoint = new EntryPoint({
    name: 'web',
    address: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    keepAlive: { maxRequests: keepAlive.maxRequests ?? 0, maxTimeMs: keepAlive.maxTimeMs ?? 0 },
    timeouts: { idleTimeoutMs: 0 },
    http2: { maxConcurrentStreams: 100, h2c: true },
    handler: (_request, response) => {
      response.end('ok');
    },
  });
  return (await entryPoint.listen()).port;
}

/** Sends GET requests one after another on one h2c session; returns the statuses and whether a GOAWAY came. */
async function http2Requests(port: number, count: number, pauseMs = 0): Promise<{ statuses: number[]; goaway: boolean }> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  let goaway = false;
  session.on('goaway', () => (goaway = true));
  session.on('error', () => undefined);
  const statuses: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      if (i === count - 1 && pauseMs > 0) await sleep(pauseMs);
      const stream = session.request({ ':path': '/', ':authority': 'a.test' });
      const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
      stream.resume();
      await once(stream, 'end');
      statuses.push(Number(headers[':status']));
    }
    // The GOAWAY frame may arrive just after the last response.
    await sleep(50);
  } finally {
    session.destroy();
  }
  return { statuses, goaway };
}

describe('keepAliveMaxRequests', () => {
  test('limit of two closes after second', async () => {
    const { text, closedByServer } = await pipelined(await start({ maxRequests: 2 }), 3);

    expect(text.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(closedByServer).toBe(true);
  });

  test('zero sets no limit', async () => {
    const { text, closedByServer } = await pipelined(await start({}), 3);

    expect(text.match(/HTTP\/1\.1 200/g)).toHaveLength(3);
    expect(closedByServer).toBe(false);
  });

  test('HTTP/2 session gets GOAWAY', async () => {
    const port = await start({ maxRequests: 2 });

    expect(await http2Requests(port, 1)).toEqual({ statuses: [200], goaway: false });
    expect(await http2Requests(port, 2)).toEqual({ statuses: [200, 200], goaway: true });
  });

  test('option read from flags', async () => {
    const config = await loadStaticConfig({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.transport.keepalivemaxrequests=5'], env: {}, cwd: process.cwd(), isTTY: false });

    expect(listenerSettings(config.entryPoints.web!).keepAlive?.maxRequests).toBe(5);
  });

  test('negative count rejected', async () => {
    const load = loadStaticConfig({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.transport.keepalivemaxrequests=-1'], env: {}, cwd: process.cwd(), isTTY: false });

    await expect(load).rejects.toThrow('the value must be a whole number from 0 to');
  });
});

describe('keepAliveMaxTime', () => {
  test('young connection stays open', async () => {
    const { text, closedByServer } = await pipelined(await start({ maxTimeMs: 5_000 }), 3);

    expect(text.match(/HTTP\/1\.1 200/g)).toHaveLength(3);
    expect(closedByServer).toBe(false);
  });

  test('old connection closes after next request', async () => {
    const { text, closedByServer } = await pipelined(await start({ maxTimeMs: 200 }), 2, 400);

    expect(text.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(text.toLowerCase().split('connection: close')).toHaveLength(2);
    expect(closedByServer).toBe(true);
  });

  test('old HTTP/2 session gets GOAWAY', async () => {
    const port = await start({ maxTimeMs: 200 });

    expect(await http2Requests(port, 2)).toEqual({ statuses: [200, 200], goaway: false });
    expect(await http2Requests(port, 2, 400)).toEqual({ statuses: [200, 200], goaway: true });
  });

  test('option read from flags', async () => {
    const config = await loadStaticConfig({ argv: ['--entrypoints.web.address=:80', '--entrypoints.web.transport.keepalivemaxtime=10s'], env: {}, cwd: process.cwd(), isTTY: false });

    expect(listenerSettings(config.entryPoints.web!).keepAlive?.maxTimeMs).toBe(10_000);
  });
});
