// The API shows server URLs without their password: in service lists and items, raw data, explain
// reports and the messages of invalid servers. A real HTTP server on loopback serves the API.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiHandler } from '../../src/api/server.js';
import type { ServiceJson } from '../../src/api/views.js';
import type { ExplainReport } from '../../src/routing/explain.js';
import { runtimeOf } from '../routing/helpers.js';

const PASSWORD = 'SvcPass777';
const SECRET_URL = `http://svcuser:${PASSWORD}@127.0.0.1:19040/`;
const SHOWN_URL = 'http://<redacted>@127.0.0.1:19040/';

let server: Server;
let apiUrl = '';

beforeAll(async () => {
  const runtime = runtimeOf({
    routers: { su: { rule: 'Host(`r.test`)' }, bad: { rule: 'Host(`bad.test`)' } },
    services: { su: [SECRET_URL], bad: [`ftp://svcuser:${PASSWORD}@127.0.0.1:19041/`] },
  });
  server = createServer(createApiHandler({ api: true, ping: true, runtime: () => runtime, providers: () => ({}), startedAt: new Date() }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** Fetches `path` from the API and returns the status and the body as text. */
async function get(path: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${apiUrl}${path}`);
  return { status: response.status, text: await response.text() };
}

describe('server URL in the API', () => {
  it('redacts the service item', async () => {
    const { status, text } = await get('/api/http/services/su@docker');
    const service = JSON.parse(text) as ServiceJson;

    expect(status).toBe(200);
    expect(service.loadBalancer.servers).toEqual([{ url: SHOWN_URL }]);
    expect(Object.keys(service.serverStatus)).toEqual([SHOWN_URL]);
    expect(service.serverStatus[SHOWN_URL]).toBe('UP');
    expect(text).not.toContain(PASSWORD);
  });

  it('redacts the service list', async () => {
    const { status, text } = await get('/api/http/services');

    expect(status).toBe(200);
    expect(text).toContain(SHOWN_URL);
    expect(text).not.toContain(PASSWORD);
  });

  it('redacts the error of an invalid server', async () => {
    const { text } = await get('/api/http/services/bad@docker');
    const service = JSON.parse(text) as ServiceJson;

    expect(service.error?.join('\n')).toContain('server URL "ftp://<redacted>@127.0.0.1:19041/" has an unsupported scheme');
    expect(text).not.toContain(PASSWORD);
  });

  it('redacts raw data', async () => {
    const { status, text } = await get('/api/rawdata');

    expect(status).toBe(200);
    expect(text).toContain(SHOWN_URL);
    expect(text).not.toContain(PASSWORD);
  });

  it('redacts the explain report', async () => {
    const { status, text } = await get(`/api/explain?url=${encodeURIComponent('http://r.test/')}`);
    const report = JSON.parse(text) as ExplainReport;

    expect(status).toBe(200);
    expect(report.winner?.service.next).toBe(SHOWN_URL);
    expect(report.winner?.service.servers.map((item) => item.url)).toEqual([SHOWN_URL]);
    expect(text).not.toContain(PASSWORD);
  });
});
