// Request lines and Host fields that Berth must reject before routing, sent as raw bytes over plain
// TCP and over TLS (the HTTP/1.1 fallback of the HTTP/2 server), and the HTTP/2 authority checks.
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, connectHttp2, requestHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';

type Transport = 'plain' | 'tls alpn http/1.1' | 'tls without alpn';

let server: RunningServer;
let berth: InProcessBerth;
const seen: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];

beforeAll(async () => {
  server = await startServer((request, response) => {
    let body = '';
    request.setEncoding('latin1');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      seen.push({ url: request.url ?? '', headers: request.headers, body });
      response.end('ok');
    });
  });
  berth = await startInProcessBerth({ servers: [server.url.origin] });
});

afterAll(async () => {
  await berth.close();
  await server.close();
});

function connect(transport: Transport): net.Socket {
  if (transport === 'plain') return net.connect(berth.port, LOOPBACK);
  const options: tls.ConnectionOptions = { host: LOOPBACK, port: berth.port, servername: 'app.example.test', rejectUnauthorized: false };
  if (transport === 'tls alpn http/1.1') options.ALPNProtocols = ['http/1.1'];
  return tls.connect(options);
}

/** Writes `bytes` and returns what Berth sent until it closed the connection, and whether it did within 3 s. */
async function exchange(transport: Transport, bytes: string): Promise<{ answer: string; closed: boolean }> {
  const socket = connect(transport);
  socket.on('error', () => undefined);
  await once(socket, transport === 'plain' ? 'connect' : 'secureConnect');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(bytes, 'latin1');
  const closed = await Promise.race([once(socket, 'close').then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3_000))]);
  socket.destroy();
  return { answer: Buffer.concat(chunks).toString('latin1'), closed };
}

const TRANSPORTS: Transport[] = ['plain', 'tls alpn http/1.1', 'tls without alpn'];

describe.each(TRANSPORTS)('HTTP/1 request checks over %s', (transport) => {
  test.each([
    { line: 'GET /v HTTP/2.0', status: 505 },
    { line: 'GET /v HTTP/0.9', status: 505 },
    { line: 'GET /v', status: 505 },
    // llhttp itself rejects versions other than 0.9, 1.0, 1.1 and 2.0.
    { line: 'GET /v HTTP/3.0', status: 400 },
    { line: 'GET /v HTTP/1.2', status: 400 },
  ])('$status and close: request line $line', async ({ line, status }) => {
    seen.length = 0;
    const { answer, closed } = await exchange(transport, `${line}\r\nHost: app.example.test\r\n\r\n`);

    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(closed).toBe(true);
    expect(seen).toHaveLength(0);
  });

  test.each([
    { desc: 'HTTP/1.1 without Host', head: 'GET /h HTTP/1.1\r\n' },
    { desc: 'two Host lines', head: 'GET /h HTTP/1.1\r\nHost: app.example.test\r\nHost: other.example.test\r\n' },
    { desc: 'two Host lines in HTTP/1.0', head: 'GET /h HTTP/1.0\r\nHost: app.example.test\r\nhost: other.example.test\r\n' },
    { desc: 'Host with a space', head: 'GET /h HTTP/1.1\r\nHost: app.example.test other\r\n' },
    { desc: 'Host with a slash', head: 'GET /h HTTP/1.1\r\nHost: app.example.test/x\r\n' },
    { desc: 'Host with userinfo', head: 'GET /h HTTP/1.1\r\nHost: user@app.example.test\r\n' },
  ])('400 and close: $desc', async ({ head }) => {
    seen.length = 0;
    const { answer, closed } = await exchange(transport, `${head}\r\n`);

    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(closed).toBe(true);
    expect(seen).toHaveLength(0);
  });

  // Before, GET /%zz%00%ff reached the server, as Go's server (and so Traefik) would not let it.
  test.each(['/%zz%00%ff', '/a%', 'http://app.example.test/%4'])('400 and close: invalid escape in %s', async (target) => {
    seen.length = 0;
    const { answer, closed } = await exchange(transport, `GET ${target} HTTP/1.1\r\nHost: app.example.test\r\n\r\n`);

    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(closed).toBe(true);
    expect(seen).toHaveLength(0);
  });

  test.each([
    { desc: 'HTTP/1.0 without Host', head: 'GET /ok HTTP/1.0\r\n' },
    { desc: 'Host with port', head: 'GET /ok HTTP/1.1\r\nHost: app.example.test:8443\r\nConnection: close\r\n' },
    { desc: 'IPv6 literal Host', head: 'GET /ok HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n' },
    { desc: 'empty Host', head: 'GET /ok HTTP/1.1\r\nHost:\r\nConnection: close\r\n' },
  ])('routed: $desc', async ({ head }) => {
    seen.length = 0;
    const { answer } = await exchange(transport, `${head}\r\n`);

    expect(answer).toMatch(/^HTTP\/1\.[01] 200 /);
    expect(seen.map((request) => request.url)).toEqual(['/ok']);
  });

  test.each(['GET', 'POST', 'CONNECT'])('400 and close: %s with the asterisk form', async (method) => {
    seen.length = 0;
    const { answer, closed } = await exchange(transport, `${method} * HTTP/1.1\r\nHost: app.example.test\r\nContent-Length: 0\r\n\r\n`);

    expect(answer).toMatch(method === 'CONNECT' ? /^HTTP\/1\.1 (400|405) / : /^HTTP\/1\.1 400 /);
    expect(closed).toBe(true);
    expect(seen).toHaveLength(0);
  });

  test('OPTIONS * gets 200, next request routed', async () => {
    seen.length = 0;
    const options = 'OPTIONS * HTTP/1.1\r\nHost: app.example.test\r\n\r\n';
    const next = 'GET /after HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n';
    const { answer } = await exchange(transport, options + next);

    const responses = answer.split(/(?=HTTP\/1\.1 )/);
    expect(responses[0]).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(responses[0]).toMatch(/\r\ncontent-length: 0\r\n/i);
    expect(responses[1]).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen.map((request) => request.url)).toEqual(['/after']);
  });

  test('header lines after the 2000th kept', async () => {
    seen.length = 0;
    const filler = 'x: 1\r\n'.repeat(2_500);
    const { answer } = await exchange(transport, `POST /many HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n${filler}x-last: yes\r\nContent-Length: 5\r\n\r\nhello`);

    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.body).toBe('hello');
    expect(seen[0]?.headers['x-last']).toBe('yes');
  });
});

describe('HTTP/2 authority checks', () => {
  test('host differing from :authority gets 400', async () => {
    seen.length = 0;
    const session = await connectHttp2(berth.port);
    const response = await requestHttp2(session, { ':path': '/h2', ':authority': 'app.example.test', host: 'other.example.test' });
    session.close();

    expect(response.status).toBe(400);
    expect(seen).toHaveLength(0);
  });

  test('host equal to :authority uses :authority', async () => {
    seen.length = 0;
    const session = await connectHttp2(berth.port);
    const response = await requestHttp2(session, { ':path': '/h2', ':authority': 'app.example.test', host: 'APP.example.test' });
    session.close();

    expect(response.status).toBe(200);
    expect(seen[0]?.headers.host).toBe('app.example.test');
    expect(seen[0]?.headers['x-forwarded-host']).toBe('app.example.test');
  });

  test('invalid host field not forwarded', async () => {
    seen.length = 0;
    const session = await connectHttp2(berth.port);
    const response = await requestHttp2(session, { ':path': '/h2', ':authority': 'app.example.test', host: 'app.example.test/x' });
    session.close();

    // nghttp2 drops a host field with bytes invalid in an authority before Berth receives the request.
    expect(response.status).toBe(200);
    expect(seen[0]?.headers.host).toBe('app.example.test');
  });

  test('OPTIONS * gets 200 from Berth', async () => {
    seen.length = 0;
    const session = await connectHttp2(berth.port);
    const response = await requestHttp2(session, { ':method': 'OPTIONS', ':path': '*', ':authority': 'app.example.test' });
    session.close();

    expect(response.status).toBe(200);
    expect(seen).toHaveLength(0);
  });

  test('rejections logged at debug', () => {
    const reasons = berth.logs().filter((line) => line.msg === 'rejected a request').map((line) => line.reason);

    expect(reasons).toContain('host field differs from :authority');
    expect(reasons).toContain('more than one Host field');
  });
});

describe('TLS HTTP/1.1 fallback settings', () => {
  test('maxHeaderSize applied', async () => {
    const small = await startInProcessBerth({ servers: [server.url.origin], entryPoint: { maxHeaderSize: 4_096 } });
    const socket = tls.connect({ host: LOOPBACK, port: small.port, servername: 'app.example.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    socket.on('error', () => undefined);
    await once(socket, 'secureConnect');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.write(`GET / HTTP/1.1\r\nHost: app.example.test\r\nX-Big: ${'a'.repeat(6_000)}\r\n\r\n`);
    await Promise.race([once(socket, 'close'), new Promise((resolve) => setTimeout(resolve, 3_000))]);
    socket.destroy();
    await small.close();

    expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^HTTP\/1\.1 431 /);
  });
});
