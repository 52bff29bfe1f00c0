// `Expect: 100-continue` relayed end to end: the server decides whether the body is sent, its early final
// response reaches the client as it was sent, and a server that ignores Expect still gets the body.
import http from 'node:http';
import type { ClientHttp2Session } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, test } from 'vitest';

import { closedPort, startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';
import { RawClient, contentLength, splitHead, startRawServer, type RawConnection, type RawServer } from './raw.js';

const running: Array<RunningServer | InProcessBerth | RawServer | ClientHttp2Session> = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

async function berthFor(servers: string[], options: { h2c?: boolean } = {}): Promise<InProcessBerth> {
  const entryPoint = options.h2c === true ? { http2: { h2c: true, maxConcurrentStreams: 100 } } : {};
  const berth = await startInProcessBerth({ servers, entryPoint });
  running.push(berth);
  return berth;
}

async function connect(port: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  clients.push(client);
  return client;
}

/** Returns the head of a POST with `Expect: 100-continue` for a body of `length` bytes. */
function expectHead(length: number, path = '/upload'): string {
  return `POST ${path} HTTP/1.1\r\nHost: app.example.test\r\nExpect: 100-continue\r\nContent-Length: ${length}\r\n\r\n`;
}

/** Starts a node:http server that sends `100 Continue` after `delayMs` and responds with the body it read. */
async function continuingServer(delayMs: number, events: string[], responseHeaders: http.OutgoingHttpHeaders = {}): Promise<RunningServer> {
  const server = await startServer((_request, response) => response.end('no expectation'));
  running.push(server);
  server.server.on('checkContinue', (request: http.IncomingMessage, response: http.ServerResponse) => {
    events.push(`server saw expect ${request.headers.expect ?? 'none'}`);
    setTimeout(() => {
      events.push('server sent 100');
      response.writeContinue();
      let body = '';
      request.setEncoding('latin1');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        const text = `got ${body}`;
        response.writeHead(200, { 'content-length': Buffer.byteLength(text), ...responseHeaders });
        response.end(text);
      });
    }, delayMs);
  });
  return server;
}

/** Starts a raw server that ignores Expect, as old servers do, and responds once the whole body arrived. */
async function ignoringServer(): Promise<RawServer> {
  let answered = 0;
  const server = await startRawServer((connection) => {
    const parts = splitHead(connection.received);
    if (parts === undefined || answered > 0 || parts.rest.length < contentLength(parts.head)) return;
    answered += 1;
    const body = `got ${parts.rest}`;
    connection.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  running.push(server);
  return server;
}

/** Starts a raw server that responds with `status` as soon as it has the request head, and keeps the connection open. */
async function rejectingServer(status: number, reason: string): Promise<RawServer> {
  const answered = new Set<RawConnection>();
  const server = await startRawServer((connection) => {
    if (answered.has(connection) || splitHead(connection.received) === undefined) return;
    answered.add(connection);
    connection.socket.write(`HTTP/1.1 ${status} ${reason}\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 2\r\n\r\nno`);
  });
  running.push(server);
  return server;
}

describe('expect 100-continue over HTTP/1.1', () => {
  test('server 100, then body and 200', async () => {
    const events: string[] = [];
    const server = await continuingServer(200, events);
    let connections = 0;
    server.server.on('connection', () => (connections += 1));
    const berth = await berthFor([server.url.origin]);
    const client = await connect(berth.port);

    for (const round of [1, 2]) {
      const before = client.received.length;
      const started = performance.now();
      client.write(expectHead(5));
      await client.waitFor(/HTTP\/1\.1 100 Continue\r\n\r\n$/);
      const waitedMs = performance.now() - started;
      client.write('hello');
      const exchange = (await client.waitFor(new RegExp(`(?:[^]*got hello){${round}}$`))).slice(before);

      expect(waitedMs).toBeGreaterThanOrEqual(150);
      expect(exchange).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
      expect(exchange).not.toMatch(/\r\nconnection: close\r\n/i);
    }

    expect(events).toEqual(['server saw expect 100-continue', 'server sent 100', 'server saw expect 100-continue', 'server sent 100']);
    expect(connections).toBe(1);
  });

  test('server Connection: close is honoured', async () => {
    const server = await continuingServer(0, [], { connection: 'close' });
    let connections = 0;
    server.server.on('connection', () => (connections += 1));
    const berth = await berthFor([server.url.origin]);
    const client = await connect(berth.port);

    client.write(expectHead(5));
    await client.waitFor(/100 Continue\r\n\r\n$/);
    client.write('hello');
    await client.waitFor(/got hello$/);
    client.write(expectHead(5));
    await client.waitFor(/100 Continue\r\n\r\n$/);
    client.write('again');
    const received = await client.waitFor(/got again$/);

    expect(received.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(connections).toBe(2);
  });

  test.each([
    { status: 401, reason: 'Unauthorized' },
    { status: 413, reason: 'Content Too Large' },
  ])('early $status: no 100, no body', async ({ status, reason }) => {
    const server = await rejectingServer(status, reason);
    const berth = await berthFor([server.url]);
    const client = await connect(berth.port);

    client.write(expectHead(14));
    const received = await client.waitFor(/\r\n\r\nno$/);
    await server.waitFor(() => server.connections[0]?.closed === true, 'Berth to close the server connection');
    await client.waitForClose();

    expect(received.startsWith(`HTTP/1.1 ${status} ${reason}\r\n`)).toBe(true);
    expect(received).not.toContain('100 Continue');
    expect(received).toMatch(/\r\nwww-authenticate: Basic realm="x"\r\n/i);
    // The client has not sent its body, so the connection cannot carry another request.
    expect(received).toMatch(/\r\nconnection: close\r\n/i);
    expect(server.received()).toMatch(/\r\nexpect: 100-continue\r\n/i);
    expect(server.received()).not.toContain('secret payload');
    expect(server.connections).toHaveLength(1);
  });

  test('early 401 after the client sent its body', async () => {
    const server = await rejectingServer(401, 'Unauthorized');
    const berth = await berthFor([server.url]);
    const client = await connect(berth.port);

    // A client that does not wait for 100 Continue sends head and body at once.
    client.write(`${expectHead(14)}secret payload`);
    const received = await client.waitFor(/\r\n\r\nno$/);
    await client.waitForClose();

    expect(received.startsWith('HTTP/1.1 401 Unauthorized\r\n')).toBe(true);
    expect(received).not.toContain('100 Continue');
    expect(server.received()).not.toContain('secret payload');
  });

  test('server ignoring Expect gets body after 1 s', async () => {
    const server = await ignoringServer();
    const berth = await berthFor([server.url]);
    const client = await connect(berth.port);

    const started = performance.now();
    client.write(expectHead(5));
    await client.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n$/, 3_000);
    const waitedMs = performance.now() - started;
    client.write('hello');
    const received = await client.waitFor(/got hello$/);

    expect(waitedMs).toBeGreaterThanOrEqual(900);
    expect(waitedMs).toBeLessThan(2_500);
    expect(received).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(server.received()).toMatch(/\r\nexpect: 100-continue\r\n/i);
  });

  test('other expectation gets 417', async () => {
    const seen: string[] = [];
    const server = await startServer((request, response) => {
      seen.push(request.url ?? '');
      response.end('ok');
    });
    running.push(server);
    const berth = await berthFor([server.url.origin]);
    const client = await connect(berth.port);

    client.write('POST /upload HTTP/1.1\r\nHost: app.example.test\r\nExpect: gzip\r\nContent-Length: 5\r\n\r\nhello');
    client.write('GET /next HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n');
    await client.waitForClose();
    const [first, second] = client.received.split(/(?=HTTP\/1\.1 )/);

    expect(first).toMatch(/^HTTP\/1\.1 417 Expectation Failed\r\n/);
    // The body of the rejected request was discarded, so the next request on the connection is served.
    expect(second).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(seen).toEqual(['/next']);
  });

  test('no 100 when the server is unreachable', async () => {
    const berth = await berthFor([`http://127.0.0.1:${await closedPort()}`]);
    const client = await connect(berth.port);

    client.write(expectHead(10));
    const received = await client.waitFor(/502 Bad Gateway\n$/);

    expect(received.startsWith('HTTP/1.1 502 Bad Gateway\r\n')).toBe(true);
    expect(received).not.toContain('100 Continue');
  });

  test('client gone while waiting: 499, no retry', async () => {
    const first = await startRawServer();
    const second = await startRawServer();
    running.push(first, second);
    const berth = await berthFor([first.url, second.url]);
    const client = await connect(berth.port);
    const requests = (): number => (first.received() + second.received()).split('POST /upload').length - 1;

    client.write(expectHead(5));
    await expect.poll(requests).toBe(1);
    client.close();
    const reached = /expect/i.test(first.received()) ? first : second;
    await reached.waitFor(() => reached.connections[0]?.closed === true, 'Berth to close the server connection');
    await sleep(300);

    expect(requests()).toBe(1);
    const outcome = berth.logs().find((line) => line.status === 499);
    expect(outcome?.msg).toBe('client closed the connection before the response ended');
  });
});

describe('expect 100-continue over HTTP/2', () => {
  interface Http2Result {
    continued: boolean;
    status: number;
    body: string;
  }

  /** Sends a POST with `expect: 100-continue` whose body is written only after a 100. */
  async function postHttp2(session: ClientHttp2Session, body: string): Promise<Http2Result> {
    const stream = session.request({ ':method': 'POST', ':path': '/upload', ':authority': 'app.example.test', expect: '100-continue' }, { endStream: false });
    let continued = false;
    let status = 0;
    let text = '';
    stream.on('continue', () => {
      continued = true;
      stream.end(body);
    });
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('error', () => undefined);
    await new Promise((resolve) => stream.once('close', resolve));
    return { continued, status, body: text };
  }

  test.each([{ transport: 'TLS', h2c: false }, { transport: 'h2c', h2c: true }])('server 100, body and 200 over $transport', async ({ h2c }) => {
    const events: string[] = [];
    const server = await continuingServer(100, events);
    const berth = await berthFor([server.url.origin], { h2c });
    const session = await connectHttp2(berth.port, { h2c });
    running.push(session);

    const result = await postHttp2(session, 'hello');

    expect(result.continued).toBe(true);
    expect(result.status).toBe(200);
    expect(result.body).toBe('got hello');
    expect(events).toEqual(['server saw expect 100-continue', 'server sent 100']);
  });

  test.each([{ transport: 'TLS', h2c: false }, { transport: 'h2c', h2c: true }])('early 401 over $transport: no 100, no body', async ({ h2c }) => {
    const server = await rejectingServer(401, 'Unauthorized');
    const berth = await berthFor([server.url], { h2c });
    const session = await connectHttp2(berth.port, { h2c });
    running.push(session);

    const result = await postHttp2(session, 'secret payload');

    expect(result.continued).toBe(false);
    expect(result.status).toBe(401);
    expect(result.body).toBe('no');
    expect(server.received()).toMatch(/\r\nexpect: 100-continue\r\n/i);
    expect(server.received()).not.toContain('secret payload');
  });
});
