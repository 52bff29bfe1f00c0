// Findings of a review of the HTTP edges of an entry point, with raw sockets. Each test shows a
// fault that is not fixed yet.
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';

import { afterEach, describe, expect, test } from 'vitest';

import { send, sendRaw, startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth | { close(): Promise<void> }> = [];

/** Starts a server that sends, for each request head, `response`, byte for byte, and keeps the connection. */
async function startCannedServer(response: string): Promise<{ origin: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      while (head.includes('\r\n\r\n')) {
        head = head.slice(head.indexOf('\r\n\r\n') + 4);
        socket.write(response, 'latin1');
      }
    });
  });
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const canned = {
    origin: `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  running.push(canned);
  return canned;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

describe('CONNECT', () => {
  // Over HTTP/1.1 a CONNECT request gets no response at all: Node.js emits 'connect', no listener
  // is registered, and the socket is destroyed without a status line or a log line. The same request
  // over HTTP/2 gets 405. Go's server, and so Traefik, passes it to the router like any other
  // request, so the client gets 404 or the router's response. A client should at least get a status.
  test('HTTP/1.1 CONNECT gets a status line', async () => {
    const server = await startServer((_request, response) => response.end('server'));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url.origin] });
    running.push(berth);

    const received = await sendRaw(berth.port, 'CONNECT app.example.test:443 HTTP/1.1\r\nHost: app.example.test:443\r\n\r\n');

    expect(received).toMatch(/^HTTP\/1\.1 4\d\d /);
  });


  // Worse, a CONNECT pipelined behind a request destroys the connection before that request's
  // response is written, so a request that was already accepted loses its response. Pipelined
  // upgrades and parse errors keep pipeline order; CONNECT should too.
  test('a pipelined CONNECT leaves the response before it intact', async () => {
    const server = await startServer((_request, response) => setTimeout(() => response.end('first'), 300));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url.origin] });
    running.push(berth);

    const received = await sendRaw(
      berth.port,
      'GET /first HTTP/1.1\r\nHost: app.example.test\r\n\r\n' + 'CONNECT app.example.test:443 HTTP/1.1\r\nHost: app.example.test:443\r\n\r\n',
    );

    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toContain('first');
  });
});

describe('server responses', () => {
  // RFC 9110 §15.2: a client must parse 1xx responses it did not expect, and a proxy forwards
  // them. A server may send `100 Continue` to a request without Expect. Berth responds 502 to a GET whose
  // server sends `100 Continue` before its 200, and logs "the server closed the connection
  // (UND_ERR_SOCKET): bad response", though the server closed nothing. Traefik (Go's Transport)
  // skips or forwards the 1xx and relays the 200.
  test('an unsolicited 100 Continue before the response is not a 502', async () => {
    const server = await startCannedServer('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const berth = await startInProcessBerth({ servers: [server.origin] });
    running.push(berth);

    const response = await send(berth.port, { headers: { host: 'app.example.test' } });

    expect(response.status).toBe(200);
    expect(response.body).toBe('ok');
  });

  // RFC 9110 §8.6: no Content-Length in a 204. Berth relays a server's `Content-Length: 5` on a
  // 204, and an HTTP/2 client then resets the stream with PROTOCOL_ERROR instead of getting the
  // 204 (curl: "stream 1 was not closed cleanly: PROTOCOL_ERROR"). Go's server, and so Traefik,
  // removes Content-Length and Transfer-Encoding from 1xx and 204 responses.
  test('a 204 with a Content-Length reaches an HTTP/2 client', async () => {
    const server = await startCannedServer('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n');
    const berth = await startInProcessBerth({ servers: [server.origin] });
    running.push(berth);
    const session = await connectHttp2(berth.port);
    try {
      const stream = session.request({ ':authority': 'app.example.test', ':path': '/' });
      stream.resume();
      const outcome = await new Promise<string>((resolve) => {
        stream.on('response', (headers) => resolve(`status ${String(headers[':status'])}, content-length ${String(headers['content-length'])}`));
        stream.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${String(error.code)}`));
      });
      expect(outcome).toBe('status 204, content-length undefined');
    } finally {
      session.destroy();
    }
  });
});

describe('timeouts longer than 24.8 days', () => {
  // Node.js timers hold at most 2^31-1 ms (about 24.8 days). A longer delay prints a
  // TimeoutOverflowWarning and fires after 1 ms. `--entrypoints.web.transport.respondingtimeouts.writetimeout=1000h`
  // is accepted at start, and then every request on the entry point gets no response at all
  // (curl: status 000). With `lifecycle.gracetimeout=1000h`, SIGTERM ended a 3 s request after
  // 1.8 s instead of waiting for it. Traefik takes any Go duration. Berth should cap such values or
  // reject them at start with a message that names the option and the maximum.
  test('a write timeout of 1000 hours lets a request finish', async () => {
    const server = await startServer((_request, response) => setTimeout(() => response.end('done'), 100));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url.origin], entryPoint: { timeouts: { writeTimeoutMs: 1_000 * 3_600_000 } } });
    running.push(berth);

    const received = await sendRaw(berth.port, 'GET / HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n');

    expect(received).toMatch(/^HTTP\/1\.1 200 /);
  });

  // `--serverstransport.forwardingtimeouts.responseheadertimeout=1000h` is accepted too, and then
  // every request gets 504 Gateway Timeout at once.
  test('a response header timeout of 1000 hours lets a request finish', async () => {
    const server = await startServer((_request, response) => setTimeout(() => response.end('done'), 100));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url.origin], forwarder: { responseHeaderTimeoutMs: 1_000 * 3_600_000 } });
    running.push(berth);

    const response = await send(berth.port, { headers: { host: 'app.example.test' } });

    expect(response.status).toBe(200);
  });
});

describe('graceful shutdown', () => {
  // An idle keep-alive connection is closed at once when Berth stops, but a connection that has
  // not sent its first request yet delays the stop for the whole grace period: after SIGTERM,
  // `bin/berth` exited in 20 ms with an idle keep-alive client, and in 10,020 ms (the default
  // gracetimeout) with a client that had only connected, over TCP or after a TLS handshake.
  // Browsers open such spare connections ahead of time. Go's http.Server.Shutdown, and so Traefik,
  // treats a connection that has sent nothing for 5 s as idle and closes it.
  test('a connection without a request does not hold the stop', async () => {
    const server = await startServer((_request, response) => response.end('ok'));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url.origin] });

    const socket = net.connect(berth.port, LOOPBACK);
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    const started = performance.now();
    await berth.close(5_000);
    const elapsedMs = performance.now() - started;
    socket.destroy();

    expect(elapsedMs).toBeLessThan(1_000);
  });
});

