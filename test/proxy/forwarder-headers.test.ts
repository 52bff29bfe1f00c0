import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';

import { rawValues, send, sendRaw, startProxy, startServer, type RunningServer } from './harness.js';

const running: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function track<T extends RunningServer>(server: Promise<T>): Promise<T> {
  const started = await server;
  running.push(started);
  return started;
}

/** Starts a server that records the headers of every request it receives. */
async function recordingServer(): Promise<{ server: RunningServer; seen: IncomingHttpHeaders[]; rawSeen: string[][] }> {
  const seen: IncomingHttpHeaders[] = [];
  const rawSeen: string[][] = [];
  const server = await track(
    startServer((request, response) => {
      seen.push(request.headers);
      rawSeen.push(request.rawHeaders);
      response.end('ok');
    }),
  );
  return { server, seen, rawSeen };
}

describe('forwarder request headers', () => {
  it('removes fields named in Connection', async () => {
    const { server, seen } = await recordingServer();
    const proxy = await track(startProxy(server.url));

    await sendRaw(
      proxy.port,
      'GET / HTTP/1.1\r\nHost: app.example.test\r\n' +
        'Connection: keep-alive, X-Foo\r\nX-Foo: 1\r\nKeep-Alive: timeout=5\r\nX-Bar: 2\r\n' +
        'TE: gzip\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Connection: keep-alive\r\n' +
        'Upgrade: h2c\r\n\r\n' +
        'GET /second HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n',
    );

    const headers = seen[0] ?? {};
    expect(headers['x-foo']).toBeUndefined();
    expect(headers['keep-alive']).toBeUndefined();
    expect(headers.te).toBeUndefined();
    expect(headers['proxy-authorization']).toBeUndefined();
    expect(headers['proxy-connection']).toBeUndefined();
    expect(headers.upgrade).toBeUndefined();
    expect(headers['x-bar']).toBe('2');
    // undici's own connection management, not the client's.
    expect(headers.connection).toBe('keep-alive');
    expect(seen).toHaveLength(2);
  });

  it('replaces untrusted X-Forwarded fields', async () => {
    const { server, seen, rawSeen } = await recordingServer();
    const proxy = await track(startProxy(server.url));

    await send(proxy.port, {
      headers: {
        host: 'app.example.test:8080',
        'x-forwarded-for': '1.1.1.1',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example.test',
        'x-forwarded-port': '1',
        'x-forwarded-server': 'evil',
        'x-real-ip': '1.1.1.1',
        forwarded: 'for=1.1.1.1',
      },
    });

    const headers = seen[0] ?? {};
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('app.example.test:8080');
    expect(headers['x-forwarded-port']).toBe('8080');
    expect(headers['x-forwarded-server']).toBe('berth-test');
    expect(headers['x-real-ip']).toBe('127.0.0.1');
    expect(headers.forwarded).toBeUndefined();
    expect(rawValues(rawSeen[0] ?? [], 'x-forwarded-for')).toEqual(['127.0.0.1']);
  });

  it('uses the scheme default for X-Forwarded-Port', async () => {
    const { server, seen } = await recordingServer();
    const proxy = await track(startProxy(server.url));

    await send(proxy.port, { headers: { host: 'app.example.test' } });

    expect(seen[0]?.['x-forwarded-port']).toBe('80');
  });

  it('passes the Host header through', async () => {
    const { server, seen } = await recordingServer();
    const proxy = await track(startProxy(server.url, { passHostHeader: true }));

    await send(proxy.port, { headers: { host: 'app.example.test' } });

    expect(seen[0]?.host).toBe('app.example.test');
  });

  it('sends server authority without passHostHeader', async () => {
    const { server, seen } = await recordingServer();
    const proxy = await track(startProxy(server.url, { passHostHeader: false }));

    await send(proxy.port, { headers: { host: 'app.example.test' } });

    expect(seen[0]?.host).toBe(`127.0.0.1:${server.port}`);
    expect(seen[0]?.['x-forwarded-host']).toBe('app.example.test');
  });

  it('passes Expect 100-continue on', async () => {
    const bodies: string[] = [];
    const server = await track(
      startServer((request, response) => {
        let body = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => (body += chunk));
        request.on('end', () => {
          bodies.push(`${request.headers.expect ?? 'no expect'}|${body}`);
          response.end();
        });
      }),
    );
    const proxy = await track(startProxy(server.url));

    const answer = await send(proxy.port, { method: 'POST', headers: { expect: '100-continue', 'content-length': '5' }, body: 'hello' });

    expect(answer.status).toBe(200);
    expect(bodies).toEqual(['100-continue|hello']);
  });
});

describe('forwarder response headers', () => {
  it('removes hop-by-hop response fields', async () => {
    const server = await track(
      startServer((_request, response) => {
        response.setHeader('connection', 'keep-alive, X-Internal');
        response.setHeader('keep-alive', 'timeout=99');
        response.setHeader('x-internal', 'secret');
        response.setHeader('upgrade', 'h2c');
        response.setHeader('proxy-authenticate', 'Basic');
        response.setHeader('x-public', 'yes');
        response.end('ok');
      }),
    );
    const proxy = await track(startProxy(server.url));

    const answer = await send(proxy.port);

    expect(answer.status).toBe(200);
    expect(answer.headers['x-internal']).toBeUndefined();
    expect(answer.headers.upgrade).toBeUndefined();
    expect(answer.headers['proxy-authenticate']).toBeUndefined();
    expect(answer.headers['keep-alive']).not.toBe('timeout=99');
    expect(answer.headers['x-public']).toBe('yes');
    expect(answer.body).toBe('ok');
  });
});
