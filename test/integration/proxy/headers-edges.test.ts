// The headers middleware on the real request path with fields that need care: connection-specific
// response fields on HTTP/2, and a configured Host.
import { afterEach, describe, expect, test } from 'vitest';

import { send, startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, requestHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

describe('customResponseHeaders with a connection-specific field', () => {
  // Node.js refuses Keep-Alive, Upgrade, Proxy-Connection and TE (other than `trailers`) in an
  // HTTP/2 response and ends the stream with no status. Berth leaves them out of HTTP/2 responses
  // and still sends them over HTTP/1.1.
  test.each([['Proxy-Connection', 'keep-alive'], ['Keep-Alive', 'timeout=5'], ['Upgrade', 'foo'], ['TE', 'gzip']])(
    '%s still gives HTTP/2 clients a response',
    async (name, value) => {
      const server = await startServer((_request, response) => response.end('hello'));
      running.push(server);
      const berth = await startInProcessBerth({
        servers: [server.url.origin],
        middlewares: { hop: { type: 'headers', options: { customResponseHeaders: { [name]: value } } } },
      });
      running.push(berth);

      const session = await connectHttp2(berth.port);
      try {
        const response = await Promise.race([
          requestHttp2(session, { ':path': '/' }).catch((error: unknown) => ({ status: 0, body: String(error) })),
          new Promise<{ status: number; body: string }>((resolve) => setTimeout(() => resolve({ status: -1, body: 'no response in 3 s' }), 3_000)),
        ]);
        expect(response.status).toBe(200);
        expect(response.body).toBe('hello');
      } finally {
        session.destroy();
      }
    },
  );
});

describe('customRequestHeaders.Host', () => {
  /** Starts a server that returns the Host and X-Forwarded-Host it received, behind `headers` with these request fields. */
  async function hostEcho(requestHeaders: Record<string, string>): Promise<InProcessBerth> {
    const server = await startServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ host: request.headers.host, forwardedHost: request.headers['x-forwarded-host'] }));
    });
    running.push(server);
    const berth = await startInProcessBerth({
      servers: [server.url.origin],
      middlewares: { host: { type: 'headers', options: { customRequestHeaders: requestHeaders } } },
      forwarder: { keepForwardedHeaders: false },
    });
    running.push(berth);
    return berth;
  }

  // Traefik deletes a field with an empty value with req.Header.Del, which never touches req.Host,
  // so `Host: ""` changes nothing.
  test('an empty value keeps the client host over HTTP/1.1', async () => {
    const berth = await hostEcho({ Host: '' });
    const response = await send(berth.port, { headers: { host: 'app.example.test' } });

    expect(JSON.parse(response.body)).toEqual({ host: 'app.example.test', forwardedHost: 'app.example.test' });
  });

  // Traefik sets X-Forwarded-Host at the entry point, before any middleware, so it stays the host
  // the client asked for while the server gets the configured Host.
  test('X-Forwarded-Host keeps the host the client asked for', async () => {
    const berth = await hostEcho({ Host: 'internal.example.test' });
    const response = await send(berth.port, { headers: { host: 'app.example.test' } });

    expect(JSON.parse(response.body)).toEqual({ host: 'internal.example.test', forwardedHost: 'app.example.test' });
  });

});
