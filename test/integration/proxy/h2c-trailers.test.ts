// Trailer fields of an h2c server's response (`server.scheme=h2c`). Observed: the client got the body and no
// trailer fields, on HTTP/2 and on HTTP/1.1, because undici's HTTP/2 client hands them over in a form its own
// handler adapter reads as empty. Expected: they pass through as they do from an HTTP/1.1 server, without the
// fields that are never forwarded as trailers.
import { once } from 'node:events';
import http2, { type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, test } from 'vitest';

import { sendRaw } from '../../proxy/harness.js';
import { connectHttp2, LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<InProcessBerth | { close(): unknown }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

/** Starts an h2c server that responds 200 with the text `body`, then the trailer fields `trailers`. */
async function trailingH2cServer(trailers: Record<string, string | string[]>): Promise<string> {
  const server = http2.createServer();
  server.on('stream', (stream: ServerHttp2Stream) => {
    stream.on('error', () => undefined);
    stream.respond({ ':status': 200, 'content-type': 'text/plain', trailer: Object.keys(trailers).join(', ') }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    stream.end('body');
  });
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  running.push({ close: () => new Promise((resolve) => server.close(resolve)) });
  return `h2c://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
}

async function berthFor(serverUrl: string): Promise<InProcessBerth> {
  const berth = await startInProcessBerth({ servers: [serverUrl] });
  running.push(berth);
  return berth;
}

const TRAILERS = { 'x-checksum': 'abc', 'server-timing': ['db;dur=5', 'app;dur=7'], 'content-type': 'text/html' };

describe('h2c server trailers', () => {
  test('reach an HTTP/2 client', async () => {
    const berth = await berthFor(await trailingH2cServer(TRAILERS));
    const session = await connectHttp2(berth.port);
    running.push(session);

    const stream = session.request({ ':authority': 'app.example.test', ':path': '/' });
    stream.on('error', () => undefined);
    let received: http2.IncomingHttpHeaders | undefined;
    stream.on('trailers', (trailers) => {
      received = trailers;
    });
    let body = '';
    stream.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    await new Promise((resolve) => stream.on('close', resolve));

    expect(stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(body).toBe('body');
    expect(received?.['x-checksum']).toBe('abc');
    expect(received?.['server-timing']).toBe('db;dur=5, app;dur=7');
    expect(received?.['content-type']).toBeUndefined();
  });

  test('reach an HTTP/1.1 client', async () => {
    const berth = await berthFor(await trailingH2cServer(TRAILERS));

    const text = await sendRaw(berth.port, 'GET / HTTP/1.1\r\nHost: app.example.test\r\nTE: trailers\r\nConnection: close\r\n\r\n');

    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toMatch(/\r\ntrailer: x-checksum, server-timing\r\n/i);
    expect(text).toMatch(/\r\n0\r\n(?:[^\r\n]+\r\n)*x-checksum: abc\r\n/i);
    // Node.js's HTTP/2 client joins the repeated field into one line with `, `.
    expect(text).toMatch(/\r\nserver-timing: db;dur=5, app;dur=7\r\n/i);
    expect(text).not.toMatch(/\r\n0\r\n(?:[^\r\n]+\r\n)*content-type:/i);
  });
});
