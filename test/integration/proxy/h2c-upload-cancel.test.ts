// Uploads to a server with scheme h2c whose body never ends. Observed: after an HTTP/1.1 client closed its
// connection mid-upload, Berth logged 499, but the server's stream was never reset nor ended, so it stayed open.
// undici aborts with stream.close(), and Node.js sends nothing for it while the body is still being piped.
// Expected: the server's stream is reset, and its body never ends.
import { once } from 'node:events';
import http2, { type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, test } from 'vitest';

import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';
import { RawClient } from './raw.js';

const running: Array<InProcessBerth | { close(): unknown }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

/** What the h2c server saw of one request stream. */
interface SeenUpload {
  bytes: number;
  ended: boolean;
  closed: boolean;
  rstCode: number | undefined;
}

/** Starts an h2c server that reads each request body and never responds, or with `respond`, responds 200 at once. */
async function silentH2cServer(options: { respond?: boolean } = {}): Promise<{ url: string; uploads: SeenUpload[] }> {
  const uploads: SeenUpload[] = [];
  const server = http2.createServer();
  server.on('stream', (stream: ServerHttp2Stream) => {
    const seen: SeenUpload = { bytes: 0, ended: false, closed: false, rstCode: undefined };
    uploads.push(seen);
    stream.on('error', () => undefined);
    stream.on('data', (chunk: Buffer) => {
      seen.bytes += chunk.length;
    });
    stream.on('end', () => {
      seen.ended = true;
    });
    stream.on('close', () => {
      seen.closed = true;
      seen.rstCode = stream.rstCode;
    });
    if (options.respond === true) {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    }
  });
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  running.push({ close: () => new Promise((resolve) => server.close(resolve)) });
  return { url: `h2c://${LOOPBACK}:${(server.address() as AddressInfo).port}`, uploads };
}

async function berthFor(serverUrl: string): Promise<InProcessBerth> {
  const berth = await startInProcessBerth({ servers: [serverUrl] });
  running.push(berth);
  return berth;
}

describe('h2c server, client gone mid-upload', () => {
  test('HTTP/1.1 close resets server stream', async () => {
    const { url, uploads } = await silentH2cServer();
    const berth = await berthFor(url);

    const client = await RawClient.connect(berth.port);
    running.push(client);
    client.write(`POST /upload HTTP/1.1\r\nHost: app.example.test\r\nContent-Length: 5000\r\n\r\n${'z'.repeat(1000)}`);
    await sleep(300);
    client.close();
    await sleep(500);

    expect(uploads).toHaveLength(1);
    expect(uploads[0]?.closed).toBe(true);
    expect(uploads[0]?.ended).toBe(false);
    expect(uploads[0]?.rstCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
    expect(berth.logs().some((line) => line.status === 499)).toBe(true);
  });
});

describe('h2c server, early response', () => {
  // Observed: the client got its 200 and Berth closed its connection (`Connection: close`), so the rest of the
  // body never came, and the server's stream stayed open with neither an end nor a reset. Expected: once the
  // response is complete, the server's stream is reset.
  test('HTTP/1.1 upload resets server stream', async () => {
    const { url, uploads } = await silentH2cServer({ respond: true });
    const berth = await berthFor(url);

    const client = await RawClient.connect(berth.port);
    running.push(client);
    client.write(`POST /upload HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\nContent-Length: 2000\r\n\r\n${'z'.repeat(1000)}`);
    await sleep(300);
    client.write('z'.repeat(1000));
    await sleep(500);

    expect(client.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]?.closed).toBe(true);
  });
});
