// forwardauth in front of requests whose client fields undici cannot send: an upload with
// `Expect: 100-continue` (curl's default for bodies over 1 KiB) and a WebSocket upgrade. Before the
// fix both got 500 without the authentication server being contacted, because the auth GET copied
// Expect, Upgrade and `Connection: upgrade` and undici's request() threw on them.
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';

import { afterEach, describe, expect, test } from 'vitest';

import { readUntil, startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

interface Setup {
  berth: InProcessBerth;
  /** Headers of each request the authentication server received. */
  authSeen: IncomingHttpHeaders[];
  /** Headers of each request or upgrade the application server received. */
  appSeen: IncomingHttpHeaders[];
}

/** Starts an authentication server that allows everything, an application server that also accepts upgrades, and Berth. */
async function setUp(): Promise<Setup> {
  const authSeen: IncomingHttpHeaders[] = [];
  const auth = await startServer((request, response) => {
    authSeen.push(request.headers);
    response.writeHead(200, { 'x-auth-user': 'alice' });
    response.end();
  });
  running.push(auth);

  const appSeen: IncomingHttpHeaders[] = [];
  const app = await startServer((request, response) => {
    appSeen.push(request.headers);
    request.resume();
    request.on('end', () => response.end('stored'));
  });
  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
    appSeen.push(request.headers);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.pipe(socket);
  });
  running.push(app);

  const berth = await startInProcessBerth({
    servers: [app.url.origin],
    middlewares: { auth: { type: 'forwardauth', options: { address: `${auth.url.origin}/verify`, authResponseHeaders: ['X-Auth-User'] } } },
  });
  running.push(berth);
  return { berth, authSeen, appSeen };
}

describe('forwardauth hop-by-hop fields', () => {
  test('upload with Expect passes auth', async () => {
    const { berth, authSeen, appSeen } = await setUp();
    const socket = net.connect(berth.port, LOOPBACK);
    await once(socket, 'connect');

    socket.write('POST /upload HTTP/1.1\r\nHost: app.example.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    const interim = await readUntil(socket, '\r\n\r\n');
    expect(interim).toMatch(/^HTTP\/1\.1 100 /);
    socket.write('hello');
    const final = await readUntil(socket, 'stored');
    socket.destroy();

    expect(final).toMatch(/HTTP\/1\.1 200 /);
    expect(authSeen).toHaveLength(1);
    expect(authSeen[0]?.expect).toBeUndefined();
    expect(authSeen[0]?.['x-forwarded-method']).toBe('POST');
    expect(appSeen[0]?.['x-auth-user']).toBe('alice');
  });

  test('WebSocket upgrade passes auth', async () => {
    const { berth, authSeen, appSeen } = await setUp();
    const socket = net.connect(berth.port, LOOPBACK);
    await once(socket, 'connect');

    socket.write(
      'GET /chat HTTP/1.1\r\nHost: app.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    const head = await readUntil(socket, '\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    socket.write('ping');
    await readUntil(socket, 'ping');
    socket.destroy();

    expect(authSeen).toHaveLength(1);
    expect(authSeen[0]?.upgrade).toBeUndefined();
    expect(authSeen[0]?.connection).not.toMatch(/upgrade/i);
    expect(authSeen[0]?.['sec-websocket-key']).toBe('dGhlIHNhbXBsZSBub25jZQ==');
    expect(appSeen[0]?.upgrade).toBe('websocket');
    expect(appSeen[0]?.['x-auth-user']).toBe('alice');
  });
});
