// WebSocket through the entry point, over plain HTTP and over TLS (ALPN http/1.1), with the tunnel
// surviving longer than the entry point's idle and read timeouts.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';

import { afterEach, expect, test } from 'vitest';

import { readUntil, startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

async function echoBerth(timeoutsMs: number): Promise<{ berth: InProcessBerth; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = await startServer((_request, response) => response.writeHead(426).end());
  server.server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
    seen.push(request.headers);
    const accept = createHash('sha1').update(`${request.headers['sec-websocket-key'] ?? ''}${WEBSOCKET_GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.pipe(socket);
  });
  running.push(server);
  const berth = await startInProcessBerth({
    servers: [server.url.origin],
    entryPoint: { timeouts: { readTimeoutMs: timeoutsMs, writeTimeoutMs: timeoutsMs, idleTimeoutMs: timeoutsMs } },
  });
  running.push(berth);
  return { berth, seen };
}

const HANDSHAKE =
  'GET /chat HTTP/1.1\r\nHost: app.example.test\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/** Performs the handshake, then checks that bytes echo before and after a pause of `pauseMs`. */
async function exerciseTunnel(socket: net.Socket, pauseMs: number): Promise<string> {
  socket.write(HANDSHAKE);
  const head = await readUntil(socket, '\r\n\r\n');
  socket.write('ping-1');
  await readUntil(socket, 'ping-1');
  await sleep(pauseMs);
  socket.write('ping-2');
  await readUntil(socket, 'ping-2');
  return head;
}

test('tunnel outlives entry point timeouts', async () => {
  const { berth, seen } = await echoBerth(300);
  const socket = net.connect(berth.port, LOOPBACK);

  const head = await exerciseTunnel(socket, 1_000);

  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  expect(head).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  expect(seen[0]?.['x-forwarded-proto']).toBe('ws');
  socket.destroy();
});

test('wss over TLS', async () => {
  const { berth, seen } = await echoBerth(60_000);
  const socket = tls.connect({ host: LOOPBACK, port: berth.port, rejectUnauthorized: false, servername: 'app.example.test', ALPNProtocols: ['http/1.1'] });
  await once(socket, 'secureConnect');

  const head = await exerciseTunnel(socket, 50);

  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  expect(seen[0]?.['x-forwarded-proto']).toBe('wss');
  socket.destroy();
});

// Observed: a client that ended its side (FIN) while the server was still preparing its 101 kept the
// request to the server open until the server responded, because nothing read the client's socket.
// Expected: the request to the server is aborted as the client leaves, and 499 is logged.
test('client leaving before 101 aborts request', async () => {
  let serverSocketClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (serverSocketClosed = resolve));
  const server = await startServer((_request, response) => response.writeHead(426).end());
  server.server.on('upgrade', (_request: IncomingMessage, socket: Duplex) => {
    // Read, so that the server receives the end of the connection from Berth. node:http servers allow
    // half-open sockets, so an upgraded socket emits 'end' and stays open.
    socket.resume();
    socket.on('end', () => {
      serverSocketClosed();
      socket.destroy();
    });
    socket.on('error', () => undefined);
    setTimeout(() => socket.destroyed || socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'), 3_000).unref();
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);

  const socket = net.connect(berth.port, LOOPBACK);
  socket.on('error', () => undefined);
  socket.write(HANDSHAKE);
  await sleep(200);
  socket.end();

  const outcome = await Promise.race([closed.then(() => 'aborted' as const), sleep(2_000).then(() => 'still open' as const)]);
  expect(outcome).toBe('aborted');
  await sleep(50);
  expect(berth.logs().some((entry) => entry.status === 499)).toBe(true);
});
