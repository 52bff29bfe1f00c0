import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { ClientClosedError, UpstreamConnectError, UpstreamResetError, UpstreamTimeoutError } from '../../src/errors.js';
import { createForwarder } from '../../src/proxy/forwarder.js';
import type { ForwardOutcome } from '../../src/proxy/types.js';
import { CONTEXT, closedPort, LOOPBACK, send, sendRaw, startProxy, startServer, type RunningServer } from './harness.js';

const running: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function track<T extends RunningServer>(server: Promise<T>): Promise<T> {
  const started = await server;
  running.push(started);
  return started;
}

describe('forwarder failures', () => {
  it('responds 502 to a refused connection', async () => {
    const port = await closedPort();
    const proxy = await track(startProxy(new URL(`http://${LOOPBACK}:${port}`)));

    const answer = await send(proxy.port);
    const outcome = await proxy.nextOutcome();

    expect(answer.status).toBe(502);
    expect(answer.body).toBe('502 Bad Gateway\n');
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(outcome.status).toBe(502);
    expect(outcome.safeToRetry).toBe(true);
    expect(outcome.error).toBeInstanceOf(UpstreamConnectError);
  });

  it('leaves body unread when refused', async () => {
    const port = await closedPort();
    const forwarder = createForwarder();
    const upstream = { url: new URL(`http://${LOOPBACK}:${port}`), passHostHeader: true };
    const results: { outcome: ForwardOutcome; dataListeners: number }[] = [];
    const proxy = await track(
      startServer((request, response) => {
        // Node.js discards an unread body after the response by resuming the stream, which adds no
        // 'data' listener; a listener would mean the forwarder started reading.
        const on = vi.spyOn(request, 'on');
        void forwarder.forward(request, response, upstream, CONTEXT).then((outcome) => {
          results.push({ outcome, dataListeners: on.mock.calls.filter(([event]) => event === 'data').length });
        });
      }),
    );

    await send(proxy.port, { method: 'POST', headers: { 'content-length': '11' }, body: 'hello world' });
    await expect.poll(() => results.length).toBe(1);
    await forwarder.close();

    expect(results[0]?.outcome.safeToRetry).toBe(true);
    expect(results[0]?.dataListeners).toBe(0);
  });

  it('responds 504 to a late header', async () => {
    const server = await track(
      startServer((_request, response) => {
        setTimeout(() => response.end('too late'), 3000).unref();
      }),
    );
    const proxy = await track(startProxy(server.url, { forwarder: { responseHeaderTimeoutMs: 200 } }));

    const started = Date.now();
    const answer = await send(proxy.port);
    const elapsed = Date.now() - started;
    const outcome = await proxy.nextOutcome();

    expect(answer.status).toBe(504);
    expect(answer.body).toBe('504 Gateway Timeout\n');
    expect(elapsed).toBeGreaterThanOrEqual(180);
    expect(elapsed).toBeLessThan(2000);
    expect(outcome.error).toBeInstanceOf(UpstreamTimeoutError);
    expect(outcome.safeToRetry).toBe(false);
  });

  it('times headers from the upload end', async () => {
    const server = await track(
      startServer((request, response) => {
        request.resume();
        request.on('end', () => response.end('received'));
      }),
    );
    const proxy = await track(startProxy(server.url, { forwarder: { responseHeaderTimeoutMs: 300 } }));

    const request = http.request({ host: LOOPBACK, port: proxy.port, method: 'POST', agent: false, headers: { 'content-length': '14' } });
    const responded = once(request, 'response');
    for (const part of ['slow-', 'upload-', 'ok']) {
      request.write(part);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    request.end();
    const [response] = (await responded) as [IncomingMessage];
    response.resume();

    expect(response.statusCode).toBe(200);
  });

  it('records 499 when the client leaves', async () => {
    let serverRequestClosed: Promise<unknown> | undefined;
    const server = await track(
      startServer((request) => {
        serverRequestClosed = once(request.socket, 'close');
      }),
    );
    const proxy = await track(startProxy(server.url));

    const request = http.request({ host: LOOPBACK, port: proxy.port, agent: false });
    request.on('error', () => {});
    request.end();
    await expect.poll(() => serverRequestClosed !== undefined).toBe(true);
    request.destroy();
    const outcome = await proxy.nextOutcome();
    await serverRequestClosed;

    expect(outcome.status).toBe(499);
    expect(outcome.safeToRetry).toBe(false);
    expect(outcome.error).toBeInstanceOf(ClientClosedError);
  });

  it('records 499 during the response body', async () => {
    let serverResponseClosed: Promise<unknown> | undefined;
    const server = await track(
      startServer((_request, response) => {
        response.writeHead(200);
        response.write('partial');
        serverResponseClosed = once(response, 'close');
      }),
    );
    const proxy = await track(startProxy(server.url));

    const request = http.request({ host: LOOPBACK, port: proxy.port, agent: false });
    request.on('error', () => {});
    request.end();
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    await once(response, 'data');
    request.destroy();
    const outcome = await proxy.nextOutcome();
    await serverResponseClosed;

    expect(outcome.status).toBe(499);
  });

  it('cuts the client on mid-body failure', async () => {
    const server = await track(
      startServer((_request, response) => {
        response.writeHead(200, { 'content-length': '100' });
        response.write('only part of the body');
        setTimeout(() => response.socket?.destroy(), 50);
      }),
    );
    const proxy = await track(startProxy(server.url));

    const answer = await sendRaw(proxy.port, 'GET / HTTP/1.1\r\nHost: app.example.test\r\n\r\n');
    const outcome = await proxy.nextOutcome();

    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toMatch(/\r\n\r\nonly part of the body$/);
    expect(outcome.status).toBe(200);
    expect(outcome.error).toBeInstanceOf(UpstreamResetError);
  });

  it('closes connection with unread body', async () => {
    const server = await track(
      startServer((request) => {
        // Reads the first chunk, then closes the connection without a response.
        request.once('data', () => request.socket.destroy());
      }),
    );
    const proxy = await track(startProxy(server.url));

    const request = http.request({ host: LOOPBACK, port: proxy.port, method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } });
    request.write('first chunk');
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    response.resume();
    await once(response, 'end');
    request.destroy();
    const outcome = await proxy.nextOutcome();

    expect(response.statusCode).toBe(502);
    expect(response.headers.connection).toBe('close');
    expect(outcome.safeToRetry).toBe(false);
  });

  it('rejects an asterisk-form target with 400', async () => {
    const server = await track(startServer((_request, response) => response.end()));
    const proxy = await track(startProxy(server.url));

    const answer = await sendRaw(proxy.port, 'OPTIONS * HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n');

    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it('rejects invalid timeout options', () => {
    expect(() => createForwarder({ idleTimeoutMs: 0 })).toThrow(/idleTimeoutMs/);
    expect(() => createForwarder({ dialTimeoutMs: -1 })).toThrow(/dialTimeoutMs/);
    expect(() => createForwarder({ responseHeaderTimeoutMs: Number.NaN })).toThrow(/responseHeaderTimeoutMs/);
  });
});
