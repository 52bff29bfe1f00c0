// Servers with an h2c:// URL are spoken to over HTTP/2 without TLS, with prior knowledge.
import http2 from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import { afterEach, expect, test } from 'vitest';

import { LOOPBACK, send, startProxy } from './harness.js';

const running: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

test('h2c server gets HTTP/2', async () => {
  const seen: Array<{ version: string; authority: string | undefined; path: string | undefined; body: string }> = [];
  const server = http2.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      seen.push({ version: request.httpVersion, authority: request.headers[':authority'], path: request.headers[':path'], body });
      response.setHeader('set-cookie', ['a=1', 'b=2']);
      response.end(`h2c ${request.method}`);
    });
  });
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  running.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  const port = (server.address() as AddressInfo).port;
  const proxy = await startProxy(new URL(`h2c://${LOOPBACK}:${port}`));
  running.push(proxy);

  const first = await send(proxy.port, { method: 'POST', path: '/a%2Fb?x=1', headers: { host: 'app.example.test' }, body: 'payload' });
  const second = await send(proxy.port, { path: '/two', headers: { host: 'app.example.test' } });

  expect(first.status).toBe(200);
  expect(first.body).toBe('h2c POST');
  expect(first.headers['set-cookie']).toEqual(['a=1', 'b=2']);
  expect(second.body).toBe('h2c GET');
  expect(seen[0]).toEqual({ version: '2.0', authority: 'app.example.test', path: '/a%2Fb?x=1', body: 'payload' });
  expect(seen[1]?.path).toBe('/two');
});
