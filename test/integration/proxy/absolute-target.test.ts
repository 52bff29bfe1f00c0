// Absolute-form request targets (`GET http://host/path`), whose authority replaces the Host field for
// routing and forwarding: userinfo or invalid bytes in it must get 400 before routing, and an empty
// authority keeps the Host field. A `Host(secure.example)` router guarded by an allow list that
// excludes 127.0.0.1 shows whether the guard ran: it responds 403.
import type { IncomingHttpHeaders } from 'node:http';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, requestHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';
import { RawClient } from './raw.js';

let server: RunningServer;
let berth: InProcessBerth;
const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];

beforeAll(async () => {
  server = await startServer((request, response) => {
    seen.push({ url: request.url ?? '', headers: request.headers });
    response.end('ok');
  });
  berth = await startInProcessBerth({
    servers: [server.url.origin],
    middlewares: { guard: { type: 'ipallowlist', options: { sourceRange: ['10.0.0.0/8'] } } },
    hostRouters: { 'secure.example': ['guard'] },
  });
});

afterAll(async () => {
  await berth.close();
  await server.close();
});

/** Sends `head` plus an empty line on a new connection and returns everything Berth sent until it closed. */
async function exchange(head: string): Promise<string> {
  const client = await RawClient.connect(berth.port);
  client.write(`${head}\r\n`);
  await client.waitForClose();
  return client.received;
}

describe('absolute-form authority', () => {
  test.each([
    { desc: 'userinfo', target: 'http://x@secure.example/admin' },
    { desc: 'empty userinfo', target: 'http://@secure.example/' },
    { desc: 'userinfo with password', target: 'http://u:p@secure.example/admin' },
    { desc: 'userinfo and port', target: 'http://x@secure.example:80/admin' },
    { desc: 'https scheme with userinfo', target: 'https://x@secure.example/admin' },
    { desc: 'percent-escape and userinfo', target: 'http://x%40y@secure.example/' },
  ])('400 and close: $desc', async ({ target }) => {
    seen.length = 0;
    const answer = await exchange(`GET ${target} HTTP/1.1\r\nHost: secure.example\r\nConnection: close\r\n`);

    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(seen).toHaveLength(0);
  });

  test('400 and close: userinfo in an upgrade request', async () => {
    seen.length = 0;
    const answer = await exchange('GET http://x@secure.example/ws HTTP/1.1\r\nHost: secure.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n');

    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(seen).toHaveLength(0);
  });

  test('guard runs for the plain authority', async () => {
    seen.length = 0;
    const answer = await exchange('GET http://secure.example/admin HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n');

    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    expect(seen).toHaveLength(0);
  });

  test('authority with a port routed by its host', async () => {
    seen.length = 0;
    const answer = await exchange('GET http://app.example:8080/p?q=1 HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n');

    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen.map((request) => request.url)).toEqual(['/p?q=1']);
    expect(seen[0]?.headers.host).toBe('app.example:8080');
  });

  test('empty authority keeps the Host field', async () => {
    seen.length = 0;
    const answer = await exchange('GET http:///x HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n');

    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen.map((request) => request.url)).toEqual(['/x']);
    expect(seen[0]?.headers.host).toBe('a.example');
    expect(seen[0]?.headers['x-forwarded-host']).toBe('a.example');
  });

  test('empty authority routed by the Host field', async () => {
    seen.length = 0;
    const answer = await exchange('GET http:///admin HTTP/1.1\r\nHost: secure.example\r\nConnection: close\r\n');

    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    expect(seen).toHaveLength(0);
  });

  test('rejection logged with its reason', () => {
    const reasons = berth.logs().filter((line) => line.msg === 'rejected a request').map((line) => line.reason);

    expect(reasons).toContain('userinfo in the authority of an absolute-form target');
  });
});

describe('HTTP/2 authority with userinfo', () => {
  test(':authority with userinfo rejected', async () => {
    seen.length = 0;
    const session = await connectHttp2(berth.port);
    const outcome = await requestHttp2(session, { ':path': '/admin', ':authority': 'x@secure.example' }).then(
      (response) => `status ${response.status}`,
      (error: unknown) => (error as { code?: string }).code,
    );
    session.close();

    // The nghttp2 of Node.js 20 passes `@` in :authority on, and the entry point's Host check
    // responds 400. The nghttp2 of Node.js 24 resets the stream itself.
    expect(['status 400', 'ERR_HTTP2_STREAM_ERROR']).toContain(outcome);
    expect(seen).toHaveLength(0);
  });

  test(':path in absolute form reset by nghttp2', async () => {
    seen.length = 0;
    const session = await connectHttp2(berth.port);
    const outcome = await requestHttp2(session, { ':path': 'http://x@secure.example/admin', ':authority': 'secure.example' }).then(
      (response) => `status ${response.status}`,
      (error: unknown) => (error as { code?: string }).code,
    );
    session.close();

    // nghttp2 accepts only a `:path` that starts with `/` (or `*`) and resets the stream otherwise.
    expect(outcome).toBe('ERR_HTTP2_STREAM_ERROR');
    expect(seen).toHaveLength(0);
  });
});
