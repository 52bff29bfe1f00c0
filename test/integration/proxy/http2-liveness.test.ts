// HTTP/2 clients that vanish in the middle of a large download over TLS. Berth must close the
// session, abort the request to the server and log a 499. The download may be blocked by HTTP/2
// flow control or by a full TCP send buffer, and a slow client that still reads must keep its session.
import { once } from 'node:events';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';

import { afterEach, describe, expect, test } from 'vitest';

import { startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<{ close(): unknown }> = [];
const berths: InProcessBerth[] = [];

// Clients and servers close first, so that Berth has no endless download in flight when it closes.
// Closing everything at once hung twice under the load of the full suite, until the hook's 120 s
// timeout. A likely cause, now fixed and tested below: when a client reset an HTTP/2 stream whose
// writes had all been flushed, Berth never aborted the request to the server, so the forwarder's
// close waited for an endless download. Berth's close stays bounded here all the same.
afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
  await Promise.all(berths.splice(0).map(async (berth) => within(berth.close(), 10_000)));
});

/** Starts a server that streams an endless response and records when its connection to Berth closes. */
async function endlessServer(): Promise<{ server: RunningServer; started: Promise<void>; closed: Promise<void> }> {
  let onStarted = (): void => undefined;
  let onClosed = (): void => undefined;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const server = await startServer((request, response) => {
    request.socket.once('close', onClosed);
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    onStarted();
    const pump = (): void => {
      while (!response.destroyed && response.write(chunk));
      if (!response.destroyed) response.once('drain', pump);
    };
    pump();
  });
  running.push(server);
  return { server, started, closed };
}

async function berthFor(server: RunningServer): Promise<InProcessBerth> {
  const berth = await startInProcessBerth({
    servers: [server.url.origin],
    entryPoint: { sessionLiveness: { intervalMs: 100, timeoutMs: 500 } },
  });
  berths.push(berth);
  return berth;
}

/** Resolves with true when `promise` settles within `ms`, and with false otherwise. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}

function clientGoneLogged(berth: InProcessBerth): boolean {
  return berth.logs().some((line) => line.status === 499 && line.msg === 'client closed the connection before the response ended');
}

/**
 * Starts a TCP relay to Berth. Tests pause the Berth side of a connection to stop reading from
 * Berth, so that Berth's writes block in the kernel while the client's HTTP/2 window stays open.
 */
async function startRelay(berthPort: number): Promise<{ port: number; toBerth: net.Socket[]; fromClient: net.Socket[] }> {
  const toBerth: net.Socket[] = [];
  const fromClient: net.Socket[] = [];
  const relay = net.createServer((client) => {
    const upstream = net.connect(berthPort, LOOPBACK);
    toBerth.push(upstream);
    fromClient.push(client);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  relay.listen(0, LOOPBACK);
  await once(relay, 'listening');
  running.push({
    close: () => {
      for (const socket of [...toBerth, ...fromClient]) socket.destroy();
      relay.close();
    },
  });
  return { port: (relay.address() as AddressInfo).port, toBerth, fromClient };
}

/** Starts a download through `port` with the largest HTTP/2 windows, reading everything Berth sends. */
async function downloadWithOpenWindow(port: number): Promise<void> {
  const session = http2.connect(`https://${LOOPBACK}:${port}`, {
    rejectUnauthorized: false,
    servername: 'app.example.test',
    settings: { initialWindowSize: 2 ** 31 - 1 },
  });
  session.on('error', () => undefined);
  session.on('connect', () => session.setLocalWindowSize(2 ** 31 - 1));
  running.push({ close: () => session.destroy() });
  const stream = session.request({ ':path': '/big', ':authority': 'app.example.test' });
  stream.on('error', () => undefined);
  stream.resume();
  await once(stream, 'response');
}

describe('HTTP/2 client gone during a download', () => {
  test('flow-control window exhausted, then TCP closed', async () => {
    const { server, started, closed } = await endlessServer();
    const berth = await berthFor(server);

    let socket: tls.TLSSocket | undefined;
    const session = http2.connect(`https://${LOOPBACK}:${berth.port}`, {
      settings: { initialWindowSize: 65_535 },
      createConnection: () => {
        socket = tls.connect({ host: LOOPBACK, port: berth.port, servername: 'app.example.test', rejectUnauthorized: false, ALPNProtocols: ['h2'] });
        return socket;
      },
    });
    session.on('error', () => undefined);
    const stream = session.request({ ':path': '/big', ':authority': 'app.example.test' });
    stream.on('error', () => undefined);
    // A paused stream is never read, so the client sends no WINDOW_UPDATE beyond the initial window.
    stream.pause();
    await once(stream, 'response');
    await started;

    socket?.destroy();

    expect(await within(closed, 5_000)).toBe(true);
    await expect.poll(() => clientGoneLogged(berth), { timeout: 2_000 }).toBe(true);
  });

  test('TCP send buffer full, then connection reset', async () => {
    const { server, started, closed } = await endlessServer();
    const berth = await berthFor(server);

    const { port: relayPort, toBerth, fromClient } = await startRelay(berth.port);

    await downloadWithOpenWindow(relayPort);
    await started;

    for (const socket of toBerth) {
      socket.unpipe();
      socket.pause();
    }
    // Time for Berth to fill the kernel buffers of the loopback connection.
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Unread bytes in the receive buffer make the kernel send a reset, as when a client process is killed.
    for (const socket of [...toBerth, ...fromClient]) socket.destroy();

    expect(await within(closed, 5_000)).toBe(true);
    // Node.js 24 reports the reset itself, and on Node.js 20 the PING check closes the session.
    await expect.poll(() => clientGoneLogged(berth), { timeout: 2_000 }).toBe(true);
  });

  test('slow reader kept open', async () => {
    const { server, started, closed } = await endlessServer();
    const berth = await berthFor(server);
    const { port: relayPort, toBerth } = await startRelay(berth.port);
    await downloadWithOpenWindow(relayPort);
    await started;

    // Reads from Berth for 5 ms every 100 ms: the kernel buffers stay nearly full, so a PING waits
    // behind megabytes, but the session keeps making progress.
    const timer = setInterval(() => {
      for (const socket of toBerth) {
        socket.resume();
        setTimeout(() => socket.pause(), 5);
      }
    }, 100);
    for (const socket of toBerth) socket.pause();
    const closedEarly = await within(closed, 2_000);
    clearInterval(timer);

    expect(closedEarly).toBe(false);
    expect(berth.logs().some((line) => line.msg === 'closing unresponsive HTTP/2 session')).toBe(false);
  });
});

/** Starts a server that sends one event and then stays quiet, and records when its request closes. */
async function quietServer(): Promise<{ server: RunningServer; started: Promise<void>; closed: Promise<void> }> {
  let onStarted = (): void => undefined;
  let onClosed = (): void => undefined;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  const server = await startServer((_request, response) => {
    response.once('close', onClosed);
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write('data: first\n\n');
    onStarted();
  });
  running.push(server);
  return { server, started, closed };
}

/** Opens an HTTP/2 session to Berth over TLS and starts an event stream whose bytes are all read. */
async function openEventStream(port: number): Promise<{ session: http2.ClientHttp2Session; stream: http2.ClientHttp2Stream }> {
  const session = http2.connect(`https://${LOOPBACK}:${port}`, { rejectUnauthorized: false, servername: 'app.example.test' });
  session.on('error', () => undefined);
  running.push({ close: () => session.destroy() });
  const stream = session.request({ ':path': '/events', ':authority': 'app.example.test' });
  stream.on('error', () => undefined);
  stream.resume();
  await once(stream, 'response');
  return { session, stream };
}

describe('HTTP/2 client gone from a quiet stream', () => {
  test('stream reset aborts the server request', async () => {
    const { server, started, closed } = await quietServer();
    const berth = await berthFor(server);
    const { stream } = await openEventStream(berth.port);
    await started;
    // Berth has flushed everything, so its side of the stream has nothing left to write.
    await new Promise((resolve) => setTimeout(resolve, 200));

    stream.close(http2.constants.NGHTTP2_CANCEL);

    expect(await within(closed, 5_000)).toBe(true);
    await expect.poll(() => clientGoneLogged(berth), { timeout: 2_000 }).toBe(true);
  });

  test('shutdown ends the stream within grace', async () => {
    const { server, started, closed } = await quietServer();
    // Not in `berths`, because this test closes it and a second close would throw.
    const berth = await startInProcessBerth({ servers: [server.url.origin] });
    await openEventStream(berth.port);
    await started;

    const stopped = performance.now();
    const closedInTime = await within(berth.close(300), 5_000);
    const stopMs = performance.now() - stopped;

    expect(closedInTime).toBe(true);
    expect(stopMs).toBeLessThan(3_000);
    expect(await within(closed, 2_000)).toBe(true);
  });
});
