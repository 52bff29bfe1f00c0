// The API's lists take Traefik's `page` and `per_page` parameters and send X-Next-Page. Before,
// both were ignored: `/api/http/routers?per_page=2` returned every router and no header.
// `/api/explain` rejects a URL of another protocol with 400: before, `ftp://` was explained as
// an HTTP request. A real HTTP server on loopback serves the API.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiHandler } from '../../src/api/server.js';
import { runtimeOf } from '../routing/helpers.js';

const ROUTER_NAMES = ['a', 'b', 'c', 'd', 'e'];

let server: Server;
let apiUrl = '';

beforeAll(async () => {
  const routers = Object.fromEntries(ROUTER_NAMES.map((name) => [name, { rule: `Host(\`${name}.test\`)` }]));
  const services = Object.fromEntries(ROUTER_NAMES.map((name) => [name, ['http://127.0.0.1:19050/']]));
  const runtime = runtimeOf({ routers, services });
  server = createServer(createApiHandler({ api: true, ping: true, runtime: () => runtime, providers: () => ({}), startedAt: new Date() }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

interface ListResponse {
  status: number;
  nextPage: string | null;
  names: string[];
  message: string | undefined;
}

/** Fetches a list from the API and returns the status, the X-Next-Page header and the item names. */
async function getList(path: string): Promise<ListResponse> {
  const response = await fetch(`${apiUrl}${path}`);
  const body = (await response.json()) as Array<{ name: string }> | { message: string };
  return {
    status: response.status,
    nextPage: response.headers.get('x-next-page'),
    names: Array.isArray(body) ? body.map((item) => item.name) : [],
    message: Array.isArray(body) ? undefined : body.message,
  };
}

describe('list pagination', () => {
  it('returns everything by default', async () => {
    const list = await getList('/api/http/routers');
    expect(list.status).toBe(200);
    expect(list.names).toEqual(ROUTER_NAMES.map((name) => `${name}@docker`));
    expect(list.nextPage).toBe('1');
  });

  it('returns the first page', async () => {
    const list = await getList('/api/http/routers?per_page=2');
    expect(list.status).toBe(200);
    expect(list.names).toEqual(['a@docker', 'b@docker']);
    expect(list.nextPage).toBe('2');
  });

  it('returns a middle page', async () => {
    const list = await getList('/api/http/services?per_page=2&page=2');
    expect(list.status).toBe(200);
    expect(list.names).toEqual(['c@docker', 'd@docker']);
    expect(list.nextPage).toBe('3');
  });

  it('marks the last page with 1', async () => {
    const list = await getList('/api/http/routers?per_page=2&page=3');
    expect(list.status).toBe(200);
    expect(list.names).toEqual(['e@docker']);
    expect(list.nextPage).toBe('1');
  });

  it('paginates after the filters', async () => {
    const list = await getList('/api/http/routers?status=enabled&search=b@&per_page=1');
    expect(list.names).toEqual(['b@docker']);
    expect(list.nextPage).toBe('1');
  });

  it('returns page 1 of an empty list', async () => {
    const list = await getList('/api/tcp/routers?page=1&per_page=10');
    expect(list.status).toBe(200);
    expect(list.names).toEqual([]);
    expect(list.nextPage).toBe('1');
  });

  it('paginates entry points too', async () => {
    const list = await getList('/api/entrypoints?per_page=1');
    expect(list.status).toBe(200);
    expect(list.names).toEqual(['web']);
    expect(list.nextPage).toBe('1');
  });

  it('rejects a page past the end', async () => {
    const list = await getList('/api/http/routers?per_page=2&page=4');
    expect(list.status).toBe(400);
    expect(list.message).toBe('page 4 is past the end: with per_page=2 the list of 5 items has 3 pages');
    expect(list.nextPage).toBeNull();
  });

  const invalid: Array<{ desc: string; query: string; message: string }> = [
    { desc: 'zero per_page', query: 'per_page=0', message: 'invalid per_page "0"' },
    { desc: 'negative page', query: 'page=-1', message: 'invalid page "-1"' },
    { desc: 'word as page', query: 'page=two', message: 'invalid page "two"' },
    { desc: 'fraction as per_page', query: 'per_page=2.5', message: 'invalid per_page "2.5"' },
    { desc: 'per_page above the bound', query: 'per_page=1000001', message: 'invalid per_page "1000001"' },
  ];
  for (const { desc, query, message } of invalid) {
    it(`rejects ${desc}`, async () => {
      const list = await getList(`/api/http/middlewares?${query}`);
      expect(list.status).toBe(400);
      expect(list.message).toContain(message);
      expect(list.message).toContain('write a whole number from 1 to 1000000');
    });
  }
});

describe('explain URL scheme', () => {
  it('rejects an ftp URL with 400', async () => {
    const response = await fetch(`${apiUrl}/api/explain?url=${encodeURIComponent('ftp://a.test/file')}`);
    const body = (await response.json()) as { message: string };

    expect(response.status).toBe(400);
    expect(body.message).toContain('the URL "ftp://a.test/file" has the scheme "ftp"');
    expect(body.message).toContain('http://, https://, ws:// or wss://');
  });

  it('explains a ws URL', async () => {
    const response = await fetch(`${apiUrl}/api/explain?url=${encodeURIComponent('ws://a.test/socket')}`);
    const body = (await response.json()) as { winner?: { router: string } };

    expect(response.status).toBe(200);
    expect(body.winner?.router).toBe('a@docker');
  });
});
