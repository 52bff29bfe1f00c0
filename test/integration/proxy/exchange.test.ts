// Message details that an ingress must pass on unchanged: HEAD, Expect: 100-continue, repeated
// Set-Cookie, the raw request target and trailer fields.
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';

import { afterEach, describe, expect, test } from 'vitest';

import { closedPort, rawValues, send, startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, connectHttp2, requestHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth | { close(): unknown }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

async function berthFor(handler: http.RequestListener, serverOptions: http.ServerOptions = {}): Promise<{ berth: InProcessBerth; server: RunningServer }> {
  const server = await startServer(handler, serverOptions);
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  return { berth, server };
}

interface ContinueResult {
  informational: number[];
  status: number;
  body: string;
  bodySent: boolean;
}

/** Sends a POST with `Expect: 100-continue` that writes its body only after a 100, as curl and Node.js clients do. */
async function postWithExpect(port: number, body: string): Promise<ContinueResult> {
  const informational: number[] = [];
  let bodySent = false;
  const request = http.request({
    host: LOOPBACK,
    port,
    method: 'POST',
    path: '/upload',
    agent: false,
    headers: { host: 'app.example.test', expect: '100-continue', 'content-length': Buffer.byteLength(body) },
  });
  request.on('information', (info: http.InformationEvent) => informational.push(info.statusCode));
  request.on('continue', () => {
    bodySent = true;
    request.end(body);
  });
  request.on('error', () => undefined);
  request.flushHeaders();
  const [response] = (await once(request, 'response')) as [http.IncomingMessage];
  let text = '';
  for await (const chunk of response) text += String(chunk);
  return { informational, status: response.statusCode ?? 0, body: text, bodySent };
}

describe('expect 100-continue', () => {
  test('early 401 reaches client, never 200', async () => {
    const { berth } = await berthFor((_request, response) => {
      // Rejects on the head alone, as an authentication check does.
      response.writeHead(401, { 'www-authenticate': 'Basic realm="x"', connection: 'close' });
      response.end('no');
    });

    const result = await postWithExpect(berth.port, 'secret payload');

    expect(result.status).toBe(401);
    expect(result.body).toBe('no');
  });

  test('no 100 when the server is unreachable', async () => {
    const berth = await startInProcessBerth({ servers: [`http://${LOOPBACK}:${await closedPort()}`] });
    running.push(berth);

    const result = await postWithExpect(berth.port, 'never sent');

    expect(result.status).toBe(502);
    expect(result.informational).not.toContain(100);
    expect(result.bodySent).toBe(false);
  });

  test('early 413 never becomes 200', async () => {
    const { berth } = await berthFor((request, response) => {
      if (Number(request.headers['content-length']) > 10) {
        response.writeHead(413, { connection: 'close' });
        response.end('too large');
        return;
      }
      request.resume();
      request.on('end', () => response.end('ok'));
    });

    const result = await postWithExpect(berth.port, 'x'.repeat(1_000));

    expect(result.status).toBe(413);
    expect(result.body).toBe('too large');
  });

  test('accepting server gets the body after 100', async () => {
    const { berth } = await berthFor((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => response.end(`got ${body}`));
    });

    const result = await postWithExpect(berth.port, 'hello');

    expect(result.informational).toContain(100);
    expect(result.status).toBe(200);
    expect(result.body).toBe('got hello');
  });
});

describe('message details', () => {
  test('HEAD keeps Content-Length, no body', async () => {
    const { berth } = await berthFor((request, response) => {
      response.writeHead(200, { 'content-length': 1234, 'content-type': 'text/plain' });
      response.end(request.method === 'HEAD' ? undefined : 'x'.repeat(1234));
    });

    // Raw bytes show that no body follows the head, and the second request on the connection works.
    const socket = net.connect(berth.port, LOOPBACK);
    socket.write('HEAD / HTTP/1.1\r\nHost: app.example.test\r\n\r\nGET /next HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(socket, 'close');
    const [headResponse, rest] = Buffer.concat(chunks).toString('latin1').split(/\r\n\r\n(?=HTTP\/1\.1)/);

    expect(headResponse).toMatch(/^HTTP\/1\.1 200 /);
    expect(headResponse).toMatch(/content-length: 1234/i);
    expect(headResponse?.endsWith('\r\n\r\n') || !headResponse?.includes('xxx')).toBe(true);
    expect(rest).toMatch(/^HTTP\/1\.1 200 /);

    const session = await connectHttp2(berth.port);
    running.push(session);
    const overHttp2 = await requestHttp2(session, { ':path': '/', ':method': 'HEAD' });
    expect(overHttp2.headers['content-length']).toBe('1234');
    expect(overHttp2.body).toBe('');
  });

  test('Set-Cookie lines separate, in order', async () => {
    const { berth } = await berthFor((_request, response) => {
      response.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT', 'c=3']);
      response.end('ok');
    });

    const response = await send(berth.port, { headers: { host: 'app.example.test' } });

    expect(rawValues(response.rawHeaders, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT', 'c=3']);
  });

  test('raw path byte for byte', async () => {
    const seen: string[] = [];
    const { berth } = await berthFor((request, response) => {
      seen.push(request.url ?? '');
      response.end('ok');
    });
    const target = '/a%2Fb/%25x;param=1/c%3B?q=%2F&r=a+b&s=%25';

    const socket = net.connect(berth.port, LOOPBACK);
    socket.write(`GET ${target} HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n`);
    socket.resume();
    await once(socket, 'close');

    expect(seen).toEqual([target]);
  });

  test('trailers pass through', async () => {
    const { berth } = await berthFor((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      response.write('part one, ');
      response.addTrailers({ 'x-checksum': 'abc123' });
      response.end('part two');
    });

    const request = http.get({ host: LOOPBACK, port: berth.port, headers: { host: 'app.example.test' }, agent: false });
    const [response] = (await once(request, 'response')) as [http.IncomingMessage];
    let body = '';
    for await (const chunk of response) body += String(chunk);

    expect(body).toBe('part one, part two');
    expect(response.headers.trailer).toBe('x-checksum');
    expect(response.trailers['x-checksum']).toBe('abc123');
  });

  test('trailer announcement dropped for HTTP/1.0', async () => {
    const { berth } = await berthFor((_request, response) => {
      response.writeHead(200, { trailer: 'x-checksum' });
      response.addTrailers({ 'x-checksum': 'abc123' });
      response.end('body');
    });

    const socket = net.connect(berth.port, LOOPBACK);
    socket.write('GET / HTTP/1.0\r\nHost: app.example.test\r\n\r\n');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(socket, 'close');
    const answer = Buffer.concat(chunks).toString('latin1');

    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer.endsWith('body')).toBe(true);
  });
});
