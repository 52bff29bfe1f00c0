// A client that cancels an upload midway: the server behind Berth must see an aborted request, never a
// complete one, whether the client spoke HTTP/1.1, HTTP/2 over TLS or h2c, and with `Expect: 100-continue`.
import http2 from 'node:http2';

import { afterEach, describe, expect, test } from 'vitest';

import { connectHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';
import { RawClient, splitHead, startRawServer, type RawServer } from './raw.js';

const running: Array<RawServer | InProcessBerth | { close(): unknown }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

/** Starts a server that reads the request and never responds, so only the client's reset ends the exchange. */
async function silentServer(): Promise<RawServer> {
  const server = await startRawServer();
  running.push(server);
  return server;
}

async function berthFor(server: RawServer): Promise<InProcessBerth> {
  const berth = await startInProcessBerth({ servers: [server.url], entryPoint: { http2: { maxConcurrentStreams: 250, h2c: true } } });
  running.push(berth);
  return berth;
}

/** Waits until the server's connection has received `bodyBytes` body bytes after the head and then closed. */
async function receivedAbortedBody(server: RawServer, bodyBytes: number): Promise<string> {
  await server.waitFor(() => (splitHead(server.received())?.rest.length ?? 0) >= bodyBytes, `${bodyBytes} body bytes at the server`);
  await server.waitFor(() => server.connections.every((connection) => connection.closed), 'the connection to the server to close');
  return splitHead(server.received())?.rest ?? '';
}

/** Returns whether a chunked body ends with its last chunk, which makes the request complete. */
function endsWithLastChunk(body: string): boolean {
  return /(?:^|\r\n)0\r\n(?:[^\r\n]+\r\n)*\r\n$/.test(body);
}

describe('cancelled upload', () => {
  for (const h2c of [false, true]) {
    const protocol = h2c ? 'h2c' : 'h2 over TLS';

    test(`${protocol} RST_STREAM aborts the server request`, async () => {
      const server = await silentServer();
      const berth = await berthFor(server);

      const session = await connectHttp2(berth.port, { h2c });
      running.push(session);
      const stream = session.request({ ':method': 'POST', ':path': '/upload', ':authority': 'app.example.test' }, { endStream: false });
      stream.on('error', () => undefined);
      stream.write('x'.repeat(100));
      await server.waitFor(() => (splitHead(server.received())?.rest.length ?? 0) > 0, 'the first body bytes at the server');
      stream.close(http2.constants.NGHTTP2_CANCEL);

      const body = await receivedAbortedBody(server, 100);
      expect(server.received()).toMatch(/^POST \/upload HTTP\/1\.1\r\n/);
      expect(server.received()).toMatch(/\r\ntransfer-encoding: chunked\r\n/i);
      expect(body).toContain('x'.repeat(100));
      expect(endsWithLastChunk(body)).toBe(false);
      await expect.poll(() => berth.logs().some((line) => line.status === 499)).toBe(true);
    });

    test(`${protocol} RST_STREAM with Expect aborts`, async () => {
      // The server accepts the body with `100 Continue`, as most servers do.
      const continued = new WeakSet<object>();
      const server = await startRawServer((connection) => {
        if (continued.has(connection) || !connection.received.includes('\r\n\r\n')) return;
        continued.add(connection);
        connection.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      });
      running.push(server);
      const berth = await berthFor(server);

      const session = await connectHttp2(berth.port, { h2c });
      running.push(session);
      const stream = session.request({ ':method': 'POST', ':path': '/upload', ':authority': 'app.example.test', expect: '100-continue' }, { endStream: false });
      stream.on('error', () => undefined);
      await new Promise<void>((resolve) => stream.once('continue', resolve));
      stream.write('y'.repeat(100));
      await server.waitFor(() => (splitHead(server.received())?.rest.length ?? 0) > 0, 'the first body bytes at the server');
      stream.close(http2.constants.NGHTTP2_CANCEL);

      const body = await receivedAbortedBody(server, 100);
      expect(server.received()).toMatch(/\r\nexpect: 100-continue\r\n/i);
      expect(body).toContain('y'.repeat(100));
      expect(endsWithLastChunk(body)).toBe(false);
      await expect.poll(() => berth.logs().some((line) => line.status === 499)).toBe(true);
    });
  }

  test('HTTP/1.1 client gone aborts the server request', async () => {
    const server = await silentServer();
    const berth = await berthFor(server);

    const client = await RawClient.connect(berth.port);
    running.push(client);
    client.write('POST /upload HTTP/1.1\r\nHost: app.example.test\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n' + 'z'.repeat(100) + '\r\n');
    await server.waitFor(() => (splitHead(server.received())?.rest.length ?? 0) > 0, 'the first body bytes at the server');
    client.close();

    const body = await receivedAbortedBody(server, 100);
    expect(body).toContain('z'.repeat(100));
    expect(endsWithLastChunk(body)).toBe(false);
    await expect.poll(() => berth.logs().some((line) => line.status === 499)).toBe(true);
  });
});
