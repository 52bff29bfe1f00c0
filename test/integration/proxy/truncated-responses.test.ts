// Responses that Berth cannot complete: a server that closes the connection in the middle of the body, and
// the write and read timeouts. An HTTP/1.1 client sees the connection close before the end of the body, and
// an HTTP/2 client sees RST_STREAM with INTERNAL_ERROR, never a stream that ends as if the response were
// complete (RFC 9113 §8.1).
import http from 'node:http';
import http2, { type ClientHttp2Session, type IncomingHttpHeaders as Http2Headers } from 'node:http2';

import { afterEach, describe, expect, test } from 'vitest';

import { startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, startInProcessBerth, type InProcessBerth, type InProcessOptions } from './harness.js';
import { RawClient, splitHead, startRawServer, type RawConnection, type RawServer } from './raw.js';

const { NGHTTP2_INTERNAL_ERROR } = http2.constants;

const running: Array<RawServer | RunningServer | InProcessBerth | RawClient | ClientHttp2Session> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

const H2C = { http2: { maxConcurrentStreams: 100, h2c: true } };

/** Starts a raw server that sends `response` to each request head and closes the connection 50 ms later. */
async function cuttingServer(response: string): Promise<RawServer> {
  const answered = new WeakSet<RawConnection>();
  const server = await startRawServer((connection) => {
    if (splitHead(connection.received) === undefined || answered.has(connection)) return;
    answered.add(connection);
    connection.socket.write(response, 'latin1');
    setTimeout(() => connection.socket.destroy(), 50);
  });
  running.push(server);
  return server;
}

async function berthFor(servers: string[], options: Omit<InProcessOptions, 'servers'> = {}): Promise<InProcessBerth> {
  const berth = await startInProcessBerth({ servers, ...options, entryPoint: { ...H2C, ...options.entryPoint } });
  running.push(berth);
  return berth;
}

async function session(berth: InProcessBerth, h2c: boolean): Promise<ClientHttp2Session> {
  const client = await connectHttp2(berth.port, { h2c });
  running.push(client);
  return client;
}

interface StreamResult {
  status: number | undefined;
  body: string;
  rstCode: number | undefined;
  /** Whether the readable side ended, which a client takes as a complete body. */
  ended: boolean;
}

/** Sends one request and waits for its stream to close, whatever the way. `upload` writes the request body. */
async function streamResult(client: ClientHttp2Session, headers: Http2Headers, upload?: (stream: http2.ClientHttp2Stream) => void): Promise<StreamResult> {
  const stream = client.request({ ':authority': 'app.example.test', ...headers }, { endStream: upload === undefined });
  const result: StreamResult = { status: undefined, body: '', rstCode: undefined, ended: false };
  stream.on('response', (responseHeaders) => (result.status = Number(responseHeaders[':status'])));
  stream.on('data', (chunk: Buffer) => (result.body += chunk.toString('latin1')));
  stream.on('end', () => (result.ended = true));
  stream.on('error', () => undefined);
  upload?.(stream);
  await new Promise((resolve) => stream.once('close', resolve));
  result.rstCode = stream.rstCode;
  return result;
}

const TRUNCATED_CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n';
const TRUNCATED_LENGTH = 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello';

describe('server closes during the body', () => {
  for (const [name, response] of [
    ['chunked', TRUNCATED_CHUNKED],
    ['Content-Length', TRUNCATED_LENGTH],
  ] as const) {
    for (const h2c of [true, false]) {
      test(`${name} over ${h2c ? 'h2c' : 'TLS h2'} is INTERNAL_ERROR`, async () => {
        const server = await cuttingServer(response);
        const berth = await berthFor([server.url]);
        const client = await session(berth, h2c);

        const result = await streamResult(client, { ':path': '/' });

        expect(result.status).toBe(200);
        expect(result.body).toBe('hello');
        expect(result.ended).toBe(false);
        expect(result.rstCode).toBe(NGHTTP2_INTERNAL_ERROR);
      });
    }

    test(`${name} over HTTP/1.1 closes the connection`, async () => {
      const server = await cuttingServer(response);
      const berth = await berthFor([server.url]);
      const client = await RawClient.connect(berth.port);
      running.push(client);

      client.write('GET / HTTP/1.1\r\nHost: app.example.test\r\n\r\n');
      await client.waitForClose();

      expect(client.received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(client.received).toContain('hello');
      // The last chunk never comes, so the client can tell that the body is incomplete.
      expect(client.received).not.toMatch(/\r\n0\r\n\r\n$/);
    });
  }

  test('session still usable after the reset', async () => {
    const server = await cuttingServer(TRUNCATED_CHUNKED);
    const berth = await berthFor([server.url]);
    const client = await session(berth, true);

    const first = await streamResult(client, { ':path': '/' });
    const second = await streamResult(client, { ':path': '/' });

    expect(first.rstCode).toBe(NGHTTP2_INTERNAL_ERROR);
    expect(second.status).toBe(200);
    expect(client.closed).toBe(false);
  });
});

describe('timeouts on HTTP/2', () => {
  async function berthWithHandler(handler: http.RequestListener, timeouts: { readTimeoutMs: number; writeTimeoutMs: number }): Promise<InProcessBerth> {
    const server = await startServer(handler);
    running.push(server);
    return berthFor([server.url.origin], { entryPoint: { ...H2C, timeouts: { ...timeouts, idleTimeoutMs: 60_000 } } });
  }

  test('write timeout is INTERNAL_ERROR', async () => {
    const berth = await berthWithHandler(
      (_request, response) => {
        response.writeHead(200, { 'content-length': 20 });
        response.write('0123456789');
        setTimeout(() => response.end('0123456789'), 3_000).unref();
      },
      { readTimeoutMs: 60_000, writeTimeoutMs: 500 },
    );
    const client = await session(berth, true);

    const result = await streamResult(client, { ':path': '/' });

    expect(result.status).toBe(200);
    expect(result.body).toBe('0123456789');
    expect(result.ended).toBe(false);
    expect(result.rstCode).toBe(NGHTTP2_INTERNAL_ERROR);
  });

  test('read timeout on paused upload is INTERNAL_ERROR', async () => {
    const berth = await berthWithHandler(
      (request, response) => {
        request.resume();
        request.on('end', () => response.end('ok'));
      },
      { readTimeoutMs: 500, writeTimeoutMs: 0 },
    );
    const client = await session(berth, true);

    // Part of the body, then nothing: the stream stays open for longer than the read timeout.
    const result = await streamResult(client, { ':path': '/', ':method': 'POST' }, (stream) => stream.write('part'));

    expect(result.status).toBeUndefined();
    expect(result.ended).toBe(false);
    expect(result.rstCode).toBe(NGHTTP2_INTERNAL_ERROR);
  });
});
