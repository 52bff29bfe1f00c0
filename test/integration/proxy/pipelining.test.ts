// HTTP/1.1 pipelining through a real entry point: requests sent back to back on one connection
// reach the server one at a time and their responses come back in order. A request still waiting
// when a graceful shutdown ends the connection never reaches the server.
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, expect, test } from 'vitest';

import { MAX_WAITING_REQUESTS } from '../../../src/entrypoints/pipeline.js';
import { startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

/** Starts a server that responds after `delayMs` and records each path and the most requests it had at once. */
async function slowServer(delayMs: number): Promise<{ server: RunningServer; paths: string[]; maxConcurrent: () => number }> {
  const paths: string[] = [];
  let current = 0;
  let max = 0;
  const server = await startServer((request, response) => {
    paths.push(request.url ?? '');
    current += 1;
    max = Math.max(max, current);
    request.resume();
    setTimeout(() => {
      current -= 1;
      response.end(`body of ${request.url ?? ''}\n`);
    }, delayMs).unref();
  });
  running.push(server);
  return { server, paths, maxConcurrent: () => max };
}

function pipelined(paths: string[]): string {
  return paths.map((path) => `GET ${path} HTTP/1.1\r\nHost: app.example.test\r\n\r\n`).join('');
}

/** Opens a connection, writes `bytes` at once and collects what comes back until `done` returns true or the connection closes. */
async function exchange(port: number, bytes: string, done: (received: string) => boolean, timeoutMs = 5_000): Promise<{ received: string; closed: boolean }> {
  const socket = net.connect(port, LOOPBACK);
  await once(socket, 'connect');
  let received = '';
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.write(bytes);
  const deadline = Date.now() + timeoutMs;
  while (!closed && !done(received) && Date.now() < deadline) await sleep(10);
  socket.destroy();
  return { received, closed };
}

function bodies(received: string): string[] {
  return [...received.matchAll(/body of (\/\w+)\n/g)].map((match) => match[1] ?? '');
}

test('pipelined requests reach the server one at a time', async () => {
  const { server, paths, maxConcurrent } = await slowServer(50);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const sent = ['/a', '/b', '/c', '/d', '/e'];

  const { received } = await exchange(berth.port, pipelined(sent), (text) => bodies(text).length === sent.length);

  expect(bodies(received)).toEqual(sent);
  expect(paths).toEqual(sent);
  expect(maxConcurrent()).toBe(1);
});

test('rejected request ends the pipeline', async () => {
  const { server, paths } = await slowServer(100);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const twoHosts = 'GET /b HTTP/1.1\r\nHost: app.example.test\r\nHost: other.example.test\r\n\r\n';

  const { received, closed } = await exchange(berth.port, `${pipelined(['/a'])}${twoHosts}${pipelined(['/c'])}`, () => false);

  expect(bodies(received)).toEqual(['/a']);
  expect(received).toMatch(/HTTP\/1\.1 400 /);
  expect(closed).toBe(true);
  expect(paths).toEqual(['/a']);
});

test('malformed request answered after the one before', async () => {
  const { server, paths } = await slowServer(200);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const twoLengths = 'POST /b HTTP/1.1\r\nHost: app.example.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!';

  const { received, closed } = await exchange(berth.port, `${pipelined(['/a'])}${twoLengths}`, () => false);

  expect(received).toMatch(/^HTTP\/1\.1 200 /);
  expect(bodies(received)).toEqual(['/a']);
  expect(received.indexOf('HTTP/1.1 400 ')).toBeGreaterThan(received.indexOf('body of /a'));
  expect(closed).toBe(true);
  expect(paths).toEqual(['/a']);
});

test('pipelined upgrade waits for the response before it', async () => {
  // The server has no upgrade support, so it responds to the upgrade request as to an ordinary one.
  const { server, paths } = await slowServer(200);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const upgrade = 'GET /ws HTTP/1.1\r\nHost: app.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';

  const { received } = await exchange(berth.port, `${pipelined(['/a'])}${upgrade}`, (text) => bodies(text).length === 2);

  expect(bodies(received)).toEqual(['/a', '/ws']);
  expect(paths).toEqual(['/a', '/ws']);
  expect(berth.logs().filter((line) => line.msg === 'upgrade handler failed')).toEqual([]);
});

test('40 requests in one write served', async () => {
  const { server, paths } = await slowServer(0);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  const sent = Array.from({ length: 40 }, (_, index) => `/r${index}`);

  const { received } = await exchange(berth.port, pipelined(sent), (text) => bodies(text).length === sent.length);

  expect(bodies(received)).toEqual(sent);
  expect(paths).toEqual(sent);
});

test('requests beyond the limit dropped', async () => {
  const { server, paths } = await slowServer(0);
  const berth = await startInProcessBerth({ servers: [server.url.origin] });
  running.push(berth);
  // One served at once, MAX_WAITING_REQUESTS waiting, and 10 more, all in one write.
  const sent = Array.from({ length: MAX_WAITING_REQUESTS + 11 }, (_, index) => `/r${index}`);
  const kept = sent.slice(0, MAX_WAITING_REQUESTS + 1);

  const { received, closed } = await exchange(berth.port, pipelined(sent), () => false, 10_000);

  expect(closed).toBe(true);
  expect(bodies(received)).toEqual(kept);
  expect(paths).toEqual(kept);
  const lastResponse = received.slice(received.lastIndexOf('HTTP/1.1 '));
  expect(lastResponse).toMatch(/\r\nconnection: close\r\n/i);
});

test('shutdown drops waiting requests unsent', async () => {
  const { server, paths } = await slowServer(300);
  // Closed by the test itself, because a closed forwarder cannot be closed again.
  const berth = await startInProcessBerth({ servers: [server.url.origin] });

  const exchanged = exchange(berth.port, pipelined(['/first', '/second']), () => false);
  await sleep(100);
  const closed = berth.close(5_000);
  const { received, closed: connectionClosed } = await exchanged;
  await closed;

  expect(bodies(received)).toEqual(['/first']);
  expect(received).toMatch(/connection: close/i);
  expect(connectionClosed).toBe(true);
  expect(paths).toEqual(['/first']);
});
