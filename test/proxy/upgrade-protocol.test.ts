// The protocol in a server's 101 against the one requested, and the Connection and Upgrade fields of
// the 101 head that reaches the client.
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { BadGatewayError } from '../../src/errors.js';
import { LOOPBACK, readUntil, sendRaw, startProxy, type RunningServer } from './harness.js';

const running: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

interface SwitchingServer extends RunningServer {
  /** Resolves when the connection that received the request has closed. */
  closed: Promise<void>;
}

/**
 * Starts a raw TCP server that responds to the first request head with `head`, then echoes every byte. The
 * connection stays open until its peer closes it.
 */
async function switchingServer(head: string): Promise<SwitchingServer> {
  let markClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      markClosed();
    });
    let received = '';
    const onHead = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      if (!received.includes('\r\n\r\n')) return;
      socket.off('data', onHead);
      socket.write(head, 'latin1');
      socket.pipe(socket);
    };
    socket.on('data', onHead);
  });
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const started: SwitchingServer = {
    server: server as unknown as RunningServer['server'],
    port,
    url: new URL(`http://${LOOPBACK}:${port}`),
    closed,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  running.push(started);
  return started;
}

const UPGRADE_REQUEST =
  'GET /chat HTTP/1.1\r\nHost: app.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/** Opens a connection to `port`, sends `request` and returns the socket with the response head. */
async function handshake(port: number, request: string): Promise<{ socket: net.Socket; head: string }> {
  const socket = net.connect(port, LOOPBACK);
  socket.write(request, 'latin1');
  const head = await readUntil(socket, '\r\n\r\n');
  return { socket, head };
}

describe('upgrade protocol check', () => {
  it('rejects a switch to another protocol', async () => {
    const server = await switchingServer('HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n');
    const proxy = await startProxy(server.url);
    running.push(proxy);

    const answer = await sendRaw(proxy.port, UPGRADE_REQUEST);
    const outcome = await proxy.nextOutcome();
    await server.closed;

    expect(answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(answer).not.toMatch(/upgrade: foo/i);
    expect(outcome.status).toBe(502);
    expect(outcome.error).toBeInstanceOf(BadGatewayError);
    expect(outcome.error?.message).toContain('"foo"');
    expect(outcome.error?.message).toContain('"websocket"');
  });

  it('rejects a 101 without Upgrade', async () => {
    const server = await switchingServer('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n');
    const proxy = await startProxy(server.url);
    running.push(proxy);

    const answer = await sendRaw(proxy.port, UPGRADE_REQUEST);
    const outcome = await proxy.nextOutcome();
    await server.closed;

    expect(answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(outcome.status).toBe(502);
    expect(outcome.error).toBeInstanceOf(BadGatewayError);
    expect(outcome.error?.message).toContain('without `Connection: upgrade` or without an Upgrade field');
  });

  it('rejects a protocol the client did not offer', async () => {
    const server = await switchingServer('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket, foo\r\nConnection: Upgrade\r\n\r\n');
    const proxy = await startProxy(server.url);
    running.push(proxy);

    const answer = await sendRaw(proxy.port, UPGRADE_REQUEST);

    expect(answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect((await proxy.nextOutcome()).status).toBe(502);
  });

  it('accepts the protocol in another case', async () => {
    const server = await switchingServer('HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n\r\n');
    const proxy = await startProxy(server.url);
    running.push(proxy);

    const { socket, head } = await handshake(proxy.port, UPGRADE_REQUEST);
    socket.write('ping');
    const echo = await readUntil(socket, 'ping');
    socket.destroy();

    expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(head).toMatch(/\r\nUpgrade: WebSocket\r\n/);
    expect(head).toMatch(/\r\nConnection: Upgrade\r\n/);
    expect(echo).toBe('ping');
    expect((await proxy.nextOutcome()).status).toBe(101);
  });

  it('accepts one of several offered protocols', async () => {
    const server = await switchingServer('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    const proxy = await startProxy(server.url);
    running.push(proxy);

    const { socket, head } = await handshake(proxy.port, UPGRADE_REQUEST.replace('Upgrade: websocket', 'Upgrade: foo/2, websocket'));
    socket.destroy();

    expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(head).toMatch(/\r\nUpgrade: websocket\r\n/);
  });

  it('rejects a 101 without Connection', async () => {
    const server = await switchingServer('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
    const proxy = await startProxy(server.url);
    running.push(proxy);

    const answer = await sendRaw(proxy.port, UPGRADE_REQUEST);
    const outcome = await proxy.nextOutcome();
    await server.closed;

    expect(answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(outcome.status).toBe(502);
    expect(outcome.error).toBeInstanceOf(BadGatewayError);
    expect(outcome.error?.message).toContain('without `Connection: upgrade` or without an Upgrade field');
  });
});
