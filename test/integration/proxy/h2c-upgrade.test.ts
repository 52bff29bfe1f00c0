// A client's `Upgrade: h2c` never reaches the server. A server that accepted it would speak HTTP/2
// with the client through a tunnel that bypasses Berth's routers and middlewares, so Berth serves the
// request as an ordinary one and closes the connection after the response. Upgrade in an HTTP/1.0
// request is ignored the same way.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';

import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';

import { startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

let server: RunningServer;
let berth: InProcessBerth;
/** Headers of each ordinary request the server received. */
const requests: IncomingHttpHeaders[] = [];
/** Upgrade fields of each upgrade request the server received. */
const upgrades: string[] = [];

beforeAll(async () => {
  server = await startServer((request, response) => {
    requests.push(request.headers);
    request.resume();
    response.end('ordinary response');
  });
  // A server that accepts any upgrade, h2c included.
  server.server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
    upgrades.push(request.headers.upgrade ?? '');
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${request.headers.upgrade ?? ''}\r\n\r\n`);
  });
  berth = await startInProcessBerth({ servers: [server.url.origin] });
});

afterAll(async () => {
  await berth.close();
  await server.close();
});

beforeEach(() => {
  requests.length = 0;
  upgrades.length = 0;
});

/** Writes `bytes` on a new connection and returns everything Berth sent until it closed the connection. */
async function exchange(bytes: string): Promise<string> {
  const socket = net.connect(berth.port, LOOPBACK);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(bytes);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

function upgradeRequest(upgrade: string, extra = ''): string {
  return (
    `GET /page HTTP/1.1\r\nHost: app.example.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: ${upgrade}\r\n` +
    `HTTP2-Settings: AAMAAABkAAQAAP__\r\n${extra}\r\n`
  );
}

test('h2c upgrade served as ordinary request', async () => {
  const answer = await exchange(upgradeRequest('h2c'));

  expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  expect(answer).toMatch(/connection: close/i);
  expect(answer).toContain('ordinary response');
  expect(upgrades).toEqual([]);
  expect(requests).toHaveLength(1);
  expect(requests[0]?.upgrade).toBeUndefined();
  expect(requests[0]?.['http2-settings']).toBeUndefined();
});

test('h2c upgrade with a body gets 400', async () => {
  const answer = await exchange(`${upgradeRequest('h2c', 'Content-Length: 5\r\n')}hello`);

  expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  expect(answer).toMatch(/connection: close/i);
  expect(answer).toContain('without the Upgrade field');
  expect(requests).toEqual([]);
  expect(upgrades).toEqual([]);
});

test('HTTP/1.0 upgrade served as ordinary request', async () => {
  const answer = await exchange('GET /page HTTP/1.0\r\nHost: app.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');

  expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  expect(upgrades).toEqual([]);
  expect(requests[0]?.upgrade).toBeUndefined();
});

test('h2c dropped from a list of protocols', async () => {
  const answer = await exchange(upgradeRequest('websocket, h2c'));

  expect(answer).toMatch(/^HTTP\/1\.1 101 /);
  expect(upgrades).toEqual(['websocket']);
});
