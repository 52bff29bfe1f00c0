// Requests with ambiguous framing must never let a second request reach the server behind the first.
import { afterEach, describe, expect, it } from 'vitest';

import { sendRaw, startProxy, startServer, type RunningServer } from './harness.js';

const running: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

const SMUGGLED = 'GET /admin HTTP/1.1\r\nHost: app.example.test\r\n\r\n';
const SMUGGLED_CHUNK = `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`;

describe('forwarder framing', () => {
  it.each([
    {
      desc: 'Content-Length with Transfer-Encoding',
      head: 'Content-Length: 0\r\nTransfer-Encoding: chunked\r\n',
      body: SMUGGLED_CHUNK,
    },
    {
      desc: 'two Transfer-Encoding lines',
      head: 'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n',
      body: SMUGGLED_CHUNK,
    },
    {
      desc: 'chunked followed by a tab',
      head: 'Transfer-Encoding: chunked\t\r\nContent-Length: 0\r\n',
      body: SMUGGLED_CHUNK,
    },
    {
      desc: 'two different Content-Length values',
      head: 'Content-Length: 5\r\nContent-Length: 6\r\n',
      body: `hello${SMUGGLED}`,
    },
  ])('never forwards a smuggled request: $desc', async ({ head, body }) => {
    const seen: { url: string; contentLength: string | undefined }[] = [];
    const server = await startServer((request, response) => {
      seen.push({ url: request.url ?? '', contentLength: request.headers['content-length'] });
      request.resume();
      request.on('end', () => response.end('ok'));
    });
    running.push(server);
    const proxy = await startProxy(server.url);
    running.push(proxy);

    const answer = await sendRaw(proxy.port, `POST / HTTP/1.1\r\nHost: app.example.test\r\n${head}\r\n${body}`);

    expect(seen.map((request) => request.url)).not.toContain('/admin');
    if (seen.length === 0) {
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    } else {
      expect(seen).toHaveLength(1);
      expect(seen[0]?.contentLength).toBeUndefined();
    }
  });
});
