// The node:http path of requests with `Expect: 100-continue` keeps the outcomes and message handling of
// the undici path: statuses, retry safety, hop-by-hop removal, trailers, raw targets and pooling.
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { ClientClosedError, UpstreamConnectError, UpstreamResetError, UpstreamTimeoutError } from '../../src/errors.js';
import { createForwarder } from '../../src/proxy/forwarder.js';
import { closedPort, LOOPBACK, rawValues, sendRaw, startProxy, startServer, type RunningServer } from './harness.js';

const running: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function track<T extends { close(): Promise<void> }>(server: Promise<T>): Promise<T> {
  const started = await server;
  running.push(started);
  return started;
}

/** Starts a server whose 'checkContinue' handler sends 100, reads the body and then calls `respond`. */
async function continuingServer(respond: (request: IncomingMessage, response: ServerResponse, body: string) => void): Promise<RunningServer> {
  const server = await track(startServer((_request, response) => response.end('no expectation')));
  server.server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    response.writeContinue();
    let body = '';
    request.setEncoding('latin1');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => respond(request, response, body));
  });
  return server;
}

/** Returns a POST head with `Expect: 100-continue` and `Connection: close`, so that the exchange ends with the connection. */
function expectHead(length: number, target = '/upload'): string {
  return `POST ${target} HTTP/1.1\r\nHost: app.example.test\r\nExpect: 100-continue\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;
}

describe('forwarder with Expect: 100-continue', () => {
  it('responds 502 to a refused connection', async () => {
    const proxy = await track(startProxy(new URL(`http://${LOOPBACK}:${await closedPort()}`)));

    const answer = await sendRaw(proxy.port, expectHead(5));
    const outcome = await proxy.nextOutcome();

    expect(answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(answer).not.toContain('100 Continue');
    expect(outcome.status).toBe(502);
    expect(outcome.safeToRetry).toBe(true);
    expect(outcome.error).toBeInstanceOf(UpstreamConnectError);
  });

  it('responds 502 to a reset after the head', async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    server.listen(0, LOOPBACK);
    await once(server, 'listening');
    running.push({ close: async () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const proxy = await track(startProxy(new URL(`http://${LOOPBACK}:${(server.address() as AddressInfo).port}`)));

    const answer = await sendRaw(proxy.port, expectHead(5));
    const outcome = await proxy.nextOutcome();

    expect(answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(outcome.status).toBe(502);
    // The server received the head, so another server must not get the request.
    expect(outcome.safeToRetry).toBe(false);
    expect(outcome.error).toBeInstanceOf(UpstreamResetError);
  });

  it('responds 504 to a late header', async () => {
    const server = await continuingServer(() => undefined);
    const proxy = await track(startProxy(server.url, { forwarder: { responseHeaderTimeoutMs: 200 } }));

    const answer = await sendRaw(proxy.port, `${expectHead(5)}hello`);
    const outcome = await proxy.nextOutcome();

    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 504 Gateway Timeout\r\n/);
    expect(outcome.status).toBe(504);
    expect(outcome.safeToRetry).toBe(false);
    expect(outcome.error).toBeInstanceOf(UpstreamTimeoutError);
  });

  it('records 499 when the client leaves', async () => {
    let serverSocketClosed: Promise<unknown> | undefined;
    const server = await track(startServer(() => undefined));
    server.server.on('checkContinue', (request: IncomingMessage) => {
      // The server reports the request cut short (HPE_INVALID_EOF_STATE) as an 'error' on the socket, so `once` would reject.
      serverSocketClosed = new Promise((resolve) => request.socket.once('close', resolve));
    });
    const proxy = await track(startProxy(server.url));

    const client = net.connect(proxy.port, LOOPBACK);
    client.on('error', () => undefined);
    client.write(expectHead(5));
    await expect.poll(() => serverSocketClosed !== undefined).toBe(true);
    client.destroy();
    const outcome = await proxy.nextOutcome();
    await serverSocketClosed;

    expect(outcome.status).toBe(499);
    expect(outcome.safeToRetry).toBe(false);
    expect(outcome.error).toBeInstanceOf(ClientClosedError);
  });

  it('relays response fields, body and trailers', async () => {
    const server = await continuingServer((_request, response, body) => {
      response.setHeader('set-cookie', ['a=1; Path=/', 'b=2', 'c=3']);
      response.setHeader('connection', 'keep-alive, X-Internal');
      response.setHeader('x-internal', 'secret');
      response.setHeader('trailer', 'x-checksum');
      response.writeHead(201, 'Made It');
      response.write(`got ${body}`);
      response.addTrailers({ 'x-checksum': 'abc123' });
      response.end();
    });
    const proxy = await track(startProxy(server.url));

    const request = http.request({ host: LOOPBACK, port: proxy.port, method: 'PUT', agent: false, headers: { expect: '100-continue', 'content-length': '5' } });
    request.on('continue', () => request.end('hello'));
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    let body = '';
    for await (const chunk of response) body += String(chunk);
    const outcome = await proxy.nextOutcome();

    expect(response.statusCode).toBe(201);
    expect(response.statusMessage).toBe('Made It');
    expect(body).toBe('got hello');
    expect(rawValues(response.rawHeaders, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2', 'c=3']);
    expect(response.headers['x-internal']).toBeUndefined();
    expect(response.trailers['x-checksum']).toBe('abc123');
    expect(outcome).toEqual({ status: 201, safeToRetry: false });
  });

  it('sends a chunked body and the raw target', async () => {
    const seen: string[] = [];
    const server = await continuingServer((request, response, body) => {
      seen.push(`${request.method ?? ''} ${request.url ?? ''} ${request.headers['transfer-encoding'] ?? 'no framing'} ${body}`);
      response.end('ok');
    });
    const proxy = await track(startProxy(server.url));
    const target = '/a%2Fb/%25x;p=1?q=%2F';

    const head = `DELETE ${target} HTTP/1.1\r\nHost: app.example.test\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
    const answer = await sendRaw(proxy.port, `${head}5\r\nhello\r\n0\r\n\r\n`);

    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(seen).toEqual([`DELETE ${target} chunked hello`]);
  });

  it('closes idle server connections', async () => {
    let serverSocketClosed: Promise<unknown> | undefined;
    const server = await continuingServer((request, response) => {
      serverSocketClosed ??= once(request.socket, 'close');
      response.end('ok');
    });
    const proxy = await track(startProxy(server.url, { forwarder: { idleTimeoutMs: 100 } }));

    const started = Date.now();
    const answer = await sendRaw(proxy.port, `${expectHead(5)}hello`);
    await serverSocketClosed;

    expect(answer).toMatch(/HTTP\/1\.1 200 OK\r\n/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('rejects an invalid expect timeout', () => {
    expect(() => createForwarder({ expectContinueTimeoutMs: 0 })).toThrow(/expectContinueTimeoutMs/);
  });
});
