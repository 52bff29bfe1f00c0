// Middlewares at their edges through a real entry point: upgrades, floods, servers failing mid-body.
// Each comment records, as "Observed", the fault a review found before the fix, and as "Expected",
// what the test now holds.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import bcrypt from 'bcryptjs';
import { afterEach, expect, test } from 'vitest';

import { closedPort, readUntil, send, sendRaw, startServer, type RunningServer } from '../../proxy/harness.js';
import { startBerthChild } from './child.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HANDSHAKE =
  'GET /chat HTTP/1.1\r\nHost: app.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/**
 * Starts a server that responds 200 to a plain GET and accepts WebSocket upgrades, echoing the bytes.
 * `extraFields` are header lines, each ending in CRLF, added to its 101.
 */
async function websocketServer(extraFields = ''): Promise<RunningServer> {
  const server = await startServer((_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  server.server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
    const accept = createHash('sha1').update(`${request.headers['sec-websocket-key'] ?? ''}${WEBSOCKET_GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extraFields}\r\n`);
    socket.pipe(socket);
  });
  running.push(server);
  return server;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

// Observed: 429 Too Many Requests for every later request of the host, forever. The upgrade
// path detaches the socket from the ServerResponse, so the 'close' event that inFlightReq waits
// for never comes, and `writableEnded`/`destroyed` stay false after the tunnel closed.
// Expected (Traefik releases the slot when ServeHTTP returns): the slot is free once the tunnel
// is closed, and the next request gets 200. With the default source (Host), `amount` WebSocket
// sessions lock every client out of that host.
test('inFlightReq frees closed WebSocket slot', async () => {
  const server = await websocketServer();
  const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { limit: { type: 'inflightreq', options: { amount: 1 } } } });
  running.push(berth);

  const socket = net.connect(berth.port, LOOPBACK);
  socket.write(HANDSHAKE);
  expect((await readUntil(socket, '\r\n\r\n')).split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
  socket.destroy();
  await sleep(300);

  const after = await send(berth.port, { headers: { host: 'app.example.test' } });
  expect(after.status).toBe(200);
});

// Observed: 429 for every later request. An upgrade request that the server rejects with a plain
// 403 (no tunnel) keeps its inFlightReq slot too. So anyone can exhaust a host's slots by sending
// `amount` requests with `Upgrade: websocket` to a path that rejects them.
// Expected: the slot is freed once the 403 was relayed, and the next request gets 200.
test('inFlightReq frees rejected upgrade slot', async () => {
  const server = await startServer((request, response) => {
    if (request.headers.upgrade === undefined) response.end('ok');
    else response.writeHead(403, { 'content-length': '2' }).end('no');
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { limit: { type: 'inflightreq', options: { amount: 1 } } } });
  running.push(berth);

  const socket = net.connect(berth.port, LOOPBACK);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(HANDSHAKE);
  await once(socket, 'close');
  expect(Buffer.concat(chunks).toString('latin1').split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
  await sleep(200);

  // A plain request on another path of the same host.
  const after = await send(berth.port, { path: '/other', headers: { host: 'app.example.test' } });
  expect(after.status).toBe(200);
});

// Observed: the berth-buffer-* temporary file stays in the temp folder after the client went
// away (and after Berth's entry point closed). `written()` stops waiting on the response's
// 'close', but the spool of the held response is disposed of only by `flush`, which never runs
// because the server's response never ended. Each such request leaves up to the whole response
// body on disk.
// Expected: the temporary file is removed once the client has gone away, as oxy's buffer does
// when the request ends.
test('buffering removes temp file after client leaves', async () => {
  // A temp folder of its own, because unit tests running beside this file spool bodies too.
  const folder = mkdtempSync(join(tmpdir(), 'berth-edges-'));
  const savedTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = folder;
  const ours = (): string[] => readdirSync(folder).filter((name) => name.startsWith('berth-buffer-'));
  const server = await startServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    // More than memResponseBodyBytes, so the body goes to a file; the response never ends.
    response.write(Buffer.alloc(64 * 1024, 1));
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { hold: { type: 'buffering', options: { memResponseBodyBytes: 1024 } } } });
  running.push(berth);

  const request = http.get({ host: LOOPBACK, port: berth.port, path: '/', headers: { host: 'app.example.test' }, agent: false });
  request.on('error', () => undefined);
  try {
    await sleep(500);
    expect(ours()).toHaveLength(1);
    request.destroy();
    await sleep(1_000);
    expect(ours()).toEqual([]);
  } finally {
    request.destroy();
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    rmSync(folder, { recursive: true, force: true });
  }
});

// Observed: 1.4 to 1.6 s in three runs on 2 shared cores for a request whose credentials are already in the
// verified cache, against about 3 ms without the flood. bcryptjs runs on the event loop in slices of
// up to 100 ms, and all pending checks run their slice in each turn of the loop, so 20 wrong
// guesses stall every request on every router of the process. Nothing bounds the number of
// checks running at once.
// Expected: 20 concurrent wrong passwords (cost 10) do not delay unrelated requests by more than
// a fraction of a second, as in Traefik, where bcrypt runs in goroutines on all cores. For example,
// run checks in a worker thread, or limit the checks running at once.
test('basicAuth wrong-password flood stalls nothing', async () => {
  const server = await startServer((_request, response) => response.end('ok'));
  running.push(server);
  const hash = bcrypt.hashSync('secret', 10);
  const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { auth: { type: 'basicauth', options: { users: [`alice:${hash}`] } } } });
  running.push(berth);

  // The first success is remembered, so the measured request runs no bcrypt.
  expect((await send(berth.port, { headers: { host: 'app.example.test', authorization: basic('alice', 'secret') } })).status).toBe(200);

  const flood = Array.from({ length: 20 }, (_, i) => send(berth.port, { headers: { host: 'app.example.test', authorization: basic('mallory', `guess-${i}`) } }));
  await sleep(50);
  const started = performance.now();
  const cached = await send(berth.port, { headers: { host: 'app.example.test', authorization: basic('alice', 'secret') } });
  const elapsedMs = performance.now() - started;
  await Promise.all(flood);

  expect(cached.status).toBe(200);
  expect(elapsedMs).toBeLessThan(500);
});

/** GETs `path` on a new connection; resolves with the status, or undefined after `timeoutMs` without one. */
async function statusWithin(port: number, path: string, timeoutMs: number): Promise<number | undefined> {
  const request = http.get({ host: LOOPBACK, port, path, headers: { host: 'app.example.test' }, agent: false });
  request.on('error', () => undefined);
  try {
    const outcome = await Promise.race([once(request, 'response').then(([response]) => (response as IncomingMessage).statusCode), once(request, 'close').then(() => 0), sleep(timeoutMs).then(() => undefined)]);
    return outcome;
  } finally {
    request.destroy();
  }
}

// Observed: the Berth process spins at 100% CPU and never responds again, neither to the request
// (no 502, no closed connection) nor to any later request. With the body in a temporary file,
// buffering's write() returns false even for an empty chunk and emits 'drain' from a promise.
// After the server's connection closed mid-body, buffering's write() is called with empty chunks
// over and over (millions of calls, traced with a temporary log line), and each call schedules
// another 'drain'. This loop of microtasks starves the event loop. Berth runs in a child process
// here, so the test can time out and kill it.
// Expected: the client gets 502 (the held header was never sent) or a closed connection, and
// Berth keeps serving other requests, as Traefik does when a server fails mid-body.
test('buffering survives server close mid-body', async () => {
  const server = await startServer((request, response) => {
    response.writeHead(200, { 'content-length': String(200 * 1024) });
    response.write(Buffer.alloc(64 * 1024, 1));
    setTimeout(() => request.socket.destroy(), 100);
  });
  running.push(server);

  const folder = mkdtempSync(join(tmpdir(), 'berth-edges-'));
  // Berth runs in a process of its own, so a spinning event loop cannot stall the test process.
  const middlewares = { hold: { type: 'buffering', options: { memResponseBodyBytes: 1024 } } };
  const child = await startBerthChild(server.url.origin, { BERTH_FIXTURE_MIDDLEWARES: JSON.stringify(middlewares), TMPDIR: folder });
  const port = child.port;
  try {
    // 0 means the connection closed without a response, and undefined means no response at all.
    expect([0, 502]).toContain(await statusWithin(port, '/', 3_000));
    // The process still responds: the fixture serves /__rss itself, without the router.
    expect(await statusWithin(port, '/__rss', 2_000)).toBe(200);
  } finally {
    await child.stop();
    rmSync(folder, { recursive: true, force: true });
  }
});

/** Sends `bytes` on a new connection and returns what Berth sends until it closes the connection or 2 s pass. */
async function exchange(port: number, bytes: string): Promise<string> {
  const socket = net.connect(port, LOOPBACK);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(bytes);
  await Promise.race([once(socket, 'close'), sleep(2_000)]);
  socket.destroy();
  return Buffer.concat(chunks).toString('latin1');
}

// Observed: the server's own 503 reached the client. The upgrade path wrote a server's non-101
// response straight to the socket, past the errors middleware.
// Expected: the error page, as a plain request gets. Go's httputil.ReverseProxy copies such a
// response through the ResponseWriter that Traefik's errors middleware wraps (from memory of Go's
// source, not rechecked).
test('errors page replaces a rejected upgrade response', async () => {
  const server = await startServer((_request, response) => response.writeHead(503, { 'content-length': '8' }).end('app down'));
  running.push(server);
  const pages = await startServer((request, response) => response.end(`custom page ${request.url ?? ''}`));
  running.push(pages);
  const berth = await startInProcessBerth({
    servers: [server.url.origin],
    services: { pages: [pages.url.origin] },
    middlewares: { pages: { type: 'errors', options: { status: ['500-599'], service: 'pages', query: '/{status}.html' } } },
  });
  running.push(berth);

  expect((await send(berth.port, { headers: { host: 'app.example.test' } })).body).toBe('custom page /503.html');
  const upgraded = await exchange(berth.port, HANDSHAKE);
  expect(upgraded.split('\r\n')[0]).toBe('HTTP/1.1 503 Service Unavailable');
  expect(upgraded).toContain('custom page /503.html');
});

// The 502 for an upgrade to a server that is down goes through the response that errors wraps.
test('errors page replaces an upgrade 502', async () => {
  const port = await closedPort();
  const pages = await startServer((request, response) => response.end(`custom page ${request.url ?? ''}`));
  running.push(pages);
  const berth = await startInProcessBerth({
    servers: [`http://${LOOPBACK}:${port}`],
    services: { pages: [pages.url.origin] },
    middlewares: { pages: { type: 'errors', options: { status: ['500-599'], service: 'pages', query: '/{status}.html' } } },
  });
  running.push(berth);

  const upgraded = await exchange(berth.port, HANDSHAKE);
  expect(upgraded.split('\r\n')[0]).toBe('HTTP/1.1 502 Bad Gateway');
  expect(upgraded).toMatch(/\r\nConnection: close\r\n/);
  expect(upgraded).toContain('custom page /502.html');
});

// customResponseHeaders apply to a server's refusal of an upgrade, as to any response.
test('headers edits a declined upgrade response', async () => {
  const server = await startServer((_request, response) => response.writeHead(403, { 'x-powered-by': 'app', 'content-length': '2' }).end('no'));
  running.push(server);
  const berth = await startInProcessBerth({
    servers: [server.url.origin],
    middlewares: { edit: { type: 'headers', options: { customResponseHeaders: { 'X-Custom': 'yes', 'X-Powered-By': '' } } } },
  });
  running.push(berth);

  const declined = await exchange(berth.port, HANDSHAKE);
  const head = declined.slice(0, declined.indexOf('\r\n\r\n'));
  expect(head.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
  expect(head).toMatch(/\r\nX-Custom: yes(\r\n|$)/);
  expect(head).not.toMatch(/x-powered-by/i);
  expect(declined.endsWith('\r\n\r\nno')).toBe(true);
});

// The 101 head goes through the response too, so its fields follow customResponseHeaders, and
// the tunnel behind it still carries bytes both ways.
test('headers edits a 101 head', async () => {
  const server = await websocketServer('X-Powered-By: app\r\n');
  const berth = await startInProcessBerth({
    servers: [server.url.origin],
    middlewares: { edit: { type: 'headers', options: { customResponseHeaders: { 'X-Custom': 'yes', 'X-Powered-By': '' } } } },
  });
  running.push(berth);

  const socket = net.connect(berth.port, LOOPBACK);
  socket.write(HANDSHAKE);
  const head = await readUntil(socket, '\r\n\r\n');
  socket.write('ping');
  const echo = await readUntil(socket, 'ping');
  socket.destroy();

  expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
  expect(head).toMatch(/\r\nX-Custom: yes\r\n/);
  expect(head).toMatch(/\r\nUpgrade: websocket\r\n/);
  expect(head).toMatch(/\r\nConnection: Upgrade\r\n/);
  expect(head).toMatch(/\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
  expect(head).not.toMatch(/x-powered-by/i);
  expect(echo).toBe('ping');
});

// Connection and Upgrade of a 101 describe the switch itself, so customResponseHeaders cannot remove
// or change them. A WebSocket client must fail a 101 without `Connection: Upgrade` (RFC 6455 section
// 4.1), and without any Connection field Node.js would add `Connection: close`.
test('headers keeps the upgrade fields of a 101', async () => {
  const server = await websocketServer();
  const edits: Array<Record<string, string>> = [{ 'X-Custom': 'yes', Connection: '' }, { Connection: 'close', Upgrade: '' }, { Upgrade: 'foo' }];

  for (const edit of edits) {
    const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { edit: { type: 'headers', options: { customResponseHeaders: edit } } } });
    running.push(berth);

    const socket = net.connect(berth.port, LOOPBACK);
    socket.write(HANDSHAKE);
    const head = await readUntil(socket, '\r\n\r\n');
    socket.write('ping');
    const echo = await readUntil(socket, 'ping');
    socket.destroy();

    expect(head.split('\r\n')[0], JSON.stringify(edit)).toBe('HTTP/1.1 101 Switching Protocols');
    expect(head, JSON.stringify(edit)).toMatch(/\r\nConnection: Upgrade\r\n/);
    expect(head, JSON.stringify(edit)).toMatch(/\r\nUpgrade: websocket\r\n/);
    expect(head.match(/\r\nconnection:/gi), JSON.stringify(edit)).toHaveLength(1);
    expect(head.match(/\r\nupgrade:/gi), JSON.stringify(edit)).toHaveLength(1);
    expect(echo, JSON.stringify(edit)).toBe('ping');
  }
});

// buffering keeps every status line back until the body has ended, which a 101 never has. The
// server's own head then goes out unchanged, because the tunnel cannot start without it.
test('buffering keeps the 101 of a tunnel', async () => {
  const server = await websocketServer();
  const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { hold: { type: 'buffering', options: {} } } });
  running.push(berth);

  const socket = net.connect(berth.port, LOOPBACK);
  socket.write(HANDSHAKE);
  const head = await readUntil(socket, '\r\n\r\n');
  socket.write('ping');
  const echo = await readUntil(socket, 'ping');
  socket.destroy();

  expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
  expect(head).toMatch(/\r\nConnection: Upgrade\r\n/);
  expect(echo).toBe('ping');
});

// Observed: 5 upgrade requests to a server that is down each get 502, yet the breaker stays in
// standby, and only the first plain request trips it (so that request still gets 502). The
// upgrade path writes its 502 to the socket, so `response.headersSent` stays false and the breaker
// records nothing. A WebSocket-only service never trips its breaker.
// Expected: failed upgrades count as network errors, so the breaker is tripped and the next plain
// request gets 503 without reaching the service. In Traefik the proxy's 502 for a failed upgrade goes
// through the ResponseWriter that the breaker wraps (from memory of Go's source, not rechecked).
test('circuitBreaker counts failed upgrades', async () => {
  const port = await closedPort();
  const berth = await startInProcessBerth({
    servers: [`http://${LOOPBACK}:${port}`],
    middlewares: { breaker: { type: 'circuitbreaker', options: { expression: 'NetworkErrorRatio() > 0.5', checkPeriod: '1ms' } } },
  });
  running.push(berth);

  // The first response is always checked, as in Traefik's oxy, so one failed upgrade trips the breaker.
  expect((await exchange(berth.port, HANDSHAKE)).split('\r\n')[0]).toBe('HTTP/1.1 502 Bad Gateway');
  await sleep(5);
  expect((await send(berth.port, { headers: { host: 'app.example.test' } })).status).toBe(503);
});

// Observed: 500 Internal Server Error, "the redirect target is not a valid URL (invalid host or
// port ...)", for a Host whose port is not a number. The fault is in the client's request, yet it
// is reported as a server error, which also counts against circuit breakers and 5xx alerts.
// Expected: 400 Bad Request naming the invalid Host, as redirectScheme already does for a request
// without Host.
test('redirectScheme rejects invalid Host port', async () => {
  const server = await startServer((_request, response) => response.end('ok'));
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { https: { type: 'redirectscheme', options: { scheme: 'https' } } } });
  running.push(berth);

  const reply = await sendRaw(berth.port, 'GET /path HTTP/1.1\r\nHost: app.example.test:abc\r\nConnection: close\r\n\r\n');
  expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
});
