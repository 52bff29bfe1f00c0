// HTTP edges of an entry point seen with raw sockets: CONNECT, unusual server responses, timeouts
// beyond what a timer holds, and connections that never sent a request at shutdown.
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';

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
  // Berth tunnels no CONNECT requests. node:http destroys the connection of a CONNECT without a
  // response when nothing listens for it, even with a pipelined response before it unwritten; Berth
  // responds 405 in turn, as it does over HTTP/2.
  test('HTTP/1.1 CONNECT gets a status line', async () => {
    const server = await startServer((_request, response) => response.end('server'));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url.origin] });
    running.push(berth);

    const received = await sendRaw(berth.port, 'CONNECT app.example.test:443 HTTP/1.1\r\nHost: app.example.test:443\r\n\r\n');

    expect(received).toMatch(/^HTTP\/1\.1 4\d\d /);
  });


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

  test('HTTP/2 CONNECT gets 405', async () => {
    const server = await startServer((_request, response) => response.end('server'));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url.origin] });
    running.push(berth);
    const session = await connectHttp2(berth.port);
    try {
      const stream = session.request({ ':method': 'CONNECT', ':authority': 'app.example.test:443' });
      stream.resume();
      const status = await new Promise<unknown>((resolve) => {
        stream.on('response', (headers) => resolve(headers[':status']));
        stream.on('error', (error: Error) => resolve(error.message));
      });
      expect(status).toBe(405);
    } finally {
      session.destroy();
    }
  });
});

describe('server responses', () => {
  // RFC 9110 §15.2: a client must parse 1xx responses it did not expect, and a proxy forwards
  // them; Traefik (Go's Transport) relays the 200 that follows.
  // NOTE: skipped because undici 7.30.3 fails an unsolicited `100 Continue` with UND_ERR_SOCKET
  // `bad response` and has no option to skip it, so Berth responds 502 (see response-relay.ts).
  test.skip('an unsolicited 100 Continue before the response is not a 502', async () => {
    const server = await startCannedServer('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const berth = await startInProcessBerth({ servers: [server.origin] });
    running.push(berth);

    const response = await send(berth.port, { headers: { host: 'app.example.test' } });

    expect(response.status).toBe(200);
    expect(response.body).toBe('ok');
  });

  // RFC 9110 §8.6: no Content-Length in a 204. Go's server, and so Traefik, removes it; an HTTP/2
  // client would reset the stream for a length that no DATA frame matches.
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
  // Node.js timers hold at most 2^31-1 ms (about 24.8 days), and a longer delay fires after 1 ms.
  // Traefik takes any Go duration, so Berth caps timeouts at the longest delay a timer holds.
  test('a write timeout of 1000 hours lets a request finish', async () => {
    const server = await startServer((_request, response) => setTimeout(() => response.end('done'), 100));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url.origin], entryPoint: { timeouts: { writeTimeoutMs: 1_000 * 3_600_000 } } });
    running.push(berth);

    const received = await sendRaw(berth.port, 'GET / HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n');

    expect(received).toMatch(/^HTTP\/1\.1 200 /);
  });

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
  // Browsers open spare connections ahead of time. One that has sent no request is closed at once
  // when Berth stops, as an idle keep-alive connection is, instead of holding the stop until the deadline.
  const quietClients: Array<[string, (port: number) => Promise<{ destroy(): unknown }>]> = [
    [
      'TCP',
      async (port) => {
        const socket = net.connect(port, LOOPBACK);
        socket.on('error', () => undefined);
        await once(socket, 'connect');
        return socket;
      },
    ],
    [
      'TLS for HTTP/1.1',
      async (port) => {
        const socket = tls.connect({ host: LOOPBACK, port, servername: 'app.example.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
        socket.on('error', () => undefined);
        await once(socket, 'secureConnect');
        return socket;
      },
    ],
    [
      'HTTP/2 session',
      async (port) => {
        const session = await connectHttp2(port);
        session.on('error', () => undefined);
        return session;
      },
    ],
  ];

  test.each(quietClients)('a %s connection without a request does not hold the stop', async (_kind, connect) => {
    const server = await startServer((_request, response) => response.end('ok'));
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url.origin] });

    const client = await connect(berth.port);
    const started = performance.now();
    await berth.close(5_000);
    const elapsedMs = performance.now() - started;
    client.destroy();

    expect(elapsedMs).toBeLessThan(1_000);
  });
});
