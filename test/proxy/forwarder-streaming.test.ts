import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';

import { LOOPBACK, rawValues, send, sendRaw, startProxy, startServer, type RunningServer } from './harness.js';

const running: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function track<T extends RunningServer>(server: Promise<T>): Promise<T> {
  const started = await server;
  running.push(started);
  return started;
}

describe('forwarder streaming', () => {
  it('delivers chunks before the end', async () => {
    let finish: (() => void) | undefined;
    const upstream = await track(
      startServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.write('first;');
        finish = () => response.end('second');
      }),
    );
    const proxy = await track(startProxy(upstream.url));

    const request = http.request({ host: LOOPBACK, port: proxy.port, agent: false });
    request.end();
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    const chunks: string[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    await expect.poll(() => chunks.length, { timeout: 2000 }).toBe(1);

    expect(chunks).toEqual(['first;']);
    expect(finish).toBeDefined();

    finish?.();
    await once(response, 'end');
    expect(chunks.join('')).toBe('first;second');
    expect((await proxy.nextOutcome()).status).toBe(200);
  });

  it('uploads bytes before the end', async () => {
    let firstChunk: Promise<Buffer> | undefined;
    let serverRequest: IncomingMessage | undefined;
    let serverResponse: ServerResponse | undefined;
    const upstream = await track(
      startServer((request, response) => {
        serverRequest = request;
        serverResponse = response;
        firstChunk = once(request, 'data').then(([chunk]) => chunk as Buffer);
      }),
    );
    const proxy = await track(startProxy(upstream.url));

    const request = http.request({ host: LOOPBACK, port: proxy.port, method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } });
    request.write('part one;');
    await expect.poll(() => firstChunk !== undefined, { timeout: 2000 }).toBe(true);

    expect((await firstChunk)?.toString()).toBe('part one;');
    expect(serverRequest?.headers['transfer-encoding']).toBe('chunked');

    const rest: Buffer[] = [];
    serverRequest?.on('data', (chunk: Buffer) => rest.push(chunk));
    serverRequest?.on('end', () => serverResponse?.end('done'));
    request.end('part two');
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    response.resume();
    await once(response, 'end');

    expect(Buffer.concat(rest).toString()).toBe('part two');
    expect(response.statusCode).toBe(200);
  });

  it('streams a 32 MB upload and download', async () => {
    const size = 32 * 1024 * 1024;
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4096) {
      payload.writeUInt32BE(i, i);
    }
    const expectedHash = createHash('sha256').update(payload).digest('hex');

    const upstream = await track(
      startServer((request, response) => {
        const hash = createHash('sha256');
        let received = 0;
        request.on('data', (chunk: Buffer) => {
          received += chunk.length;
          hash.update(chunk);
        });
        request.on('end', () => {
          response.writeHead(200, { 'x-upload-sha256': hash.digest('hex'), 'x-upload-bytes': String(received) });
          response.end(payload);
        });
      }),
    );
    const proxy = await track(startProxy(upstream.url));

    const request = http.request({ host: LOOPBACK, port: proxy.port, method: 'PUT', agent: false, headers: { 'content-length': size } });
    request.end(payload);
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    const downloadHash = createHash('sha256');
    let downloaded = 0;
    for await (const chunk of response) {
      downloaded += (chunk as Buffer).length;
      downloadHash.update(chunk as Buffer);
    }

    expect(response.headers['x-upload-bytes']).toBe(String(size));
    expect(response.headers['x-upload-sha256']).toBe(expectedHash);
    expect(downloaded).toBe(size);
    expect(downloadHash.digest('hex')).toBe(expectedHash);
  });

  it('keeps raw path bytes', async () => {
    const paths: string[] = [];
    const upstream = await track(
      startServer((request, response) => {
        paths.push(request.url ?? '');
        response.end();
      }),
    );
    const proxy = await track(startProxy(upstream.url));
    const target = '/a%2Fb/%25x;y=1//z/..%2f?q=%2F&r=a+b&s=%zz';

    const answer = await sendRaw(proxy.port, `GET ${target} HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n`);

    expect(answer.startsWith('HTTP/1.1 200')).toBe(true);
    expect(paths).toEqual([target]);
  });

  it('prefixes the path of the server URL', async () => {
    const paths: string[] = [];
    const upstream = await track(
      startServer((request, response) => {
        paths.push(request.url ?? '');
        response.end();
      }),
    );
    const proxy = await track(startProxy(new URL('/base/', upstream.url)));

    await send(proxy.port, { path: '/items/1?view=full' });
    await sendRaw(proxy.port, `GET http://app.example.test/abs?x=1 HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n`);

    expect(paths).toEqual(['/base/items/1?view=full', '/base/abs?x=1']);
  });

  it('keeps several Set-Cookie lines in order', async () => {
    const upstream = await track(
      startServer((_request, response) => {
        response.setHeader('set-cookie', ['a=1; Path=/', 'b=2, with comma; HttpOnly', 'c=3']);
        response.end('ok');
      }),
    );
    const proxy = await track(startProxy(upstream.url));

    const answer = await send(proxy.port);

    expect(rawValues(answer.rawHeaders, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2, with comma; HttpOnly', 'c=3']);
  });

  it('keeps Content-Length on HEAD', async () => {
    const upstream = await track(
      startServer((_request, response) => {
        response.writeHead(200, { 'content-length': '1234', 'content-type': 'application/octet-stream' });
        response.end();
      }),
    );
    const proxy = await track(startProxy(upstream.url));

    const answer = await sendRaw(proxy.port, 'HEAD /file HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n');
    const [head, body] = answer.split('\r\n\r\n');

    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/\r\ncontent-length: 1234(\r\n|$)/i);
    expect(head).not.toMatch(/transfer-encoding/i);
    expect(body).toBe('');
  });

  it('keeps the server Date and reason phrase', async () => {
    const upstream = await track(
      startServer((_request, response) => {
        response.writeHead(299, 'Custom Reason', { date: 'Tue, 01 Jan 2030 00:00:00 GMT' });
        response.end();
      }),
    );
    const proxy = await track(startProxy(upstream.url));

    const answer = await sendRaw(proxy.port, 'GET / HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n');

    expect(answer.startsWith('HTTP/1.1 299 Custom Reason\r\n')).toBe(true);
    expect(answer.match(/\r\ndate: /gi)).toHaveLength(1);
    expect(answer).toContain('Tue, 01 Jan 2030 00:00:00 GMT');
  });

  it('forwards 103 Early Hints', async () => {
    const upstream = await track(
      startServer((_request, response) => {
        response.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        response.end('page');
      }),
    );
    const proxy = await track(startProxy(upstream.url));

    const request = http.request({ host: LOOPBACK, port: proxy.port, agent: false });
    const hints: http.InformationEvent[] = [];
    request.on('information', (info: http.InformationEvent) => hints.push(info));
    request.end();
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    response.resume();
    await once(response, 'end');

    expect(hints.map((hint) => hint.statusCode)).toEqual([103]);
    expect(hints[0]?.headers.link).toBe('</style.css>; rel=preload; as=style');
  });

  it('reuses the connection to the server', async () => {
    const remotePorts = new Set<number>();
    const upstream = await track(
      startServer((request, response) => {
        remotePorts.add(request.socket.remotePort ?? 0);
        response.end('ok');
      }),
    );
    const proxy = await track(startProxy(upstream.url));

    for (let i = 0; i < 5; i++) {
      await send(proxy.port);
    }

    expect(remotePorts.size).toBe(1);
  });
});
