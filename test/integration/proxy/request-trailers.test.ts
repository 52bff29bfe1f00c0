// Trailer fields of a client's request, passed on to an HTTP/1.1 server at the end of a chunked body, as
// Go's ReverseProxy does. undici 7 cannot send them, so these requests go through the node:http client.
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import http2, { type ClientHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, test, vi } from 'vitest';

import { ExpectContinueClient } from '../../../src/proxy/expect-continue.js';
import { requestTrailers } from '../../../src/proxy/request-trailers.js';
import { startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';
import { RawClient } from './raw.js';

const running: Array<RunningServer | InProcessBerth | ClientHttp2Session | { close(): unknown }> = [];
const clients: RawClient[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const client of clients.splice(0)) client.close();
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

/** What the server saw of one request. */
interface Received {
  body: string;
  trailerField: string | undefined;
  transferEncoding: string | undefined;
  contentLength: string | undefined;
  trailers: IncomingHttpHeaders;
}

/** Starts Berth in front of a node:http server that records each request, its body and its trailers. */
async function recordingBerth(): Promise<{ berth: InProcessBerth; received: Received[] }> {
  const received: Received[] = [];
  const server = await startServer((request, response) => {
    let body = '';
    request.setEncoding('latin1');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      received.push({
        body,
        trailerField: request.headers.trailer,
        transferEncoding: request.headers['transfer-encoding'],
        contentLength: request.headers['content-length'],
        trailers: { ...request.trailers },
      });
      response.end('ok');
    });
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url.href] });
  running.push(berth);
  return { berth, received };
}

async function connect(port: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  clients.push(client);
  return client;
}

/** Sends a chunked POST with the given Trailer field and trailer lines, and waits for the response. */
async function sendChunked(port: number, announced: string, trailerLines: string): Promise<string> {
  const client = await connect(port);
  client.write(`POST /upload HTTP/1.1\r\nHost: app.example.test\r\nTransfer-Encoding: chunked\r\nTrailer: ${announced}\r\n\r\n`);
  client.write('5\r\nhello\r\n6\r\n world\r\n');
  client.write(`0\r\n${trailerLines}\r\n`);
  return client.waitFor(/\r\n\r\nok$/);
}

/** Sends a POST on an HTTP/2 session with the body `hello` and the trailer fields `trailers`, and returns the status. */
async function sendHttp2(session: ClientHttp2Session, announced: string, trailers: Record<string, string>): Promise<number> {
  const stream = session.request({ ':method': 'POST', ':path': '/upload', ':authority': 'app.example.test', trailer: announced }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers(trailers));
  stream.end('hello');
  let status = 0;
  stream.on('response', (headers) => (status = Number(headers[':status'])));
  stream.on('error', () => undefined);
  stream.resume();
  await new Promise((resolve) => stream.on('close', resolve));
  return status;
}

describe('request trailers to HTTP/1.1 servers', () => {
  test('HTTP/1.1 client trailer passes through', async () => {
    const { berth, received } = await recordingBerth();
    const send = vi.spyOn(ExpectContinueClient.prototype, 'send');

    const response = await sendChunked(berth.port, 'x-checksum', 'x-checksum: abc\r\n');

    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(send).toHaveBeenCalledTimes(1);
    expect(received).toHaveLength(1);
    expect(received[0]?.body).toBe('hello world');
    expect(received[0]?.trailerField).toBe('x-checksum');
    expect(received[0]?.transferEncoding).toBe('chunked');
    expect(received[0]?.contentLength).toBe(undefined);
    expect(received[0]?.trailers).toEqual({ 'x-checksum': 'abc' });
  });

  // Node.js's parser rejects a Content-Length trailer line before Berth receives it, so Host and Authorization
  // are the fields that may not be trailers here. The requestTrailers tests below cover Content-Length.
  test('HTTP/1.1 forbidden trailer dropped', async () => {
    const { berth, received } = await recordingBerth();

    const response = await sendChunked(berth.port, 'x-checksum, content-length, host, authorization', 'x-checksum: abc\r\nhost: other.example.test\r\nauthorization: secret\r\n');

    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toHaveLength(1);
    expect(received[0]?.trailerField).toBe('x-checksum');
    expect(received[0]?.trailers).toEqual({ 'x-checksum': 'abc' });
    expect(received[0]?.body).toBe('hello world');
  });

  test('only forbidden names means no trailers', async () => {
    const { berth, received } = await recordingBerth();
    const send = vi.spyOn(ExpectContinueClient.prototype, 'send');

    const response = await sendChunked(berth.port, 'content-length, transfer-encoding', '');

    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(send).not.toHaveBeenCalled();
    expect(received).toHaveLength(1);
    expect(received[0]?.body).toBe('hello world');
    expect(received[0]?.trailerField).toBe(undefined);
    expect(received[0]?.transferEncoding).toBe('chunked');
    expect(received[0]?.contentLength).toBe(undefined);
    expect(received[0]?.trailers).toEqual({});
  });

  test('trailer named in Connection dropped', async () => {
    const { berth, received } = await recordingBerth();
    const client = await connect(berth.port);

    client.write('POST /upload HTTP/1.1\r\nHost: app.example.test\r\nConnection: x-hop\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum, x-hop\r\n\r\n');
    client.write('5\r\nhello\r\n0\r\nx-checksum: abc\r\nx-hop: 1\r\n\r\n');
    await client.waitFor(/\r\n\r\nok$/);

    expect(received[0]?.trailerField).toBe('x-checksum');
    expect(received[0]?.trailers).toEqual({ 'x-checksum': 'abc' });
  });

  test('trailers with Expect: 100-continue', async () => {
    const { berth, received } = await recordingBerth();
    const client = await connect(berth.port);

    client.write('POST /upload HTTP/1.1\r\nHost: app.example.test\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n');
    await client.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    client.write('5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n');
    await client.waitFor(/\r\n\r\nok$/);

    expect(received).toHaveLength(1);
    expect(received[0]?.body).toBe('hello');
    expect(received[0]?.trailerField).toBe('x-checksum');
    expect(received[0]?.transferEncoding).toBe('chunked');
    expect(received[0]?.contentLength).toBe(undefined);
    expect(received[0]?.trailers).toEqual({ 'x-checksum': 'abc' });
  });

  test('HTTP/2 client trailer passes through', async () => {
    const { berth, received } = await recordingBerth();
    const session = await connectHttp2(berth.port);
    running.push(session);

    // A content-length trailer ended in a PROTOCOL_ERROR reset (Node.js 20.20), so Authorization is the forbidden field here.
    const status = await sendHttp2(session, 'x-checksum, authorization', { 'x-checksum': 'abc', authorization: 'secret' });

    expect(status).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0]?.body).toBe('hello');
    expect(received[0]?.trailerField).toBe('x-checksum');
    expect(received[0]?.transferEncoding).toBe('chunked');
    expect(received[0]?.contentLength).toBe(undefined);
    expect(received[0]?.trailers).toEqual({ 'x-checksum': 'abc' });
  });

  test('request with Content-Length keeps undici', async () => {
    const { berth, received } = await recordingBerth();
    const send = vi.spyOn(ExpectContinueClient.prototype, 'send');
    const session = await connectHttp2(berth.port);
    running.push(session);

    const stream = session.request({ ':method': 'POST', ':path': '/upload', ':authority': 'app.example.test', 'content-length': '5', trailer: 'x-checksum' });
    stream.on('error', () => undefined);
    stream.end('hello');
    stream.resume();
    await new Promise((resolve) => stream.on('close', resolve));

    expect(send).not.toHaveBeenCalled();
    expect(received).toHaveLength(1);
    expect(received[0]?.body).toBe('hello');
    expect(received[0]?.trailerField).toBe(undefined);
    expect(received[0]?.transferEncoding).toBe(undefined);
    expect(received[0]?.contentLength).toBe('5');
    expect(received[0]?.trailers).toEqual({});
  });

  test('h2c server gets body without trailers', async () => {
    const seen: Array<{ trailer: unknown; body: string; trailers: unknown }> = [];
    const server = http2.createServer();
    server.on('stream', (stream: ServerHttp2Stream, headers) => {
      let body = '';
      let trailers: unknown;
      stream.on('error', () => undefined);
      stream.on('trailers', (fields) => (trailers = fields));
      stream.setEncoding('latin1');
      stream.on('data', (chunk: string) => (body += chunk));
      stream.on('end', () => {
        seen.push({ trailer: headers.trailer, body, trailers });
        stream.respond({ ':status': 200, 'content-length': '2' });
        stream.end('ok');
      });
    });
    server.listen(0, LOOPBACK);
    await once(server, 'listening');
    running.push({ close: () => new Promise((resolve) => server.close(resolve)) });
    const berth = await startInProcessBerth({ servers: [`h2c://${LOOPBACK}:${(server.address() as AddressInfo).port}`] });
    running.push(berth);

    const response = await sendChunked(berth.port, 'x-checksum', 'x-checksum: abc\r\n');

    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen).toEqual([{ trailer: undefined, body: 'hello world', trailers: undefined }]);
  });

  test('request without Trailer goes through undici', async () => {
    const { berth, received } = await recordingBerth();
    const send = vi.spyOn(ExpectContinueClient.prototype, 'send');
    const client = await connect(berth.port);

    client.write('POST /upload HTTP/1.1\r\nHost: app.example.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    await client.waitFor(/\r\n\r\nok$/);

    expect(send).not.toHaveBeenCalled();
    expect(received).toHaveLength(1);
    expect(received[0]?.body).toBe('hello world');
    expect(received[0]?.trailerField).toBe(undefined);
    expect(received[0]?.transferEncoding).toBe('chunked');
    expect(received[0]?.contentLength).toBe(undefined);
    expect(received[0]?.trailers).toEqual({});
  });
});

describe('requestTrailers', () => {
  // A fake request, because neither Node.js parser lets a client send a Content-Length trailer.
  function fakeRequest(headers: IncomingHttpHeaders, trailers: IncomingHttpHeaders): IncomingMessage {
    return { headers, rawHeaders: [], trailers } as unknown as IncomingMessage;
  }

  test('Content-Length trailer dropped', () => {
    const section = requestTrailers(fakeRequest({ trailer: 'x-checksum, Content-Length' }, { 'x-checksum': 'abc', 'content-length': '99', 'transfer-encoding': 'gzip' }), []);

    expect(section?.announced).toBe('x-checksum');
    expect(section?.fields()).toEqual({ 'x-checksum': 'abc' });
  });

  // Observed: a trailer named like a field of the header section sent to the server passed on. Expected: it is dropped.
  test('sent header names dropped', () => {
    const section = requestTrailers(fakeRequest({ trailer: 'x-checksum, x-user, x-real-ip' }, { 'x-checksum': 'abc', 'x-user': 'admin', 'x-real-ip': '10.9.9.9' }), ['x-user', 'alice']);

    expect(section?.announced).toBe('x-checksum');
    expect(section?.fields()).toEqual({ 'x-checksum': 'abc' });
  });

  test('none with Content-Length header', () => {
    expect(requestTrailers(fakeRequest({ trailer: 'x-checksum', 'content-length': '5' }, {}), [])).toBeUndefined();
  });
});
