import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';

import { ClientClosedError, UpstreamConnectError } from '../../src/errors.js';
import { closedPort, LOOPBACK, readUntil, sendRaw, startProxy, startServer, type RunningServer } from './harness.js';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

const running: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function track<T extends RunningServer>(server: Promise<T>): Promise<T> {
  const started = await server;
  running.push(started);
  return started;
}

/** Starts a server that accepts WebSocket handshakes and echoes every byte after the 101. */
async function echoServer(seen: IncomingHttpHeaders[]): Promise<RunningServer> {
  const server = await track(startServer((_request, response) => response.writeHead(426).end('upgrade required')));
  server.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    seen.push(request.headers);
    const accept = createHash('sha1')
      .update(`${request.headers['sec-websocket-key'] ?? ''}${WEBSOCKET_GUID}`)
      .digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\nConnection: Upgrade\r\nKeep-Alive: timeout=5\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    if (head.length > 0) {
      socket.write(head);
    }
    socket.pipe(socket);
  });
  return server;
}

/** Starts a raw TCP server that sends `reply` once it has read a request head, then closes the connection. */
async function rawServer(reply: string): Promise<RunningServer> {
  const server = net.createServer((socket) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) socket.end(reply, 'latin1');
    });
  });
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return track(
    Promise.resolve({
      server: server as unknown as RunningServer['server'],
      port,
      url: new URL(`http://${LOOPBACK}:${port}`),
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    }),
  );
}

/** Writes `total` bytes in 64 KiB chunks, waiting for 'drain' whenever write() returns false. */
async function writeWithBackpressure(response: ServerResponse, total: number, progress: { written: number }): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  while (progress.written < total) {
    progress.written += chunk.length;
    if (!response.write(chunk)) await once(response, 'drain');
  }
  response.end();
}

function upgradeRequest(extra = ''): string {
  return (
    'GET /chat HTTP/1.1\r\nHost: app.example.test\r\n' +
    'Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n' +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${SAMPLE_KEY}\r\n${extra}\r\n`
  );
}

describe('forwardUpgrade', () => {
  it('tunnels a WebSocket echo', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = await echoServer(seen);
    const proxy = await track(startProxy(server.url));

    const socket = net.connect(proxy.port, LOOPBACK);
    socket.write(upgradeRequest('X-Forwarded-For: 1.1.1.1\r\n'));
    const head = await readUntil(socket, '\r\n\r\n');
    socket.write('ping-1');
    const echo = await readUntil(socket, 'ping-1');

    expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(head).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
    expect(head).toMatch(/\r\nUpgrade: websocket\r\n/);
    expect(head).toMatch(/\r\nConnection: Upgrade\r\n/);
    expect(head).not.toMatch(/keep-alive/i);
    expect(echo).toBe('ping-1');
    expect(seen[0]?.connection?.toLowerCase()).toBe('upgrade');
    expect(seen[0]?.upgrade).toBe('websocket');
    expect(seen[0]?.['sec-websocket-key']).toBe(SAMPLE_KEY);
    expect(seen[0]?.['x-forwarded-for']).toBe('127.0.0.1');

    socket.end();
    const outcome = await proxy.nextOutcome();
    expect(outcome.status).toBe(101);
    expect(outcome.error).toBeUndefined();
  });

  it('passes bytes behind the head', async () => {
    const server = await echoServer([]);
    const proxy = await track(startProxy(server.url));

    const socket = net.connect(proxy.port, LOOPBACK);
    socket.write(`${upgradeRequest()}early-bytes`);
    const text = await readUntil(socket, 'early-bytes');
    socket.destroy();

    expect(text).toMatch(/\r\n\r\nearly-bytes$/);
  });

  it('passes on a declined upgrade', async () => {
    const server = await track(
      startServer((_request, response) => {
        response.writeHead(403, { 'content-type': 'text/plain' });
        response.end('not here');
      }),
    );
    const proxy = await track(startProxy(server.url));

    const answer = await sendRaw(proxy.port, upgradeRequest());
    const outcome = await proxy.nextOutcome();

    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(answer).toMatch(/\r\nConnection: close\r\n/);
    // The stand-in response frames a body of unknown length as Node.js does for HTTP/1.1: chunked.
    expect(answer).toMatch(/\r\nTransfer-Encoding: chunked\r\n/);
    expect(answer).toMatch(/\r\n\r\n8\r\nnot here\r\n0\r\n\r\n$/);
    expect(outcome.status).toBe(403);
  });

  it('passes a close-delimited refusal whole', async () => {
    const server = await rawServer('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\nthe whole body');
    const proxy = await track(startProxy(server.url));

    const answer = await sendRaw(proxy.port, upgradeRequest());
    const outcome = await proxy.nextOutcome();

    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(answer).toMatch(/\r\nConnection: close\r\n/);
    expect(answer).toMatch(/\r\n\r\ne\r\nthe whole body\r\n0\r\n\r\n$/);
    expect(outcome.status).toBe(403);
    expect(outcome.error).toBeUndefined();
  });

  it('sends no body to a HEAD refusal', async () => {
    const server = await track(startServer((_request, response) => response.writeHead(403, { 'content-length': '8' }).end('not here')));
    const proxy = await track(startProxy(server.url));

    const answer = await sendRaw(proxy.port, upgradeRequest().replace(/^GET /, 'HEAD '));
    const outcome = await proxy.nextOutcome();

    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(answer).toMatch(/\r\ncontent-length: 8\r\n/i);
    expect(answer).toMatch(/\r\n\r\n$/);
    expect(outcome.status).toBe(403);
  });

  it('sends a 204 refusal without body fields', async () => {
    const server = await track(startServer((_request, response) => response.writeHead(204).end()));
    const proxy = await track(startProxy(server.url));

    const answer = await sendRaw(proxy.port, upgradeRequest());
    const outcome = await proxy.nextOutcome();

    expect(answer).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
    expect(answer).not.toMatch(/content-length|transfer-encoding/i);
    expect(answer).toMatch(/\r\n\r\n$/);
    expect(outcome.status).toBe(204);
  });

  it('streams a large refusal with backpressure', async () => {
    const total = 64 * 1024 * 1024;
    const progress = { written: 0 };
    const server = await track(
      startServer((_request, response) => {
        response.writeHead(403, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
        void writeWithBackpressure(response, total, progress);
      }),
    );
    const proxy = await track(startProxy(server.url));

    const socket = net.connect(proxy.port, LOOPBACK);
    socket.write(upgradeRequest());
    await readUntil(socket, '\r\n\r\n');
    socket.pause();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Socket buffers on the way take a few MiB. A proxy that buffered the body would have read all of it.
    const writtenWhilePaused = progress.written;

    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.resume();
    await once(socket, 'close');
    const outcome = await proxy.nextOutcome();

    expect(writtenWhilePaused).toBeLessThan(total / 2);
    expect(progress.written).toBe(total);
    // The first 'data' event, which readUntil consumed, contained the head and maybe some of the body.
    expect(received).toBeGreaterThan(total - 1024 * 1024);
    expect(outcome.status).toBe(403);
    expect(outcome.error).toBeUndefined();
  });

  it('reports 499 when the client leaves', async () => {
    const server = await track(startServer(() => {}));
    const serverSockets: Duplex[] = [];
    // Refuses the upgrade after the client left, with a body that never ends.
    server.server.on('upgrade', (_request: IncomingMessage, socket: Duplex) => {
      serverSockets.push(socket);
      // Berth closes this connection once the client has gone, so a late write may fail.
      socket.on('error', () => undefined);
      const writeChunk = (): void => {
        if (socket.destroyed) return;
        socket.write(`400\r\n${'x'.repeat(0x400)}\r\n`, () => setTimeout(writeChunk, 10));
      };
      setTimeout(() => {
        if (!socket.destroyed) socket.write('HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n', writeChunk);
      }, 200);
    });
    const proxy = await track(startProxy(server.url));

    const socket = net.connect(proxy.port, LOOPBACK);
    socket.write(upgradeRequest());
    while (serverSockets.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    // once() would reject on the server socket's expected EPIPE.
    const serverClosed = new Promise((resolve) => (serverSockets[0] as Duplex).once('close', resolve));
    socket.destroy();
    const outcome = await proxy.nextOutcome();
    await serverClosed;

    expect(outcome.status).toBe(499);
    expect(outcome.error).toBeInstanceOf(ClientClosedError);
    expect(outcome.safeToRetry).toBe(false);
  });

  it('responds 502 to a refused connection', async () => {
    const port = await closedPort();
    const proxy = await track(startProxy(new URL(`http://${LOOPBACK}:${port}`)));

    const answer = await sendRaw(proxy.port, upgradeRequest());
    const outcome = await proxy.nextOutcome();

    expect(answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(answer).toMatch(/\r\n\r\n502 Bad Gateway\n$/);
    expect(outcome.safeToRetry).toBe(true);
    expect(outcome.error).toBeInstanceOf(UpstreamConnectError);
  });

  it('responds 504 to a late 101', async () => {
    const server = await track(startServer(() => {}));
    // Never responds. The half-open socket is closed once Berth gives up.
    server.server.on('upgrade', (_request: IncomingMessage, socket: Duplex) => {
      socket.on('end', () => socket.destroy());
    });
    const proxy = await track(startProxy(server.url, { forwarder: { responseHeaderTimeoutMs: 200 } }));

    const answer = await sendRaw(proxy.port, upgradeRequest());

    expect(answer).toMatch(/^HTTP\/1\.1 504 Gateway Timeout\r\n/);
    expect((await proxy.nextOutcome()).status).toBe(504);
  });

  it('keeps an idle tunnel open', async () => {
    const server = await echoServer([]);
    const proxy = await track(startProxy(server.url, { server: { requestTimeout: 500, headersTimeout: 400, connectionsCheckingInterval: 100 } }));

    const socket = net.connect(proxy.port, LOOPBACK);
    socket.write(upgradeRequest());
    await readUntil(socket, '\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    socket.write('still-open');
    const echo = await readUntil(socket, 'still-open');
    socket.destroy();

    expect(echo).toBe('still-open');
  });

  it('closes server side on client exit', async () => {
    let serverSocket: Duplex | undefined;
    const server = await echoServer([]);
    server.server.prependListener('upgrade', (_request: IncomingMessage, socket: Duplex) => {
      serverSocket = socket;
    });
    const proxy = await track(startProxy(server.url));

    const socket = net.connect(proxy.port, LOOPBACK);
    socket.write(upgradeRequest());
    await readUntil(socket, '\r\n\r\n');
    const closed = once(serverSocket as Duplex, 'close');
    socket.destroy();
    await closed;

    expect(serverSocket?.destroyed).toBe(true);
  });
});
