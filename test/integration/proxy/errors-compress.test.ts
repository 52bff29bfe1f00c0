// The errors middleware outside compress: the caught response is compressed inside, and its compressed
// bytes come out after the middleware has started waiting for the error page.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';

import { afterEach, expect, test } from 'vitest';

import { startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

const HOST = 'app.example.test';
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

// Observed: the client read `\x1f\x8b...HTTP/1.1 500 ...` (Node.js: HPE_INVALID_CONSTANT): the gzip header of
// the caught server body reached the socket before the status line, written raw when the page was awaited.
// Expected: the error page with status 500, and nothing of the caught body.
test('page only behind compress (HTTP/1.1)', async () => {
  const berth = await errorsOutsideCompress();

  const outcome = await new Promise<string>((resolve) => {
    const request = http.get({ host: LOOPBACK, port: berth.port, path: '/x', agent: false, headers: { host: HOST, 'accept-encoding': 'gzip' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve(`${response.statusCode ?? 0} ${decoded(Buffer.concat(chunks), response.headers['content-encoding']).slice(0, 21)}`));
      response.on('error', (error) => resolve(`body error ${error.message}`));
    });
    request.on('error', (error) => resolve(`error ${error.message}`));
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
