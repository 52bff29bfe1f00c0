// `/api/explain` explains the path a client sends. Before, `?url=http://r.localhost/public/..%2Fexact`
// lost its `%2F` to query decoding and was explained as routed to r7, while the real request got 400.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { urlParameter } from '../../src/api/explain.js';
import { createApiHandler } from '../../src/api/server.js';
import type { ExplainReport } from '../../src/routing/explain.js';
import { runtimeOf } from '../routing/helpers.js';

let server: Server;
let apiUrl = '';

beforeAll(async () => {
  const runtime = runtimeOf({
    routers: {
      r9: { rule: 'Host(`r.localhost`) && Path(`/exact`)' },
      r7: { rule: 'Host(`r.localhost`)', priority: 1 },
      redir: { rule: 'Host(`s.localhost`)', service: 'r7', middlewares: ['tohttps'] },
    },
    services: { r9: ['http://127.0.0.1:19109/'], r7: ['http://127.0.0.1:19107/'] },
    middlewares: { tohttps: { type: 'redirectscheme', options: { scheme: 'https', permanent: true } } },
  });
  // The API's own caller, 127.0.0.1, is not a trusted proxy of the web entry point; 10.9.9.9 is.
  const forwardedHeaders = new Map([['web', { trustedIPs: ['10.9.9.9'], insecure: false }]]);
  server = createServer(createApiHandler({ api: true, ping: true, runtime: () => runtime, providers: () => ({}), startedAt: new Date(), forwardedHeaders }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** Requests `/api/explain` with `query` sent exactly as given. */
async function explainQuery(query: string): Promise<ExplainReport> {
  const response = await fetch(`${apiUrl}/api/explain?${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as ExplainReport;
}

describe('explain API request target', () => {
  it('reports 400 for a written ..%2F', async () => {
    const report = await explainQuery('url=http://r.localhost/public/..%2Fexact');
    expect(report.outcome).toBe('rejected');
    expect(report.response?.status).toBe(400);
  });

  it('reports 400 for an encoded ..%2F', async () => {
    const report = await explainQuery(`url=${encodeURIComponent('http://r.localhost/public/..%2Fexact')}`);
    expect(report.outcome).toBe('rejected');
  });

  it('routes a written /a/../exact to r9', async () => {
    const report = await explainQuery('url=http://r.localhost/a/../exact');
    expect(report.winner?.router).toBe('r9@docker');
    expect(report.request.receivedPath).toBe('/a/../exact');
  });

  it('routes a written /%65xact to r9', async () => {
    const report = await explainQuery('url=http://r.localhost/%65xact');
    expect(report.winner?.router).toBe('r9@docker');
  });

  it('routes an encoded /%65xact to r9', async () => {
    const report = await explainQuery(`url=${encodeURIComponent('http://r.localhost/%65xact')}`);
    expect(report.winner?.router).toBe('r9@docker');
    expect(report.request.receivedPath).toBe('/%65xact');
  });

  it('reports a redirect with its Location', async () => {
    const report = await explainQuery(`url=${encodeURIComponent('http://s.localhost/x')}`);
    expect(report.outcome).toBe('middleware-response');
    expect(report.response).toEqual({ status: 301, reason: 'redirect', location: 'https://s.localhost/x', middleware: 'tohttps@docker' });
  });
});

describe('urlParameter', () => {
  it('keeps a value with a slash as written', () => {
    expect(urlParameter('?url=http://h/a%2Fb&method=GET')).toBe('http://h/a%2Fb');
  });

  it('leaves an encoded value to query decoding', () => {
    expect(urlParameter(`?url=${encodeURIComponent('http://h/a')}`)).toBeUndefined();
  });

  it('takes the last url parameter in any case', () => {
    expect(urlParameter('?url=http://h/one&URL=http://h/two')).toBe('http://h/two');
  });
});

// Before, `?url=javascript:alert(1)` explained host `javascript`, and the X-Forwarded-Proto of an
// untrusted caller passed a redirectScheme that the entry point would have answered with 301.
describe('explain API request checks', () => {
  for (const url of ['javascript:alert(1)', 'mailto:a@s.localhost', 'http:s.localhost/x']) {
    it(`responds 400 for ${url}`, async () => {
      const response = await fetch(`${apiUrl}/api/explain?${new URLSearchParams({ url }).toString()}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toContain(`the URL "${url}"`);
    });
  }

  it('removes X-Forwarded-Proto of an untrusted client', async () => {
    const report = await explainQuery(new URLSearchParams({ url: 'http://s.localhost/', header: 'X-Forwarded-Proto: https' }).toString());
    expect(report.response?.status).toBe(301);
    expect(report.request.removedHeaders).toEqual(['x-forwarded-proto']);
  });

  it('keeps X-Forwarded-Proto of a trusted client', async () => {
    const report = await explainQuery(new URLSearchParams({ url: 'http://s.localhost/', header: 'X-Forwarded-Proto: https', clientip: '10.9.9.9' }).toString());
    expect(report.outcome).toBe('routed');
  });

  it('reports 400 for a lower-case method', async () => {
    const report = await explainQuery(new URLSearchParams({ url: 'http://s.localhost/', method: 'get' }).toString());
    expect(report.request.method).toBe('get');
    expect(report.response?.status).toBe(400);
  });
});
