import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';

import { UpstreamConnectError } from '../../src/errors.js';
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
    expect(answer).toMatch(/\r\n\r\nnot here$/);
    expect(outcome.status).toBe(403);
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
