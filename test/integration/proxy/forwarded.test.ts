// X-Forwarded-* trust per entry point, and hop-by-hop removal before middlewares, through a real
// entry point, dispatcher and forwarder.
import type { IncomingHttpHeaders } from 'node:http';

import { afterEach, describe, expect, test } from 'vitest';

import { send, sendRaw, startServer, type RunningServer } from '../../proxy/harness.js';
import { startInProcessBerth, type InProcessBerth, type InProcessOptions } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

/** Starts a server that records request headers, and Berth in front of it. */
async function setUp(options: Omit<InProcessOptions, 'servers'> = {}): Promise<{ berth: InProcessBerth; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = await startServer((request, response) => {
    seen.push(request.headers);
    response.end('ok');
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url.origin], ...options });
  running.push(berth);
  return { berth, seen };
}

const SPOOFED = {
  'x-forwarded-for': '1.1.1.1',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'evil.example.test',
  'x-real-ip': '1.1.1.1',
};

describe('forwarded headers', () => {
  test('untrusted peer values replaced', async () => {
    const { berth, seen } = await setUp({ entryPoint: { forwardedHeaders: { trustedIPs: ['10.0.0.0/8'], insecure: false } } });

    const response = await send(berth.port, { headers: { host: 'app.example.test', ...SPOOFED } });

    expect(response.status).toBe(200);
    expect(seen[0]?.['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen[0]?.['x-forwarded-proto']).toBe('http');
    expect(seen[0]?.['x-forwarded-host']).toBe('app.example.test');
    expect(seen[0]?.['x-real-ip']).toBe('127.0.0.1');
  });

  test('trusted peer values kept', async () => {
    const { berth, seen } = await setUp({ entryPoint: { forwardedHeaders: { trustedIPs: ['127.0.0.0/8'], insecure: false } } });

    await send(berth.port, { headers: { host: 'app.example.test', ...SPOOFED } });

    expect(seen[0]?.['x-forwarded-for']).toBe('1.1.1.1, 127.0.0.1');
    expect(seen[0]?.['x-forwarded-proto']).toBe('https');
    expect(seen[0]?.['x-forwarded-host']).toBe('evil.example.test');
    expect(seen[0]?.['x-real-ip']).toBe('1.1.1.1');
  });

  test('insecure trusts every peer', async () => {
    const { berth, seen } = await setUp({ entryPoint: { forwardedHeaders: { trustedIPs: [], insecure: true } } });
    await send(berth.port, { headers: { host: 'app.example.test', ...SPOOFED } });
    expect(seen[0]?.['x-forwarded-for']).toBe('1.1.1.1, 127.0.0.1');
  });

  test('no trusted IPs by default', async () => {
    const { berth, seen } = await setUp();
    await send(berth.port, { headers: { host: 'app.example.test', ...SPOOFED, forwarded: 'for=1.1.1.1' } });
    expect(seen[0]?.['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen[0]?.forwarded).toBeUndefined();
  });

  test('middleware value survives untrusted stripping', async () => {
    const { berth, seen } = await setUp({
      middlewares: { proto: { type: 'headers', options: { customrequestheaders: { 'X-Forwarded-Proto': 'https' } } } },
    });
    await send(berth.port, { headers: { host: 'app.example.test', 'x-forwarded-proto': 'gopher' } });
    expect(seen[0]?.['x-forwarded-proto']).toBe('https');
  });

  test('websocket upgrade gets ws', async () => {
    const { berth, seen } = await setUp();
    const request =
      'GET /chat HTTP/1.1\r\nHost: app.example.test\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Forwarded-Proto: https\r\n\r\n';
    // The server does not switch protocols, so Berth passes its 200 on and closes the connection.
    const answer = await sendRaw(berth.port, request);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen[0]?.['x-forwarded-proto']).toBe('ws');
  });
});

describe('connection header', () => {
  test('client cannot strip middleware headers', async () => {
    const { berth, seen } = await setUp({
      middlewares: { custom: { type: 'headers', options: { customrequestheaders: { 'X-From-Proxy': 'berth', 'X-Auth-User': 'alice' } } } },
    });

    await send(berth.port, {
      headers: {
        host: 'app.example.test',
        connection: 'keep-alive, X-Auth-User, X-From-Proxy, X-Forwarded-For',
        'keep-alive': 'timeout=5',
        'x-auth-user': 'mallory',
      },
    });

    const headers = seen[0] ?? {};
    expect(headers['x-from-proxy']).toBe('berth');
    expect(headers['x-auth-user']).toBe('alice');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['keep-alive']).toBeUndefined();
  });
});
