// Entry point timeouts (read, write, idle) and graceful shutdown, with real sockets.
import net from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, test } from 'vitest';

import { send, startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth, type InProcessOptions } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

async function setUp(handler: http.RequestListener, options: Omit<InProcessOptions, 'servers'> = {}): Promise<InProcessBerth> {
  const server = await startServer(handler);
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url.origin], ...options });
  running.push(berth);
  return berth;
}

/** Resolves with the time in ms until the socket closes, and what it received. */
async function untilClosed(socket: net.Socket, started: number): Promise<{ ms: number; received: string }> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  await once(socket, 'close');
  return { ms: performance.now() - started, received: Buffer.concat(chunks).toString('latin1') };
}

const timeouts = (readTimeoutMs: number, writeTimeoutMs: number, idleTimeoutMs: number): Omit<InProcessOptions, 'servers'> => ({
  entryPoint: { timeouts: { readTimeoutMs, writeTimeoutMs, idleTimeoutMs } },
});

describe('responding timeouts', () => {
  test('slow header client dropped', async () => {
    const berth = await setUp((_request, response) => response.end('ok'), timeouts(1_000, 0, 60_000));
    const socket = net.connect(berth.port, LOOPBACK);
    const started = performance.now();
    const closed = untilClosed(socket, started);

    // One header byte every 200 ms: the head would take far longer than the read timeout.
    const head = 'GET / HTTP/1.1\r\nHost: app.example.test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n';
    for (const byte of head) {
      if (socket.destroyed) break;
      socket.write(byte);
      await sleep(200);
      if (performance.now() - started > 4_000) break;
    }
    const { ms, received } = await closed;

    expect(ms).toBeLessThan(3_000);
    expect(received).toMatch(/^HTTP\/1\.1 408 |^$/);
  });

  test('idle keep-alive connection closed', async () => {
    const berth = await setUp((_request, response) => response.end('ok'), timeouts(60_000, 0, 500));
    const socket = net.connect(berth.port, LOOPBACK);
    socket.write('GET / HTTP/1.1\r\nHost: app.example.test\r\n\r\n');
    const started = performance.now();
    const { ms, received } = await untilClosed(socket, started);

    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(ms).toBeGreaterThan(400);
    expect(ms).toBeLessThan(2_000);
  });

  test('stalled upload dropped', async () => {
    let requests = 0;
    const berth = await setUp((request, response) => {
      requests += 1;
      request.resume();
      request.on('end', () => response.end('ok'));
    }, timeouts(1_000, 0, 60_000));

    const socket = net.connect(berth.port, LOOPBACK);
    socket.write('POST / HTTP/1.1\r\nHost: app.example.test\r\nContent-Length: 10\r\n\r\nhello');
    const { ms, received } = await untilClosed(socket, performance.now());

    expect(ms).toBeLessThan(2_500);
    expect(received).not.toMatch(/200 OK/);
    expect(requests).toBe(1);
  });

  test('slow steady upload completes', async () => {
    const berth = await setUp((request, response) => {
      let length = 0;
      request.on('data', (chunk: Buffer) => (length += chunk.length));
      request.on('end', () => response.end(`got ${length}`));
    }, timeouts(1_000, 0, 60_000));

    // Three seconds of upload with a pause of 200 ms between chunks: longer than the read timeout
    // in total, but never idle for as long as it.
    const request = http.request({ host: LOOPBACK, port: berth.port, method: 'POST', headers: { host: 'app.example.test', 'content-length': 15 * 1_000 }, agent: false });
    const responded = once(request, 'response') as Promise<[http.IncomingMessage]>;
    for (let i = 0; i < 15; i++) {
      request.write('x'.repeat(1_000));
      await sleep(200);
    }
    request.end();
    const [response] = await responded;
    let body = '';
    for await (const chunk of response) body += String(chunk);

    expect(response.statusCode).toBe(200);
    expect(body).toBe('got 15000');
  });

  // Before the fix, the end of a body that arrived after its response cleared the keep-alive timeout,
  // so the connection stayed open for good.
  test('idle timeout after early response', async () => {
    const berth = await setUp((_request, response) => {
      response.writeHead(413, { 'content-length': 9 });
      response.end('too large');
    }, timeouts(1_000, 0, 500));

    const socket = net.connect(berth.port, LOOPBACK);
    const closed = untilClosed(socket, performance.now());
    const head = 'POST / HTTP/1.1\r\nHost: app.example.test\r\nContent-Length: 20000\r\n\r\n';
    socket.write(head + 'a'.repeat(10_000));
    await once(socket, 'data');
    await sleep(300);
    socket.write('a'.repeat(10_000));
    const bodyEnded = performance.now();
    await closed;
    const idleMs = performance.now() - bodyEnded;

    // node:http (Node.js 20 and 24) closes an idle connection 1 s after the keep-alive timeout it advertises.
    expect(idleMs).toBeGreaterThan(400);
    expect(idleMs).toBeLessThan(3_000);
  });

  // Before the fix, the keep-alive timeout that node:http set after the response replaced the read
  // timeout, so a body that stalled after its response kept the connection for the idle timeout.
  test('stalled body after early response', async () => {
    const berth = await setUp((_request, response) => {
      response.writeHead(413, { 'content-length': 9 });
      response.end('too large');
    }, timeouts(1_000, 0, 60_000));

    const socket = net.connect(berth.port, LOOPBACK);
    const started = performance.now();
    const closed = untilClosed(socket, started);
    socket.write('POST / HTTP/1.1\r\nHost: app.example.test\r\nContent-Length: 20000\r\n\r\n' + 'a'.repeat(10_000));
    const { ms, received } = await closed;

    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(ms).toBeGreaterThan(800);
    expect(ms).toBeLessThan(3_000);
  });

  // Before the fix, the end of the body restored the keep-alive timeout after node:http had parsed
  // the pipelined GET, which was then cut while its response was still on the way.
  test('pipelined request after early response', async () => {
    const berth = await setUp((request, response) => {
      if (request.url === '/slow') {
        setTimeout(() => response.end('slow done'), 2_000);
        return;
      }
      response.writeHead(413, { 'content-length': 9 });
      response.end('too large');
    }, timeouts(5_000, 0, 500));

    const socket = net.connect(berth.port, LOOPBACK);
    const closed = untilClosed(socket, performance.now());
    let slowDone = 0;
    socket.on('data', (chunk: Buffer) => {
      if (chunk.toString('latin1').includes('slow done')) slowDone = performance.now();
    });
    socket.write('POST /upload HTTP/1.1\r\nHost: app.example.test\r\nContent-Length: 20000\r\n\r\n' + 'a'.repeat(10_000));
    await once(socket, 'data');
    await sleep(300);
    socket.write('a'.repeat(10_000) + 'GET /slow HTTP/1.1\r\nHost: app.example.test\r\n\r\n');
    const { received } = await closed;

    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toMatch(/too largeHTTP\/1\.1 200 [^]*slow done$/);
    // The connection is idle once the slow response is sent, so the keep-alive timeout closes it.
    const idleMs = performance.now() - slowDone;
    expect(idleMs).toBeGreaterThan(400);
    expect(idleMs).toBeLessThan(3_000);
  });

  test('write timeout cuts a slow response', async () => {
    const berth = await setUp((_request, response) => {
      response.writeHead(200, { 'content-length': 20 });
      response.write('0123456789');
      setTimeout(() => response.end('0123456789'), 3_000).unref();
    }, timeouts(60_000, 1_000, 60_000));

    const socket = net.connect(berth.port, LOOPBACK);
    socket.write('GET / HTTP/1.1\r\nHost: app.example.test\r\n\r\n');
    const { ms, received } = await untilClosed(socket, performance.now());

    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).not.toContain('01234567890123456789');
    expect(ms).toBeLessThan(2_500);
  });
});

describe('graceful shutdown', () => {
  test('in-flight request finishes', async () => {
    const berth = await setUp((_request, response) => {
      setTimeout(() => response.end('slow but complete'), 1_000).unref();
    });

    const inFlight = send(berth.port, { headers: { host: 'app.example.test' } });
    await sleep(200);
    const started = performance.now();
    const closing = berth.entryPoint.close(5_000);

    // New connections are refused while the slow request runs.
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(berth.port, LOOPBACK);
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      socket.on('connect', () => {
        socket.destroy();
        resolve('connected');
      });
    });

    const response = await inFlight;
    await closing;
    expect(refused).toBe('ECONNREFUSED');
    expect(response.status).toBe(200);
    expect(response.body).toBe('slow but complete');
    expect(response.headers.connection).toBe('close');
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  test('grace deadline closes the rest', async () => {
    const berth = await setUp(() => {
      // Never answers.
    });

    const socket = net.connect(berth.port, LOOPBACK);
    socket.write('GET / HTTP/1.1\r\nHost: app.example.test\r\n\r\n');
    await sleep(200);
    const started = performance.now();
    await berth.entryPoint.close(500);
    const elapsed = performance.now() - started;

    expect(elapsed).toBeGreaterThan(400);
    expect(elapsed).toBeLessThan(2_000);
    expect(socket.destroyed || socket.readableEnded || (await once(socket, 'close'), true)).toBe(true);
  });
});
