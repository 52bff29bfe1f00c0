import { once } from 'node:events';
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { createForwarder } from '../../src/proxy/forwarder.js';
import { CONTEXT, closedPort, LOOPBACK, send, startProxy, startServer, type RunningServer } from './harness.js';

const running: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function track<T extends RunningServer>(server: Promise<T>): Promise<T> {
  const started = await server;
  running.push(started);
  return started;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('forwarder connections', () => {
  it('survives a 1 s server keep-alive', { timeout: 15_000 }, async () => {
    const server = await track(startServer((_request, response) => response.end('ok')));
    server.server.keepAliveTimeout = 1000;
    const proxy = await track(startProxy(server.url));

    const statuses: number[] = [];
    for (const delay of [0, 1000, 950, 1050, 1000, 1000]) {
      await sleep(delay);
      statuses.push((await send(proxy.port)).status);
    }

    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it('never reuses a closed connection', async () => {
    const remotePorts: number[] = [];
    const server = await track(
      startServer((request, response) => {
        remotePorts.push(request.socket.remotePort ?? 0);
        response.setHeader('connection', 'close');
        response.end('ok');
      }),
    );
    const proxy = await track(startProxy(server.url));

    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await send(proxy.port)).status);
    }

    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(new Set(remotePorts).size).toBe(4);
  });

  it('closes idle server connections', async () => {
    let serverSocketClosed: Promise<unknown> | undefined;
    const server = await track(
      startServer((request, response) => {
        serverSocketClosed ??= once(request.socket, 'close');
        response.end('ok');
      }),
    );
    const proxy = await track(startProxy(server.url, { forwarder: { idleTimeoutMs: 100 } }));

    const started = Date.now();
    await send(proxy.port);
    await serverSocketClosed;

    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('forwarder over HTTP/2', () => {
  /** Starts a cleartext HTTP/2 server whose handler forwards through the compatibility API. */
  async function startH2Proxy(target: URL, responseHeaderTimeoutMs = 0): Promise<{ port: number }> {
    const forwarder = createForwarder({ responseHeaderTimeoutMs });
    const upstream = { url: target, passHostHeader: true };
    const server = http2.createServer((request, response) => {
      void forwarder.forward(request as unknown as IncomingMessage, response as unknown as ServerResponse, upstream, CONTEXT);
    });
    server.listen(0, LOOPBACK);
    await once(server, 'listening');
    running.push({
      async close() {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await forwarder.close();
      },
    });
    return { port: (server.address() as AddressInfo).port };
  }

  async function h2Get(port: number, path = '/'): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
    const session = http2.connect(`http://${LOOPBACK}:${port}`);
    try {
      const stream = session.request({ ':path': path, ':method': 'GET' });
      const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
      let body = '';
      stream.setEncoding('utf8');
      for await (const chunk of stream) {
        body += chunk as string;
      }
      return { status: Number(headers[':status']), headers, body };
    } finally {
      session.close();
    }
  }

  it('strips hop-by-hop response fields', async () => {
    const server = await track(
      startServer((request, response) => {
        response.setHeader('keep-alive', 'timeout=5');
        response.setHeader('upgrade', 'h2c');
        response.setHeader('set-cookie', ['a=1', 'b=2']);
        response.end(`host=${request.headers.host ?? ''}`);
      }),
    );
    const { port } = await startH2Proxy(server.url);

    const answer = await h2Get(port, '/x');

    expect(answer.status).toBe(200);
    expect(answer.headers['keep-alive']).toBeUndefined();
    expect(answer.headers.upgrade).toBeUndefined();
    expect(answer.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(answer.body).toBe(`host=${LOOPBACK}:${port}`);
  });

  it('responds 502 to a refused connection', async () => {
    const port = await closedPort();
    const { port: proxyPort } = await startH2Proxy(new URL(`http://${LOOPBACK}:${port}`));

    const answer = await h2Get(proxyPort);

    expect(answer.status).toBe(502);
    expect(answer.body).toBe('502 Bad Gateway\n');
  });

  it('responds 504 to a late header', async () => {
    const server = await track(startServer((_request, response) => void setTimeout(() => response.end(), 2000).unref()));
    const { port } = await startH2Proxy(server.url, 200);

    const answer = await h2Get(port);

    expect(answer.status).toBe(504);
  });
});
