// Backpressure through `compress`: a client that stops reading a large compressed body must stop the
// server's writes, over HTTP/1.1 and HTTP/2 and with gzip and br, and must still get the whole body.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';

import { afterEach, describe, expect, test } from 'vitest';

import { startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth | { close(): unknown }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

const MiB = 1024 * 1024;

/** Size of the server's body. Base64 text of random bytes, which gzip and br shrink to about 76%. */
const BODY_BYTES = 32 * MiB;

/**
 * Size of each server write. undici hands the forwarder at most one chunk of a chunked body per
 * callback, so small chunks make a writer that pauses after every chunk fall furthest behind its reads.
 */
const SERVER_CHUNK_BYTES = 16 * 1024;

/** Compressed bytes the client reads before it pauses, so that Berth has forwarded a while first. */
const READ_BEFORE_PAUSE_BYTES = 8 * MiB;

/**
 * Bytes the server may write beyond what the client decoded when it paused. The kernel buffers of the
 * two loopback connections hold most of them: about 10 MiB in all, measured on Linux 6 with tcp_wmem
 * at most 4 MiB. Berth itself should hold a few hundred KiB at most.
 */
const MAX_AHEAD_OF_CLIENT_BYTES = 16 * MiB;

/** Time without a server write after which the server counts as paused, in ms. */
const STALL_MS = 500;

interface BodyServer {
  server: RunningServer;
  /** Body bytes the server's response has taken so far. */
  written(): number;
}

/** Starts a server that sends `body` as text/plain in SERVER_CHUNK_BYTES writes, waiting for 'drain'. */
async function bodyServer(body: Buffer): Promise<BodyServer> {
  let written = 0;
  const server = await startServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    const pump = (): void => {
      while (written < body.length) {
        const chunk = body.subarray(written, written + SERVER_CHUNK_BYTES);
        written += chunk.length;
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
      response.end();
    };
    pump();
  });
  running.push(server);
  return { server, written: () => written };
}

/** Waits until the server wrote nothing for STALL_MS, or `timeoutMs` passed, and returns the bytes written. */
async function waitForStall(server: BodyServer, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let last = server.written();
  while (performance.now() < deadline) {
    await sleep(STALL_MS);
    const now = server.written();
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** Reads `stream` until at least `bytes` arrived, then pauses it and returns the chunks read. */
async function readThenPause(stream: Readable, bytes: number): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total < bytes) return;
      stream.pause();
      stream.off('data', onData);
      stream.off('error', reject);
      resolve();
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
  return chunks;
}

/** Decompresses `compressed`. With `partial`, a body cut off anywhere yields what its bytes so far decode to. */
function decode(compressed: Buffer, encoding: string, partial: boolean): Buffer {
  if (encoding === 'br') {
    return zlib.brotliDecompressSync(compressed, partial ? { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH } : {});
  }
  return zlib.gunzipSync(compressed, partial ? { finishFlush: zlib.constants.Z_SYNC_FLUSH } : {});
}

/** Requests the body over `protocol`, and returns its Content-Encoding and its body stream. */
async function open(berth: InProcessBerth, protocol: 'http/1.1' | 'h2', encoding: string): Promise<{ contentEncoding: unknown; body: Readable }> {
  if (protocol === 'http/1.1') {
    const request = http.get({ host: LOOPBACK, port: berth.port, path: '/', headers: { 'accept-encoding': encoding }, agent: false });
    const [response] = (await once(request, 'response')) as [http.IncomingMessage];
    return { contentEncoding: response.headers['content-encoding'], body: response };
  }
  const session = await connectHttp2(berth.port);
  running.push(session);
  const stream = session.request({ ':path': '/', ':authority': 'app.example.test', 'accept-encoding': encoding });
  const [headers] = (await once(stream, 'response')) as [http.IncomingHttpHeaders];
  return { contentEncoding: headers['content-encoding'], body: stream };
}

describe('compress backpressure', () => {
  // Before the fix, each resume of the forwarder let undici read 64 KiB from the server's socket and
  // parse one 16 KiB chunk of it. So Berth kept about three times what it forwarded, and the server
  // wrote all 32 MiB while the client had read 8 MiB.
  test.each([
    { protocol: 'http/1.1', encoding: 'gzip' },
    { protocol: 'http/1.1', encoding: 'br' },
    { protocol: 'h2', encoding: 'gzip' },
    { protocol: 'h2', encoding: 'br' },
  ] as const)('$protocol $encoding pauses the server', async ({ protocol, encoding }) => {
    const body = Buffer.from(randomBytes((BODY_BYTES / 4) * 3).toString('base64'));
    const expected = createHash('sha256').update(body).digest('hex');
    const server = await bodyServer(body);
    const berth = await startInProcessBerth({ servers: [server.server.url.origin], middlewares: { squeeze: { type: 'compress', options: {} } } });
    running.push(berth);

    const response = await open(berth, protocol, encoding);
    const chunks = await readThenPause(response.body, READ_BEFORE_PAUSE_BYTES);
    const decodedBeforePause = decode(Buffer.concat(chunks), encoding, true).length;
    const writtenWhilePaused = await waitForStall(server, 15_000);
    for await (const chunk of response.body) chunks.push(chunk as Buffer);
    const received = decode(Buffer.concat(chunks), encoding, false);

    expect(response.contentEncoding).toBe(encoding);
    expect(writtenWhilePaused - decodedBeforePause).toBeLessThan(MAX_AHEAD_OF_CLIENT_BYTES);
    expect(received.length).toBe(BODY_BYTES);
    expect(createHash('sha256').update(received).digest('hex')).toBe(expected);
  });
});

describe('compress inside buffering', () => {
  // With `buffering` before `compress`, buffering sends what it held after compress ended and waits
  // for the response's 'drain'. A compress that kept every 'drain' to itself left that wait hanging.
  test('spooled body arrives whole', async () => {
    const body = Buffer.from(randomBytes(6 * MiB).toString('base64'));
    const server = await bodyServer(body);
    const berth = await startInProcessBerth({
      servers: [server.server.url.origin],
      middlewares: { spool: { type: 'buffering', options: { memResponseBodyBytes: 1 * MiB } }, squeeze: { type: 'compress', options: {} } },
    });
    running.push(berth);

    const response = await open(berth, 'http/1.1', 'gzip');
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(chunk as Buffer);
    const received = decode(Buffer.concat(chunks), 'gzip', false);

    expect(response.contentEncoding).toBe('gzip');
    expect(received.equals(body)).toBe(true);
  });

  // Observed: the client got a closed connection and no response. compress had started its body, and
  // when the server failed, it destroyed the response before buffering could replace what it held.
  // Expected: 502, as with `buffering` alone or `[compress, buffering]`, because no byte was sent yet.
  test.each([
    ['buffering outside', ['spool', 'squeeze']],
    ['compress outside', ['squeeze', 'spool']],
  ])('server failing mid-body gives 502 (%s)', async (_name, order) => {
    const server = await startServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(256 * 1024) });
      response.write(Buffer.alloc(64 * 1024, 'a'));
      setTimeout(() => request.socket.destroy(), 100);
    });
    running.push(server);
    const definitions = { spool: { type: 'buffering', options: {} }, squeeze: { type: 'compress', options: {} } };
    const middlewares = Object.fromEntries(order.map((name) => [name, definitions[name as keyof typeof definitions]]));
    const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares });
    running.push(berth);

    const request = http.get({ host: LOOPBACK, port: berth.port, path: '/', agent: false, headers: { host: 'app.example.test', 'accept-encoding': 'gzip' } });
    const outcome = await new Promise<string>((resolve) => {
      request.on('response', (response) => {
        response.resume();
        resolve(String(response.statusCode));
      });
      request.on('error', (error) => resolve(`error ${error.message}`));
    });
    expect(outcome).toBe('502');
  });
});
