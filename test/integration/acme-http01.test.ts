// HTTP-01 end to end, in-process: pebble fetches the challenge response from a local HTTP server
// that calls `challengeResponder` first, as the entry point named in `httpchallenge.entrypoint` does.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, test } from 'vitest';

import { challengeResponder } from '../../src/tls/acme/manager.js';
import { resolverConfig, runtimeWithRouters, startManager, storageDirectory, waitForCertificate } from './harness/acme-manager.js';
import { httpRequest } from './harness/http.js';
import { type PebbleServer, startPebble } from './harness/pebble.js';

let pebble: PebbleServer;
let web: Server;
let routedRequests = 0;

beforeAll(async () => {
  web = createServer((request, response) => {
    if (challengeResponder(request, response)) return;
    routedRequests += 1;
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  pebble = await startPebble({ httpPort: (web.address() as AddressInfo).port });
});

afterAll(async () => {
  await pebble?.stop();
  await new Promise((resolve) => web?.close(resolve));
});

test('HTTP-01 certificate for app.example.test', async () => {
  const { dnsChallenge: _unused, ...base } = resolverConfig(pebble, join(storageDirectory(), 'acme.json'));
  const { manager, store, stop } = await startManager(pebble, [{ ...base, httpChallenge: { entryPoint: 'web' } }], {});
  try {
    manager.onRuntime(runtimeWithRouters({ app: { rule: 'Host(`app.example.test`) && PathPrefix(`/`)', tls: { certResolver: 'le' } } }));
    await waitForCertificate(store, ['app.example.test']);
    expect(manager.status()[0]?.errors).toEqual([]);
  } finally {
    stop();
  }

  // Once the order is done the token is withdrawn, so challenge paths are routed as usual again.
  const port = (web.address() as AddressInfo).port;
  const response = await httpRequest(`http://127.0.0.1:${port}/.well-known/acme-challenge/anything`);
  expect(response.status).toBe(404);
  expect(routedRequests).toBeGreaterThan(0);
});

test('wildcard without DNS-01 explained', async () => {
  const { dnsChallenge: _unused, ...base } = resolverConfig(pebble, join(storageDirectory(), 'acme.json'));
  const { manager, stop } = await startManager(pebble, [{ ...base, httpChallenge: { entryPoint: 'web' } }], {});
  try {
    manager.onRuntime(runtimeWithRouters({ app: { rule: 'Host(`example.test`)', tls: { certResolver: 'le', domains: [{ main: '*.example.test', sans: [] }] } } }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The wildcard is not ordered: the router gets a warning, and the resolver lists the problem.
    const status = manager.status()[0];
    expect(status?.orders.some((order) => order.main === '*.example.test')).toBe(false);
    expect(status?.errors.join('\n')).toContain('validates only with DNS-01');
  } finally {
    stop();
  }
});
