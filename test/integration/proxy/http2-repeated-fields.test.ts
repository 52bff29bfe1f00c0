// A response that repeats a field Node.js's http2 module accepts only once, such as two
// X-Content-Type-Options lines. Before the fix HTTP/1.1 clients got the page while HTTP/2 clients got
// 502, and a repeated Date ended the stream with RST_STREAM and no response at all.
import { afterEach, describe, expect, test } from 'vitest';

import { rawValues, send, startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, requestHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth | { close(): unknown }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

/** Starts a server whose response to `/NAME` carries the field NAME twice, with the values v1 and v2. */
async function repeatingServer(): Promise<RunningServer> {
  const server = await startServer((request, response) => {
    const name = (request.url ?? '/').slice(1);
    response.writeHead(200, [name, 'v1', name, 'v2', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Length', '5']);
    response.end('hello');
  });
  running.push(server);
  return server;
}

describe('repeated single-value fields', () => {
  const firstValueFields = ['date', 'x-content-type-options', 'content-type', 'location', 'etag', 'access-control-allow-credentials'];

  for (const name of firstValueFields) {
    test(`${name} keeps first on HTTP/2`, async () => {
      const server = await repeatingServer();
      const berth = await startInProcessBerth({ servers: [server.url.origin] });
      running.push(berth);
      const session = await connectHttp2(berth.port);
      running.push(session);

      const response = await requestHttp2(session, { ':path': `/${name}` });

      expect(response.status).toBe(200);
      expect(response.body).toBe('hello');
      expect(response.headers[name]).toBe('v1');
      expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    });
  }

  test('content-language joined on HTTP/2', async () => {
    const server = await repeatingServer();
    const berth = await startInProcessBerth({ servers: [server.url.origin] });
    running.push(berth);
    const session = await connectHttp2(berth.port);
    running.push(session);

    const response = await requestHttp2(session, { ':path': '/content-language' });

    expect(response.status).toBe(200);
    expect(response.headers['content-language']).toBe('v1, v2');
  });

  test('HTTP/1.1 keeps both lines', async () => {
    const server = await repeatingServer();
    const berth = await startInProcessBerth({ servers: [server.url.origin] });
    running.push(berth);

    const response = await send(berth.port, { path: '/etag', headers: { host: 'app.example.test' } });

    expect(response.status).toBe(200);
    expect(rawValues(response.rawHeaders, 'etag')).toEqual(['v1', 'v2']);
  });

  test('forwardauth rejection on HTTP/2', async () => {
    // A middleware that writes the fields itself goes through the same folding as the forwarder.
    const auth = await startServer((_request, response) => {
      response.writeHead(401, ['Content-Type', 'text/plain', 'Content-Type', 'text/html', 'WWW-Authenticate', 'Basic', 'WWW-Authenticate', 'Bearer']);
      response.end('denied');
    });
    running.push(auth);
    const server = await repeatingServer();
    const berth = await startInProcessBerth({
      servers: [server.url.origin],
      middlewares: { auth: { type: 'forwardauth', options: { address: `${auth.url.origin}/verify` } } },
    });
    running.push(berth);
    const session = await connectHttp2(berth.port);
    running.push(session);

    const response = await requestHttp2(session, { ':path': '/' });

    expect(response.status).toBe(401);
    expect(response.body).toBe('denied');
    expect(response.headers['content-type']).toBe('text/plain');
    // Both lines arrive, and node:http2's client joins them into one value.
    expect(response.headers['www-authenticate']).toBe('Basic, Bearer');
  });
});
