// Item names in API paths are percent-decoded. Before, an escape that is not UTF-8, such as
// /api/http/routers/%C0, made decodeURIComponent throw a URIError inside the request handler.
// A real HTTP server on loopback serves the API.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiHandler } from '../../src/api/server.js';
import { runtimeOf } from '../routing/helpers.js';

let server: Server;
let apiUrl = '';

beforeAll(async () => {
  const runtime = runtimeOf({ routers: { web: { rule: 'Host(`web.test`)' } }, services: { web: ['http://127.0.0.1:19051/'] } });
  server = createServer(createApiHandler({ api: true, ping: false, runtime: () => runtime, providers: () => ({}), startedAt: new Date() }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('API item names', () => {
  it.each(['/api/http/routers/%C0', '/api/http/services/%ED%A0%80', '/api/entrypoints/%FF'])('404 for non-UTF-8 name %s', async (path) => {
    const response = await fetch(`${apiUrl}${path}`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { message: string }).message).toBe(`${path} not found`);
  });

  it('finds a router by its escaped name', async () => {
    const list = (await (await fetch(`${apiUrl}/api/http/routers`)).json()) as Array<{ name: string }>;
    const name = list[0]?.name ?? '';
    const response = await fetch(`${apiUrl}/api/http/routers/${encodeURIComponent(name)}`);
    expect(response.status).toBe(200);
  });
});
