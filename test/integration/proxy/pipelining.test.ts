// HTTP/1.1 pipelining through a real entry point: requests sent back to back on one connection
// reach the server one at a time and their responses come back in order. A request still waiting
// when a graceful shutdown ends the connection never reaches the server. An upgrade or a malformed
// request behind waiting ones takes its turn too, and a tunnel reads the client even after a pause.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, expect, test, vi } from 'vitest';

import { MAX_WAITING_REQUESTS, PAUSE_AT_WAITING_REQUESTS } from '../../../src/entrypoints/pipeline.js';
import { startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';
import { RawClient } from './raw.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

/** Starts a server that responds after `delayMs` and records each path and the most requests it had at once. */
async function slowServer(delayMs: number): Promise<{ server: RunningServer; paths: string[]; maxConcurrent: () => number }> {
  const paths: string[] = [];
  let current = 0;
  let max = 0;
  const server = await startServer((request, response) => {
    paths.push(request.url ?? '');
    current += 1;
    max = Math.max(max, current);
    request.resume();
    setTimeout(() => {
      current -= 1;
      response.end(`body of ${request.url ?? ''}\n`);
    }, delayMs).unref();
  });
  running.push(server);
  return { server, paths, maxConcurrent: () => max };
}

function pipelined(paths: string[]): string {
  return paths.map((path) => `GET ${path} HTTP/1.1\r\nHost: app.example.test\r\n\r\n`).join('');
}

/** Opens a connection, writes `bytes` at once and collects what comes back until `done` returns true or the connection closes. */
async function exchange(port: number, bytes: string, done: (received: string) => boolean, timeoutMs = 5_000): Promise<{ received: string; closed: boolean }> {
  const socket = net.connect(port, LOOPBACK);
  await once(socket, 'connect');
  let received = '';
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.write(bytes);
  const deadline = Date.now() + timeoutMs;
  while (!closed && !done(received) && Date.now() < deadline) await sleep(10);
  socket.destroy();
  return { received, closed };
}

function bodies(received: string): string[] {
  return [...received.matchAll(/body of (\/\w+)\n/g)].map((match) => match[1] ?? '');
}

test('pipelined requests reach the server one at a time', async () => {
  const { server, paths, maxConcurrent } = await slowServer(50);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const sent = ['/a', '/b', '/c', '/d', '/e'];

  const { received } = await exchange(berth.port, pipelined(sent), (text) => bodies(text).length === sent.length);

  expect(bodies(received)).toEqual(sent);
  expect(paths).toEqual(sent);
  expect(maxConcurrent()).toBe(1);
});

test('rejected request ends the pipeline', async () => {
  const { server, paths } = await slowServer(100);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const twoHosts = 'GET /b HTTP/1.1\r\nHost: app.example.test\r\nHost: other.example.test\r\n\r\n';

  const { received, closed } = await exchange(berth.port, `${pipelined(['/a'])}${twoHosts}${pipelined(['/c'])}`, () => false);

  expect(bodies(received)).toEqual(['/a']);
  expect(received).toMatch(/HTTP\/1\.1 400 /);
  expect(closed).toBe(true);
  expect(paths).toEqual(['/a']);
});

test('malformed request answered after the one before', async () => {
  const { server, paths } = await slowServer(200);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const twoLengths = 'POST /b HTTP/1.1\r\nHost: app.example.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!';

  const { received, closed } = await exchange(berth.port, `${pipelined(['/a'])}${twoLengths}`, () => false);

  expect(received).toMatch(/^HTTP\/1\.1 200 /);
  expect(bodies(received)).toEqual(['/a']);
  expect(received.indexOf('HTTP/1.1 400 ')).toBeGreaterThan(received.indexOf('body of /a'));
  expect(closed).toBe(true);
  expect(paths).toEqual(['/a']);
});

test('pipelined upgrade waits for the response before it', async () => {
  // The server has no upgrade support, so it responds to the upgrade request as to an ordinary one.
  const { server, paths } = await slowServer(200);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const upgrade = 'GET /ws HTTP/1.1\r\nHost: app.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';

  const { received } = await exchange(berth.port, `${pipelined(['/a'])}${upgrade}`, (text) => bodies(text).length === 2);

  expect(bodies(received)).toEqual(['/a', '/ws']);
  expect(paths).toEqual(['/a', '/ws']);
  expect(berth.logs().filter((line) => line.msg === 'upgrade handler failed')).toEqual([]);
});

test('40 requests in one write served', async () => {
  const { server, paths } = await slowServer(0);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const sent = Array.from({ length: 40 }, (_, index) => `/r${index}`);

  const { received } = await exchange(berth.port, pipelined(sent), (text) => bodies(text).length === sent.length);

  expect(bodies(received)).toEqual(sent);
  expect(paths).toEqual(sent);
});

test('requests beyond the limit dropped', async () => {
  const { server, paths } = await slowServer(0);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  // One served at once, MAX_WAITING_REQUESTS waiting, and 10 more, all in one write.
  const sent = Array.from({ length: MAX_WAITING_REQUESTS + 11 }, (_, index) => `/r${index}`);
  const kept = sent.slice(0, MAX_WAITING_REQUESTS + 1);

  const { received, closed } = await exchange(berth.port, pipelined(sent), () => false, 10_000);

  expect(closed).toBe(true);
  expect(bodies(received)).toEqual(kept);
  expect(paths).toEqual(kept);
  const lastResponse = received.slice(received.lastIndexOf('HTTP/1.1 '));
  expect(lastResponse).toMatch(/\r\nconnection: close\r\n/i);
});

test('shutdown drops waiting requests unsent', async () => {
  const { server, paths } = await slowServer(300);
  // Closed by the test itself, because a closed forwarder cannot be closed again.
  const berth = await startInProcessBerth({ servers: [server.url.origin] });

  const exchanged = exchange(berth.port, pipelined(['/first', '/second']), () => false);
  await sleep(100);
  const closed = berth.close(5_000);
  const { received, closed: connectionClosed } = await exchanged;
  await closed;

  expect(bodies(received)).toEqual(['/first']);
  expect(received).toMatch(/connection: close/i);
  expect(connectionClosed).toBe(true);
  expect(paths).toEqual(['/first']);
});

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HANDSHAKE =
  'GET /chat HTTP/1.1\r\nHost: app.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/**
 * Starts a server that responds to a plain GET with `body` and accepts WebSocket upgrades, echoing
 * the bytes, and records each tunnel's socket.
 */
async function websocketServer(body: string | Buffer = 'ok'): Promise<{ server: RunningServer; tunnels: Duplex[] }> {
  const tunnels: Duplex[] = [];
  const server = await startServer((_request, response) => response.end(body));
  server.server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
    tunnels.push(socket);
    socket.on('error', () => undefined);
    const accept = createHash('sha1').update(`${request.headers['sec-websocket-key'] ?? ''}${WEBSOCKET_GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.pipe(socket);
  });
  running.push(server);
  return { server, tunnels };
}

// More waiting requests than PAUSE_AT_WAITING_REQUESTS make the pipeline stop reading the connection
// before node:http parses the upgrade request, and the tunnel must read it again.
const PAUSING = Array.from({ length: PAUSE_AT_WAITING_REQUESTS + 1 }, (_, index) => `/r${index}`);

test('upgrade behind paused pipeline relays data', async () => {
  const { server } = await websocketServer();
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const client = await RawClient.connect(berth.port);

  client.write(`${pipelined(PAUSING)}${HANDSHAKE}`);
  await client.waitFor(/HTTP\/1\.1 101 /);
  client.write('sent after the 101');

  await client.waitFor(/\r\n\r\nsent after the 101$/);
  client.close();
});

test('upgrade behind a large response', async () => {
  // The response before the upgrade fills the socket's buffer, so it waits for 'drain', which node:http
  // stops passing on once it hands the socket to the upgrade.
  const big = Buffer.alloc(4 * 1024 * 1024, 'b');
  const { server } = await websocketServer(big);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const client = await RawClient.connect(berth.port);

  client.write(`${pipelined(['/big'])}${HANDSHAKE}`);
  await client.waitFor(/HTTP\/1\.1 101 /, 10_000);
  client.write('sent after the 101');
  await client.waitFor(/\r\n\r\nsent after the 101$/);

  expect(client.received.indexOf('HTTP/1.1 101 ')).toBeGreaterThan(big.length);
  client.close();
});

test('upgrade behind paused pipeline over TLS', async () => {
  const { server } = await websocketServer();
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const socket = tls.connect({ host: LOOPBACK, port: berth.port, servername: 'app.example.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  socket.on('error', () => undefined);
  await once(socket, 'secureConnect');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));

  socket.write(`${pipelined(PAUSING)}${HANDSHAKE}`);
  await vi.waitFor(() => expect(received).toMatch(/HTTP\/1\.1 101 /), { timeout: 5_000 });
  socket.write('sent after the 101');

  await vi.waitFor(() => expect(received).toMatch(/\r\n\r\nsent after the 101$/), { timeout: 5_000 });
  socket.destroy();
});

test('upgrade behind paused pipeline closes with client', async () => {
  const { server, tunnels } = await websocketServer();
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const client = await RawClient.connect(berth.port);

  client.write(`${pipelined(PAUSING)}${HANDSHAKE}`);
  await client.waitFor(/HTTP\/1\.1 101 /);
  client.socket.end();
  await client.waitForClose();

  const tunnel = tunnels[0];
  expect(tunnel).toBeDefined();
  if (tunnel !== undefined && !tunnel.destroyed) await once(tunnel, 'close');
});

test('malformed request answered after waiting ones', async () => {
  const { server, paths } = await slowServer(200);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const badLength = 'GET /third HTTP/1.1\r\nHost: app.example.test\r\nContent-Length: abc\r\n\r\n';

  const { received, closed } = await exchange(berth.port, `${pipelined(['/slow', '/second'])}${badLength}`, () => false);

  expect(bodies(received)).toEqual(['/slow', '/second']);
  expect(received.indexOf('HTTP/1.1 400 ')).toBeGreaterThan(received.indexOf('body of /second'));
  expect(closed).toBe(true);
  expect(paths).toEqual(['/slow', '/second']);
});

test('HTTP/1.0 without Host answered in order', async () => {
  const { server, paths } = await slowServer(200);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);

  // Without keep-alive, the response to the HTTP/1.0 request closes the connection.
  const { received, closed } = await exchange(berth.port, `${pipelined(['/slow', '/second'])}GET /third HTTP/1.0\r\n\r\n`, () => false);

  expect(closed).toBe(true);
  const statusLines = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => match.index);
  expect(statusLines).toHaveLength(3);
  expect(bodies(received).slice(0, 2)).toEqual(['/slow', '/second']);
  // Whether Berth forwards the request or rejects it, its response comes after the other two.
  expect(statusLines[2]).toBeGreaterThan(received.indexOf('body of /second'));
  expect(paths.slice(0, 2)).toEqual(['/slow', '/second']);
});

test('malformed request behind paused pipeline closes', async () => {
  const { server, paths } = await slowServer(0);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const client = await RawClient.connect(berth.port);

  client.write(`${pipelined(PAUSING)}GET /bad HTTP/1.1\r\nHost: app.example.test\r\nContent-Length: abc\r\n\r\n`);
  await client.waitFor(/HTTP\/1\.1 400 /);
  await client.waitForClose();

  expect(bodies(client.received)).toEqual(PAUSING);
  expect(paths).toEqual(PAUSING);
  // A connection that Berth still held open would make a graceful close wait for the whole grace period.
  const started = Date.now();
  await berth.close(3_000);
  running.splice(running.indexOf(berth), 1);
  expect(Date.now() - started).toBeLessThan(1_000);
});

test('bad body of waiting request dropped', async () => {
  const { server, paths } = await slowServer(200);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const badChunk = 'POST /b HTTP/1.1\r\nHost: app.example.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n';

  const { received, closed } = await exchange(berth.port, `${pipelined(['/slow'])}${badChunk}`, () => false);

  expect(bodies(received)).toEqual(['/slow']);
  expect(received.indexOf('HTTP/1.1 400 ')).toBeGreaterThan(received.indexOf('body of /slow'));
  expect(closed).toBe(true);
  expect(paths).toEqual(['/slow']);
});

test('bad body of served request answered at once', async () => {
  // The server reads the whole body before it responds, so its response never comes.
  const server = await startServer((request, response) => {
    request.resume();
    request.on('end', () => response.end('read\n'));
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const client = await RawClient.connect(berth.port);

  client.write('POST /b HTTP/1.1\r\nHost: app.example.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
  await sleep(100);
  client.write('zz\r\n');

  await client.waitFor(/^HTTP\/1\.1 400 /, 2_000);
  await client.waitForClose(2_000);
});
