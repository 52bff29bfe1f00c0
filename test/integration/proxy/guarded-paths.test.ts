// A public router and a router for `/admin` with a middleware, in front of a server that decodes
// percent-escapes: no spelling of the path may reach `/admin` past that middleware.
//
// The setup is what a user writes: a public router for the host, and a router `PathPrefix(/admin)`
// that guards the same server with a middleware. Here that is `headers.allowedHosts`, which responds
// 500 to every host, where an auth middleware would do the same job. The server decodes
// percent-escapes, as busybox httpd, nginx, Go's net/http and most frameworks do.
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';

import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';

import type { ProviderConfig } from '../../../src/dynamic/model.js';
import { ConfigurationStore } from '../../../src/dynamic/store.js';
import { EntryPoint } from '../../../src/entrypoints/server.js';
import { createForwarder } from '../../../src/proxy/forwarder.js';
import { Dispatcher } from '../../../src/routing/dispatch.js';
import { sendRaw, startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK } from './harness.js';

const running: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

/** A server that decodes the path as a file server does and returns the file it would serve. */
async function decodingFileServer(): Promise<RunningServer> {
  const server = await startServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    response.end(path.startsWith('/admin/') ? `secret of ${path}` : `public ${path}`);
  });
  running.push(server);
  return server;
}

/** Starts an entry point with a public router and a guarded `/admin` router, both to `server`. */
async function startGuardedBerth(server: RunningServer): Promise<number> {
  const logger = pino({ level: 'silent' }, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
  const forwarder = createForwarder({ logger });
  let dispatcher: Dispatcher | undefined;
  const store = new ConfigurationStore({ entryPoints: ['web'], logger, onRuntime: (runtime) => dispatcher?.swap(runtime) });
  dispatcher = new Dispatcher(store.initialRuntime(), forwarder, logger);
  const sources = [{ provider: 'test', origin: 'test' }];
  const item = { errors: [], warnings: [], sources };
  const config: ProviderConfig = {
    routers: {
      public: { ...item, rule: 'Host(`app.example.test`)', entryPoints: ['web'], service: 'app', middlewares: [] },
      admin: { ...item, rule: 'Host(`app.example.test`) && PathPrefix(`/admin`)', entryPoints: ['web'], service: 'app', middlewares: ['guard'] },
    },
    services: { app: { ...item, loadBalancer: { servers: [{ url: server.url.origin, weight: 1 }], passHostHeader: true } } },
    middlewares: { guard: { ...item, type: 'headers', options: { allowedHosts: ['nobody.invalid'] } } },
    skipped: [],
  };
  store.update('test', config);
  const active = dispatcher;

  const entryPoint = new EntryPoint({
    name: 'web',
    address: `${LOOPBACK}:0`,
    logger,
    handler: (request, response, scheme) => active.handle(request, response, { entryPoint: 'web', scheme, serverName: 'berth-test' }),
    upgradeHandler: (request, socket, head, scheme) => active.handleUpgrade(request, socket, head, { entryPoint: 'web', scheme, serverName: 'berth-test' }),
  });
  const address: AddressInfo = await entryPoint.listen();
  running.push({
    async close() {
      await entryPoint.close(0);
      await forwarder.close();
    },
  });
  return address.port;
}

function get(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n`;
}

describe('the guarded /admin router', () => {
  test('guards the plain path', async () => {
    const port = await startGuardedBerth(await decodingFileServer());
    const received = await sendRaw(port, get('/admin/secret.txt'));
    expect(received).toMatch(/^HTTP\/1\.1 500 /);
  });

  // Traefik's GHSA-vrch-868g-9jx5 (fixed in v3.4.1 and v2.11.25): a percent-encoded unreserved
  // character in the path moved the request to another router and past the middlewares of the
  // router meant for it, and the server then decoded it to `/admin/...`. Berth, like Traefik since
  // v3.4.1, decodes unreserved characters (RFC 3986 §6.2.2.2) before routing and forwards the
  // decoded path.
  test.each(['/%61dmin/secret.txt', '/admi%6E/secret.txt', '/%61%64%6D%69%6E/secret.txt'])(
    'guards %s',
    async (path) => {
      const port = await startGuardedBerth(await decodingFileServer());
      const received = await sendRaw(port, get(path));
      expect(received).not.toContain('secret of /admin/secret.txt');
      expect(received).toMatch(/^HTTP\/1\.1 (4\d\d|500) /);
    },
  );

  // Traefik's GHSA-gm3x-23wp-hc2c (fixed in v3.6.4): an encoded `/` lets `..` climb out of a
  // public prefix after the server decodes it. Berth rejects with 400 a path where an encoded
  // slash or a backslash hides a dot segment.
  test('guards /public/..%2Fadmin/secret.txt', async () => {
    const port = await startGuardedBerth(await decodingFileServer());
    const received = await sendRaw(port, get('/public/..%2Fadmin/secret.txt'));
    expect(received).toMatch(/^HTTP\/1\.1 (4\d\d|500) /);
  });
});
