// Trailer fields of a server's response. Before the fix a trailer section with ETag twice, or with one
// connection-specific field such as Keep-Alive, made Node.js throw from its HTTP/2 trailer send. That
// happened after the client had its 200 and body, outside any handler, so the Berth process exited.
import { once } from 'node:events';
import http2, { constants, type ClientHttp2Session, type IncomingHttpHeaders as Http2Headers } from 'node:http2';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, test } from 'vitest';

import { guardTrailerSend } from '../../../src/entrypoints/http2-trailer-send.js';
import { sendRaw, startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';
import { startRawServer, type RawServer } from './raw.js';

const running: Array<RunningServer | InProcessBerth | RawServer | { close(): unknown }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

interface TrailedResponse {
  status: number | undefined;
  headers: Http2Headers;
  body: string;
  trailers: Http2Headers | undefined;
  rstCode: number;
}

/** Sends a GET on the session and reads the response with its trailers, or the reset that ended it. */
async function requestWithTrailers(session: ClientHttp2Session, path = '/'): Promise<TrailedResponse> {
  const stream = session.request({ ':authority': 'app.example.test', ':path': path });
  const result: TrailedResponse = { status: undefined, headers: {}, body: '', trailers: undefined, rstCode: 0 };
  stream.on('response', (headers) => {
    result.status = Number(headers[':status']);
    result.headers = headers;
  });
  stream.on('trailers', (trailers) => {
    result.trailers = trailers;
  });
  stream.on('data', (chunk: Buffer) => {
    result.body += chunk.toString('utf8');
  });
  stream.on('error', () => undefined);
  // Not `once(stream, 'close')`, which rejects on the error event that a reset stream emits first.
  await new Promise((resolve) => stream.on('close', resolve));
  result.rstCode = stream.rstCode ?? 0;
  return result;
}

/**
 * Starts a server that responds to a request with a chunked body `x` ending in the trailer section
 * `trailerLines`, and closes the connection, so that no trailer affects the next request to it.
 */
async function trailingServer(announced: string, trailerLines: string): Promise<RawServer> {
  const server = await startRawServer((connection) => {
    if (!connection.received.includes('\r\n\r\n')) return;
    connection.socket.end(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: ${announced}\r\n\r\n1\r\nx\r\n0\r\n${trailerLines}\r\n`);
  });
  running.push(server);
  return server;
}

async function berthFor(serverUrl: string): Promise<{ berth: InProcessBerth; session: ClientHttp2Session }> {
  const berth = await startInProcessBerth({ servers: [serverUrl] });
  running.push(berth);
  const session = await connectHttp2(berth.port);
  running.push(session);
  return { berth, session };
}

describe('response trailers to HTTP/2 clients', () => {
  test('repeated ETag keeps first', async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(200, { Trailer: 'ETag' });
      response.write('x');
      response.addTrailers([
        ['ETag', '"1"'],
        ['ETag', '"2"'],
      ]);
      response.end();
    });
    running.push(server);
    const { session } = await berthFor(server.url.origin);

    const first = await requestWithTrailers(session);
    const second = await requestWithTrailers(session);

    expect(first.status).toBe(200);
    expect(first.body).toBe('x');
    expect(first.trailers?.etag).toBe('"1"');
    expect(first.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
    expect(second.status).toBe(200);
    expect(session.destroyed).toBe(false);
  });

  const connectionFields = ['Keep-Alive', 'Connection', 'Transfer-Encoding', 'Upgrade', 'TE', 'Proxy-Connection'];
  for (const name of connectionFields) {
    test(`${name} trailer dropped`, async () => {
      const server = await trailingServer(`${name}, X-Checksum`, `${name}: 1\r\nX-Checksum: abc\r\n`);
      const { session } = await berthFor(server.url);

      const first = await requestWithTrailers(session);
      const second = await requestWithTrailers(session);

      expect(first.status).toBe(200);
      expect(first.body).toBe('x');
      expect(first.trailers?.[name.toLowerCase()]).toBeUndefined();
      expect(first.trailers?.['x-checksum']).toBe('abc');
      expect(first.headers.trailer).toBe('X-Checksum');
      expect(second.status).toBe(200);
    });
  }

  test('field named in Connection dropped', async () => {
    const server = await startRawServer((connection) => {
      if (!connection.received.includes('\r\n\r\n')) return;
      connection.socket.write('HTTP/1.1 200 OK\r\nConnection: X-Hop\r\nTransfer-Encoding: chunked\r\nTrailer: X-Hop, X-Checksum\r\n\r\n1\r\nx\r\n0\r\nX-Hop: 1\r\nX-Checksum: abc\r\n\r\n');
    });
    running.push(server);
    const { session } = await berthFor(server.url);

    const response = await requestWithTrailers(session);

    expect(response.trailers?.['x-hop']).toBeUndefined();
    expect(response.trailers?.['x-checksum']).toBe('abc');
  });

  test('Content-Type and If-Match trailers dropped', async () => {
    const server = await trailingServer('Content-Type, If-Match, Server-Timing', 'Content-Type: a/b\r\nContent-Type: c/d\r\nIf-Match: "a"\r\nServer-Timing: db;dur=5\r\n');
    const { session } = await berthFor(server.url);

    const response = await requestWithTrailers(session);

    expect(response.status).toBe(200);
    expect(response.trailers?.['content-type']).toBeUndefined();
    expect(response.trailers?.['if-match']).toBeUndefined();
    expect(response.trailers?.['server-timing']).toBe('db;dur=5');
    expect(response.headers.trailer).toBe('Server-Timing');
  });

  test('repeated list trailer joined', async () => {
    const server = await trailingServer('Content-Language', 'Content-Language: en\r\nContent-Language: de\r\n');
    const { session } = await berthFor(server.url);

    const response = await requestWithTrailers(session);

    expect(response.status).toBe(200);
    expect(response.trailers?.['content-language']).toBe('en, de');
  });
});

describe('response trailers to HTTP/1.1 clients', () => {
  test('connection-specific trailer dropped', async () => {
    const server = await trailingServer('Keep-Alive, X-Checksum', 'Keep-Alive: 1\r\nX-Checksum: abc\r\n');
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);

    const text = await sendRaw(berth.port, 'GET / HTTP/1.1\r\nHost: app.example.test\r\nTE: trailers\r\nConnection: close\r\n\r\n');

    expect(text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(text).toMatch(/\r\nTrailer: X-Checksum\r\n/i);
    expect(text).toMatch(/\r\n1\r\nx\r\n0\r\nx-checksum: abc\r\n\r\n$/i);
    expect(text).not.toMatch(/keep-alive: 1/i);
  });
});

describe('HTTP/2 trailer send guard', () => {
  test('rejected trailer resets one stream', async () => {
    const errors: unknown[] = [];
    const server = http2.createServer((_request, response) => {
      guardTrailerSend(response, (error) => errors.push(error));
      response.writeHead(200);
      response.write('x');
      // Node.js accepts this in addTrailers and throws only when the trailers are sent.
      response.addTrailers({ connection: 'close' });
      response.end();
    });
    server.listen(0, LOOPBACK);
    await once(server, 'listening');
    running.push(server);
    const session = http2.connect(`http://${LOOPBACK}:${(server.address() as AddressInfo).port}`);
    session.on('error', () => undefined);
    running.push(session);

    const first = await requestWithTrailers(session);
    const second = await requestWithTrailers(session);

    expect(first.status).toBe(200);
    expect(first.trailers).toBeUndefined();
    expect(first.rstCode).toBe(constants.NGHTTP2_INTERNAL_ERROR);
    expect(errors).toHaveLength(2);
    expect((errors[0] as { code?: string }).code).toBe('ERR_HTTP2_INVALID_CONNECTION_HEADERS');
    expect(second.rstCode).toBe(constants.NGHTTP2_INTERNAL_ERROR);
    expect(session.destroyed).toBe(false);
  });
});
