// Clients that leave before forwarding starts, over HTTP/1.1 (closed connection) and HTTP/2 (stream reset).
// Before the fix, a client that left while forwardAuth waited on its auth server still had its request
// forwarded, the exchange never settled (no 499, server in-flight count stuck at 1) and the forwarder's
// close() never returned. On HTTP/2, a client that reset its stream during the retry middleware's wait
// still had the retry sent, because Http2ServerResponse has no `destroyed` property.
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, test } from 'vitest';

import { createForwarder } from '../../../src/proxy/forwarder.js';
import { CONTEXT, startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

type Protocol = 'h1' | 'h2';

/** Sends `GET /gone` and leaves after `leaveAfterMs`: HTTP/1.1 closes the connection, HTTP/2 resets the stream with CANCEL. */
async function sendAndLeave(protocol: Protocol, port: number, leaveAfterMs: number): Promise<void> {
  if (protocol === 'h1') {
    const socket = net.connect(port, LOOPBACK);
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write('GET /gone HTTP/1.1\r\nHost: app.example.test\r\n\r\n');
    await sleep(leaveAfterMs);
    socket.destroy();
    return;
  }

  const session = await connectHttp2(port);
  const stream = session.request({ ':authority': 'app.example.test', ':path': '/gone' });
  stream.on('error', () => undefined);
  stream.resume();
  await sleep(leaveAfterMs);
  stream.close(http2.constants.NGHTTP2_CANCEL);
  // The session stays open, so only the reset stream shows Berth that the client left.
  running.push({ close: async () => void session.close() } as RunningServer);
}

/** Returns the ms `close` took, or fails the test when it takes longer than `limitMs`. */
async function closeWithin(berth: InProcessBerth, limitMs: number): Promise<number> {
  const started = performance.now();
  const timedOut = sleep(limitMs).then(() => 'timed out' as const);
  const result = await Promise.race([berth.close().then(() => 'closed' as const), timedOut]);
  expect(result, `close() still waiting after ${limitMs} ms`).toBe('closed');
  return performance.now() - started;
}

/** Returns the log entries with status 499. */
function clientClosedEntries(berth: InProcessBerth): Array<Record<string, unknown>> {
  return berth.logs().filter((entry) => entry.status === 499);
}

describe.each<Protocol>(['h1', 'h2'])('client gone during forwardAuth (%s)', (protocol) => {
  test('request never forwarded', async () => {
    let authCancelled = false;
    const auth = await startServer((_request, response) => {
      response.on('close', () => (authCancelled = !response.writableEnded));
      setTimeout(() => response.end(), 400).unref();
    });
    running.push(auth);
    let forwarded = 0;
    const app = await startServer((_request, response) => {
      forwarded += 1;
      response.end('ok');
    });
    running.push(app);
    const berth = await startInProcessBerth({
      servers: [app.url.origin],
      passiveHealthCheck: true,
      middlewares: { auth: { type: 'forwardauth', options: { address: `${auth.url.origin}/verify` } } },
    });

    await sendAndLeave(protocol, berth.port, 100);
    await sleep(700);

    expect(forwarded).toBe(0);
    // The request to the authentication server is cancelled too, rather than left to finish.
    expect(authCancelled).toBe(true);
    const entries = clientClosedEntries(berth);
    expect(entries.map((entry) => entry.msg)).toEqual(['client closed the connection in a middleware']);
    const health = berth.serverHealth(app.url.origin);
    expect(health?.inFlight).toBe(0);
    expect(health?.status).toBe('UP');
    expect(await closeWithin(berth, 2_000)).toBeLessThan(1_000);
  });
});

describe.each<Protocol>(['h1', 'h2'])('client gone during retry wait (%s)', (protocol) => {
  test('no retry sent', async () => {
    // Resets every connection once the request arrives, so each attempt fails after reaching the server.
    let connections = 0;
    const resetting = net.createServer((socket) => {
      connections += 1;
      socket.on('error', () => undefined);
      socket.once('data', () => socket.resetAndDestroy());
    });
    resetting.listen(0, LOOPBACK);
    await once(resetting, 'listening');
    const url = `http://${LOOPBACK}:${(resetting.address() as AddressInfo).port}`;
    running.push({ close: () => new Promise<void>((resolve) => resetting.close(() => resolve())) } as RunningServer);
    const berth = await startInProcessBerth({
      servers: [url],
      middlewares: { retry: { type: 'retry', options: { attempts: 3, initialInterval: '500ms' } } },
    });

    await sendAndLeave(protocol, berth.port, 150);
    // Past the first wait (500 ms to just under 1 s) and a second attempt had it been sent.
    await sleep(1_200);

    expect(connections).toBe(1);
    const entries = clientClosedEntries(berth);
    expect(entries.map((entry) => entry.msg)).toEqual(['client closed the connection before the retry']);
    expect(berth.serverHealth(url)?.inFlight).toBe(0);
    expect(await closeWithin(berth, 2_000)).toBeLessThan(1_000);
  });
});

describe('forwarder close with a timeout', () => {
  test('ends a stuck response', async () => {
    // Sends the header and one chunk, then nothing, so the exchange would wait forever.
    const stalled = await startServer((_request, response) => {
      response.writeHead(200);
      response.write('first');
    });
    running.push(stalled);
    const forwarder = createForwarder();
    const outcomes: number[] = [];
    const front = await startServer((request, response) => {
      void forwarder.forward(request, response, { url: stalled.url, passHostHeader: true }, CONTEXT).then((outcome) => outcomes.push(outcome.status));
    });
    running.push(front);

    const request = http.get({ host: LOOPBACK, port: front.port, agent: false });
    request.on('error', () => undefined);
    const [response] = (await once(request, 'response')) as [http.IncomingMessage];
    response.on('error', () => undefined);
    response.resume();
    const clientClosed = new Promise((resolve) => response.once('close', resolve));

    const started = performance.now();
    await forwarder.close(200);
    const elapsedMs = performance.now() - started;
    await clientClosed;

    expect(elapsedMs).toBeGreaterThanOrEqual(150);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(outcomes).toEqual([200]);
    expect(response.complete).toBe(false);
  });
});

describe('HTTP/2 stream reset with NO_ERROR', () => {
  // Node.js emits only 'aborted' on the stream for this reset, and no 'close' on the response until
  // the session closes, so Berth kept the request to the server open while the session lived.
  test('request to the server aborted', async () => {
    let serverSawClose: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (serverSawClose = resolve));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const app = await startServer((_request, response) => {
      response.on('close', () => serverSawClose());
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      const pump = (): void => {
        while (response.write(chunk));
        response.once('drain', pump);
      };
      pump();
    });
    running.push(app);
    const berth = await startInProcessBerth({ servers: [app.url.origin] });
    running.push(berth);

    const session = await connectHttp2(berth.port);
    running.push({ close: async () => void session.close() } as RunningServer);
    const stream = session.request({ ':authority': 'app.example.test', ':path': '/big' });
    stream.on('error', () => undefined);
    await once(stream, 'data');
    stream.close(http2.constants.NGHTTP2_NO_ERROR);

    const outcome = await Promise.race([closed.then(() => 'aborted' as const), sleep(3_000).then(() => 'still open' as const)]);
    expect(outcome).toBe('aborted');
    expect(session.closed).toBe(false);
  });
});
