// Message details that an ingress must pass on unchanged: HEAD, repeated Set-Cookie, the raw request
// target and trailer fields. expect-continue.test.ts covers `Expect: 100-continue`.
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
