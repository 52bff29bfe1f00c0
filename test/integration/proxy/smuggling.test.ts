// Ambiguous request framing sent as raw bytes to a real entry point: Berth responds 400 and closes
// the connection, and the server never receives the request hidden in the body.
import net from 'node:net';
import { once } from 'node:events';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const SMUGGLED = 'GET /admin HTTP/1.1\r\nHost: app.example.test\r\n\r\n';
const SMUGGLED_CHUNK = `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`;

let server: RunningServer;
let berth: InProcessBerth;
const seen: Array<{ method: string; url: string; headers: Record<string, unknown> }> = [];

beforeAll(async () => {
  server = await startServer((request, response) => {
    seen.push({ method: request.method ?? '', url: request.url ?? '', headers: { ...request.headers } });
    request.resume();
    request.on('end', () => response.end('ok'));
  });
  berth = await startInProcessBerth({ servers: [server.url.origin] });
});

afterAll(async () => {
  await berth.close();
  await server.close();
});

/** Writes `bytes` in one write and returns what Berth sent until it closed the connection, and whether it did within 3 s. */
async function exchange(bytes: string): Promise<{ answer: string; closed: boolean }> {
  const socket = net.connect(berth.port, LOOPBACK);
  socket.write(bytes, 'latin1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = await Promise.race([once(socket, 'close').then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3_000))]);
  socket.destroy();
  return { answer: Buffer.concat(chunks).toString('latin1'), closed };
}

describe('smuggling through the entry point', () => {
  test.each([
    { desc: 'Content-Length with Transfer-Encoding', head: 'Content-Length: 0\r\nTransfer-Encoding: chunked\r\n', body: SMUGGLED_CHUNK },
    { desc: 'two Transfer-Encoding lines', head: 'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n', body: SMUGGLED_CHUNK },
    { desc: 'chunked followed by a tab', head: 'Transfer-Encoding: chunked\t\r\nContent-Length: 0\r\n', body: SMUGGLED_CHUNK },
    { desc: 'xchunked', head: 'Transfer-Encoding: xchunked\r\n', body: SMUGGLED_CHUNK },
    { desc: 'chunked not last', head: 'Transfer-Encoding: chunked, identity\r\n', body: SMUGGLED_CHUNK },
    { desc: 'two different Content-Length values', head: 'Content-Length: 5\r\nContent-Length: 6\r\n', body: `hello${SMUGGLED}` },
    { desc: 'Content-Length list', head: 'Content-Length: 5, 6\r\n', body: `hello${SMUGGLED}` },
    { desc: 'invalid chunk size', head: 'Transfer-Encoding: chunked\r\n', body: `zz\r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
    { desc: 'chunk size with sign', head: 'Transfer-Encoding: chunked\r\n', body: `+5\r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
    { desc: 'space before colon', head: 'Transfer-Encoding : chunked\r\nContent-Length: 0\r\n', body: SMUGGLED_CHUNK },
  ])('400 and close: $desc', async ({ head, body }) => {
    seen.length = 0;
    const { answer, closed } = await exchange(`POST / HTTP/1.1\r\nHost: app.example.test\r\n${head}\r\n${body}`);

    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    // Exactly one response: nothing after the 400.
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(closed).toBe(true);
    expect(seen.map((request) => request.url)).not.toContain('/admin');
    expect(seen).toHaveLength(0);
  });

  test('501 and close for gzip, chunked', async () => {
    seen.length = 0;
    const { answer, closed } = await exchange(`POST / HTTP/1.1\r\nHost: app.example.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${SMUGGLED_CHUNK}`);

    expect(answer).toMatch(/^HTTP\/1\.1 501 /);
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(closed).toBe(true);
    expect(seen).toHaveLength(0);
  });

  test('valid chunked body still forwarded', async () => {
    seen.length = 0;
    const { answer } = await exchange('POST /ok HTTP/1.1\r\nHost: app.example.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url).toBe('/ok');
  });
});

describe('entry point limits', () => {
  test('oversized head gets 431', async () => {
    const { answer, closed } = await exchange(`GET / HTTP/1.1\r\nHost: app.example.test\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(closed).toBe(true);
  });

  test('head under the limit accepted', async () => {
    const { answer } = await exchange(`GET / HTTP/1.1\r\nHost: app.example.test\r\nX-Big: ${'a'.repeat(12_000)}\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  });

  test('HTTP/1.1 without Host gets 400', async () => {
    seen.length = 0;
    const { answer, closed } = await exchange('GET /no-host HTTP/1.1\r\n\r\n');

    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(closed).toBe(true);
    expect(seen).toHaveLength(0);
  });

  test('HTTP/1.0 without Host still routed', async () => {
    seen.length = 0;
    const { answer } = await exchange('GET /old-client HTTP/1.0\r\n\r\n');

    expect(answer).toMatch(/^HTTP\/1\.[01] 200 /);
    expect(seen.map((request) => request.url)).toEqual(['/old-client']);
  });
});
