// Findings of a review of the HTTP edges of an entry point, with raw sockets. Each test shows a
// fault that is not fixed yet.
import { afterEach, describe, expect, test } from 'vitest';

import { sendRaw, startServer, type RunningServer } from '../../proxy/harness.js';
import { startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

describe('CONNECT', () => {
  // Over HTTP/1.1 a CONNECT request gets no response at all: Node.js emits 'connect', nobody
  // listens, and the socket is destroyed without a status line or a log line. The same request
  // over HTTP/2 gets 405. Traefik answers it like any other request (404 or the router's
  // response), Caddy and nginx answer 405 or 400; a client should at least learn the status.
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
