// Failures on the node:http path of requests with trailer fields, which behave as on the undici path.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, expect, test } from 'vitest';

import { startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';
import { RawClient, startRawServer, type RawServer } from './raw.js';

const running: Array<RunningServer | RawServer | InProcessBerth> = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

const HEAD = 'POST /upload HTTP/1.1\r\nHost: app.example.test\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n';

async function connect(port: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  clients.push(client);
  return client;
}

test('no response is 504', async () => {
  const server = await startRawServer();
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url], forwarder: { responseHeaderTimeoutMs: 300 } });
  running.push(berth);
  const client = await connect(berth.port);

  client.write(`${HEAD}5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n`);
  await client.waitFor(/^HTTP\/1\.1 504 /);
  expect(server.received()).toMatch(/\r\n0\r\nx-checksum: abc\r\n\r\n$/);
});

test('client gone mid-body closes server', async () => {
  const server = await startRawServer();
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url] });
  running.push(berth);
  const client = await connect(berth.port);

  client.write(`${HEAD}5\r\nhello\r\n`);
  await server.waitFor(() => server.received().includes('hello'), 'the start of the body');
  client.close();
  await server.waitFor(() => server.connections.every((connection) => connection.closed), 'the server connection to close');
  await server.waitFor(() => berth.logs().some((line) => line.status === 499), 'the 499 log line');
});

test('retry after refused keeps body', async () => {
  const closed = createServer();
  closed.listen(0, LOOPBACK);
  await new Promise((resolve) => closed.once('listening', resolve));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const seen: string[] = [];
  const live = await startServer((request, response) => {
    let body = '';
    request.setEncoding('latin1');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      seen.push(`${body}|${JSON.stringify(request.trailers)}`);
      response.end('ok');
    });
  });
  running.push(live);
  const berth = await startInProcessBerth({ servers: [`http://${LOOPBACK}:${deadPort}`, live.url.href], middlewares: { retry: { type: 'retry', options: { attempts: 3 } } } });
  running.push(berth);

  // Round robin sends one of the two requests to the closed port first.
  for (let i = 0; i < 2; i += 1) {
    const client = await connect(berth.port);
    client.write(`${HEAD}5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n`);
    await client.waitFor(/\r\n\r\nok$/);
  }

  expect(seen).toEqual(['hello|{"x-checksum":"abc"}', 'hello|{"x-checksum":"abc"}']);
});

test('keep-alive reuse, early 413', async () => {
  const server = await startServer((request, response) => {
    if (request.url === '/big') {
      response.statusCode = 413;
      response.end('too big');
      return;
    }
    request.resume();
    request.on('end', () => response.end('ok'));
  });
  running.push(server);
  const ports = new Set<number>();
  server.server.on('connection', (socket) => ports.add(socket.remotePort ?? 0));
  const berth = await startInProcessBerth({ servers: [server.url.href] });
  running.push(berth);
  const client = await connect(berth.port);
  for (let i = 0; i < 3; i += 1) {
    client.write(`${HEAD}5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n`);
    await client.waitFor(new RegExp(`(ok[^]*){${i + 1}}$`));
  }
  expect(ports.size).toBe(1);

  const big = await connect(berth.port);
  big.write(HEAD.replace('/upload', '/big'));
  const chunk = `100000\r\n${'a'.repeat(0x100000)}\r\n`;
  const start = Date.now();
  while (!big.received.includes('too big') && Date.now() - start < 3000) {
    big.write(chunk);
    await sleep(5);
  }
  expect(big.received).toMatch(/^HTTP\/1\.1 413 /);
});
