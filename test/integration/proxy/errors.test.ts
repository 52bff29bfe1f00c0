// The errors and buffering middlewares on the real request path: a client, Berth's entry point and
// forwarder, an application server and an error-page server, all on 127.0.0.1.
import { once } from 'node:events';
import type http from 'node:http';
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';

import { afterEach, describe, expect, test } from 'vitest';

import { closedPort, send, startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, LOOPBACK, requestHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

const HOST = 'app.example.test';

interface SeenRequest {
  method: string | undefined;
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Starts a server that records each request with its body and lets `respond` write the response. */
async function recordingServer(respond: (request: SeenRequest, response: http.ServerResponse) => void): Promise<{ server: RunningServer; seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const server = await startServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const item = { method: request.method, url: request.url, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
    seen.push(item);
    respond(item, response);
  });
  running.push(server);
  return { server, seen };
}

/** Starts an application server that responds with the status in the path, such as `/status/503`. */
function appServer() {
  return recordingServer((request, response) => {
    const status = Number(/^\/status\/(\d{3})/.exec(request.url ?? '')?.[1] ?? 200);
    response.writeHead(status, { 'content-type': 'text/plain', 'x-app': 'yes' });
    response.end(`app body ${status}`);
  });
}

/** Starts an error-page server that responds 200 with the requested path. */
function pageServer() {
  return recordingServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<h1>page ${request.url ?? ''}</h1>`);
  });
}

async function berth(options: Parameters<typeof startInProcessBerth>[0]): Promise<InProcessBerth> {
  const started = await startInProcessBerth(options);
  running.push(started);
  return started;
}

describe('errors through Berth', () => {
  test('503 replaced by page with status kept', async () => {
    const app = await appServer();
    const pages = await pageServer();
    const proxy = await berth({
      servers: [app.server.url.origin],
      services: { pages: [pages.server.url.origin] },
      middlewares: { oops: { type: 'errors', options: { status: ['500-599'], service: 'pages', query: '/{status}.html' } } },
    });

    const response = await send(proxy.port, { path: '/status/503', headers: { host: HOST, 'x-trace': 't1' } });
    expect(response.status).toBe(503);
    expect(response.body).toBe('<h1>page /503.html</h1>');
    expect(response.headers['content-type']).toBe('text/html');
    expect(response.headers['x-app']).toBeUndefined();
    expect(pages.seen).toHaveLength(1);
    expect(pages.seen[0]?.method).toBe('GET');
    expect(pages.seen[0]?.headers.host).toBe(HOST);
    expect(pages.seen[0]?.headers['x-trace']).toBe('t1');
  });

  test('other status passes through', async () => {
    const app = await appServer();
    const pages = await pageServer();
    const proxy = await berth({
      servers: [app.server.url.origin],
      services: { pages: [pages.server.url.origin] },
      middlewares: { oops: { type: 'errors', options: { status: ['500-599'], service: 'pages', query: '/{status}.html' } } },
    });

    const response = await send(proxy.port, { path: '/status/404', headers: { host: HOST } });
    expect(response.status).toBe(404);
    expect(response.body).toBe('app body 404');
    expect(pages.seen).toHaveLength(0);
  });

  test('status, rewrite and url placeholders', async () => {
    const app = await appServer();
    const pages = await pageServer();
    const proxy = await berth({
      servers: [app.server.url.origin],
      services: { pages: [pages.server.url.origin] },
      middlewares: {
        oops: { type: 'errors', options: { status: ['404', '418'], statusRewrites: { '418': 404 }, service: 'pages', query: '/e/{status}/{originalStatus}?from={url}' } },
      },
    });

    const response = await send(proxy.port, { path: '/status/418?tea=1', headers: { host: HOST } });
    expect(response.status).toBe(404);
    expect(response.body).toBe('<h1>page /e/404/418?from=%2Fstatus%2F418%3Ftea%3D1</h1>');
  });

  test('unreachable page service keeps status', async () => {
    const app = await appServer();
    const proxy = await berth({
      servers: [app.server.url.origin],
      services: { pages: [`http://127.0.0.1:${await closedPort()}`] },
      middlewares: { oops: { type: 'errors', options: { status: ['500-599'], service: 'pages' } } },
    });

    const response = await send(proxy.port, { path: '/status/500', headers: { host: HOST } });
    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.body.length).toBeLessThan(100);
  });

  test('missing page service disables router', async () => {
    const app = await appServer();
    const proxy = await berth({
      servers: [app.server.url.origin],
      middlewares: { oops: { type: 'errors', options: { status: ['500-599'], service: 'nowhere' } } },
    });

    const response = await send(proxy.port, { path: '/status/500', headers: { host: HOST } });
    expect(response.status).toBe(404);
    expect(app.seen).toHaveLength(0);
    expect(JSON.stringify(proxy.logs())).toContain('service \\"nowhere@test\\" does not exist');
  });
});

/** Sends a chunked POST with `chunks` as its body and reads the whole response. */
async function sendChunked(port: number, chunks: string[], headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/upload', agent: false, headers: { host: HOST, ...headers } });
  for (const chunk of chunks) request.write(chunk);
  request.end();
  const [response] = (await once(request, 'response')) as [http.IncomingMessage];
  const parts: Buffer[] = [];
  for await (const part of response) parts.push(part as Buffer);
  return { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(parts).toString('utf8') };
}

describe('buffering through Berth', () => {
  test('chunked upload reaches server with length', async () => {
    const app = await recordingServer((_request, response) => response.end('stored'));
    const proxy = await berth({ servers: [app.server.url.origin], middlewares: { buffer: { type: 'buffering', options: { maxRequestBodyBytes: 100, memRequestBodyBytes: 8 } } } });

    const response = await sendChunked(proxy.port, ['0123456789', 'abcdefghij', 'KLMNOPQRST']);
    expect(response.status).toBe(200);
    expect(response.body).toBe('stored');
    expect(app.seen).toHaveLength(1);
    expect(app.seen[0]?.headers['content-length']).toBe('30');
    expect(app.seen[0]?.headers['transfer-encoding']).toBeUndefined();
    expect(app.seen[0]?.body).toBe('0123456789abcdefghijKLMNOPQRST');
  });

  test('upload over limit gets 413', async () => {
    const app = await recordingServer((_request, response) => response.end('stored'));
    const proxy = await berth({ servers: [app.server.url.origin], middlewares: { buffer: { type: 'buffering', options: { maxRequestBodyBytes: 15 } } } });

    const chunked = await sendChunked(proxy.port, ['0123456789', 'abcdefghij']);
    expect(chunked.status).toBe(413);

    const declared = await send(proxy.port, { method: 'POST', path: '/upload', headers: { host: HOST, 'content-length': '20' }, body: '0123456789abcdefghij' });
    expect(declared.status).toBe(413);
    expect(app.seen).toHaveLength(0);
  });

  test('response over limit gets 500', async () => {
    const app = await recordingServer((_request, response) => {
      response.write('0123456789');
      response.end('abcdefghij');
    });
    const proxy = await berth({ servers: [app.server.url.origin], middlewares: { buffer: { type: 'buffering', options: { maxResponseBodyBytes: 15 } } } });

    const response = await send(proxy.port, { path: '/', headers: { host: HOST } });
    expect(response.status).toBe(500);
  });

  test('streamed response gets length', async () => {
    const app = await recordingServer((_request, response) => {
      response.write('0123456789');
      response.end('abcdefghij');
    });
    const proxy = await berth({ servers: [app.server.url.origin], middlewares: { buffer: { type: 'buffering', options: { memResponseBodyBytes: 4 } } } });

    const response = await send(proxy.port, { path: '/', headers: { host: HOST } });
    expect(response.status).toBe(200);
    expect(response.headers['content-length']).toBe('20');
    expect(response.body).toBe('0123456789abcdefghij');
  });

  test('error page behind buffering', async () => {
    const app = await appServer();
    const pages = await pageServer();
    const proxy = await berth({
      servers: [app.server.url.origin],
      services: { pages: [pages.server.url.origin] },
      middlewares: {
        oops: { type: 'errors', options: { status: ['500-599'], service: 'pages', query: '/{status}.html' } },
        buffer: { type: 'buffering', options: { maxRequestBodyBytes: 100 } },
      },
    });

    const response = await sendChunked(proxy.port, ['abc']);
    expect(response.status).toBe(200);
    const failed = await send(proxy.port, { method: 'POST', path: '/status/502', headers: { host: HOST, 'content-length': '3' }, body: 'abc' });
    expect(failed.status).toBe(502);
    expect(failed.body).toBe('<h1>page /502.html</h1>');
    expect(app.seen.at(-1)?.body).toBe('abc');
  });

  test('buffering before error page', async () => {
    const app = await appServer();
    const pages = await pageServer();
    const proxy = await berth({
      servers: [app.server.url.origin],
      services: { pages: [pages.server.url.origin] },
      middlewares: {
        buffer: { type: 'buffering', options: { maxResponseBodyBytes: 1000, memResponseBodyBytes: 4 } },
        oops: { type: 'errors', options: { status: ['500-599'], service: 'pages', query: '/{status}.html' } },
      },
    });

    const failed = await send(proxy.port, { path: '/status/503', headers: { host: HOST } });
    expect(failed.status).toBe(503);
    expect(failed.headers['content-length']).toBe('23');
    expect(failed.body).toBe('<h1>page /503.html</h1>');
  });

  test('HTTP/2 upload and error page', async () => {
    const app = await appServer();
    const pages = await pageServer();
    const proxy = await berth({
      servers: [app.server.url.origin],
      services: { pages: [pages.server.url.origin] },
      middlewares: {
        oops: { type: 'errors', options: { status: ['500-599'], service: 'pages', query: '/{status}.html' } },
        buffer: { type: 'buffering', options: { maxRequestBodyBytes: 100 } },
      },
    });
    const session = await connectHttp2(proxy.port);
    try {
      const failed = await requestHttp2(session, { ':method': 'POST', ':path': '/status/500' }, 'hello');
      expect(failed.status).toBe(500);
      expect(failed.body).toBe('<h1>page /500.html</h1>');
      expect(app.seen.at(-1)?.headers['content-length']).toBe('5');
      expect(app.seen.at(-1)?.body).toBe('hello');
      expect(pages.seen.at(-1)?.method).toBe('GET');
      expect(pages.seen.at(-1)?.headers['content-length']).toBeUndefined();
      expect(pages.seen.at(-1)?.headers['transfer-encoding']).toBeUndefined();

      const tooLarge = await requestHttp2(session, { ':method': 'POST', ':path': '/upload' }, 'x'.repeat(101));
      expect(tooLarge.status).toBe(413);
    } finally {
      session.close();
    }
  });
});

/** Longer than compress's minimum, so that the server's error body is compressed. */
const LONG = 'x'.repeat(4_000);

/** Starts a server that responds with 500 and a page server, with Berth's router going through `[errors, compress]`. */
async function errorsOutsideCompress(): Promise<InProcessBerth> {
  const app = await startServer((_request, response) => {
    response.writeHead(500, { 'content-type': 'text/plain' });
    response.end(LONG);
  });
  const pages = await startServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<p>page ${request.url ?? ''}</p>${LONG}`);
  });
  running.push(app, pages);
  const berth = await startInProcessBerth({
    servers: [app.url.origin],
    services: { pages: [pages.url.origin] },
    middlewares: {
      oops: { type: 'errors', options: { status: ['500-599'], service: 'pages', query: '/{status}.html' } },
      squeeze: { type: 'compress', options: {} },
    },
  });
  running.push(berth);
  return berth;
}

/** Decodes the body when its Content-Encoding is gzip. */
function decoded(body: Buffer, contentEncoding: string | undefined): string {
  return (contentEncoding === 'gzip' ? gunzipSync(body) : body).toString('utf8');
}

// [errors, compress]: the caught response is compressed inside, and its compressed bytes come out after
// the middleware has started waiting for the error page.
describe('errors outside compress', () => {
  // Observed: the client read `\x1f\x8b...HTTP/1.1 500 ...` (Node.js: HPE_INVALID_CONSTANT): the gzip header of
  // the caught server body reached the socket before the status line, written raw when the page was awaited.
  // Expected: the error page with status 500, and nothing of the caught body.
  test('page only behind compress (HTTP/1.1)', async () => {
    const berth = await errorsOutsideCompress();

    const outcome = await new Promise<string>((resolve) => {
      const request = httpRequest({ host: LOOPBACK, port: berth.port, path: '/x', agent: false, headers: { host: HOST, 'accept-encoding': 'gzip' } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(`${response.statusCode ?? 0} ${decoded(Buffer.concat(chunks), response.headers['content-encoding']).slice(0, 21)}`));
        response.on('error', (error) => resolve(`body error ${error.message}`));
      });
      request.on('error', (error) => resolve(`error ${error.message}`));
      request.end();
    });

    expect(outcome).toBe('500 <p>page /500.html</p>');
  });

  // Observed: status 200 and a body of 10 bytes, the gzip header of the caught server body.
  // Expected: the error page with status 500.
  test('page only behind compress (HTTP/2)', async () => {
    const berth = await errorsOutsideCompress();
    const session = await connectHttp2(berth.port);

    const stream = session.request({ ':authority': HOST, ':path': '/x', 'accept-encoding': 'gzip' });
    const outcome = await new Promise<string>((resolve) => {
      let status = '';
      let encoding: string | undefined;
      const chunks: Buffer[] = [];
      stream.on('response', (headers) => {
        status = String(headers[':status']);
        encoding = headers['content-encoding'] as string | undefined;
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => resolve(`${status} ${decoded(Buffer.concat(chunks), encoding).slice(0, 21)}`));
      stream.on('error', (error) => resolve(`error ${error.message}`));
    });
    session.close();

    expect(outcome).toBe('500 <p>page /500.html</p>');
  });
});
