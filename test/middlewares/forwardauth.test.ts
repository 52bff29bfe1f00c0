// The forwardauth middleware against a real loopback authentication server.
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { Socket, type AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { createForwardAuth, forwardAuthSettings } from '../../src/middlewares/forwardauth.js';
import type { RequestContext } from '../../src/middlewares/types.js';
import { closedPort } from '../proxy/harness.js';

const servers: http.Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map(async (server) => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }));
});

async function listen(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Setup {
  url: string;
  /** Headers of each request the authentication server received. */
  authSeen: IncomingHttpHeaders[];
  /** Headers of each request that passed the middleware. */
  passed: IncomingHttpHeaders[];
  errors: unknown[];
}

/**
 * Starts an authentication server whose requests go to `respond`, and a server that runs the
 * middleware and responds 200 "app" when the request passes.
 */
async function setUp(options: Record<string, unknown>, respond: (request: IncomingMessage, response: ServerResponse) => void, appHeaders: string[] = []): Promise<Setup> {
  const authSeen: IncomingHttpHeaders[] = [];
  const authUrl = await listen((request, response) => {
    authSeen.push(request.headers);
    respond(request, response);
  });
  const middleware = createForwardAuth({ address: `${authUrl}/verify`, ...options });

  const passed: IncomingHttpHeaders[] = [];
  const errors: unknown[] = [];
  const url = await listen((request, response) => {
    const context: RequestContext = {
      request,
      response,
      facts: { host: 'app.example.test', path: request.url ?? '/', rawQuery: '', method: request.method ?? 'GET', headers: request.headers, clientIp: '127.0.0.1' },
      entryPoint: 'web',
      scheme: 'http',
    };
    middleware(context, async () => {
      passed.push({ ...request.headers });
      response.writeHead(200, ['Content-Type', 'text/plain', ...appHeaders]);
      response.end('app');
    }).catch((error: unknown) => {
      errors.push(error);
      response.writeHead(500);
      response.end();
    });
  });
  return { url, authSeen, passed, errors };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

async function get(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  const response = await fetchRaw(url, headers);
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString() };
}

async function fetchRaw(url: string, headers: http.OutgoingHttpHeaders): Promise<IncomingMessage> {
  const request = http.request(url, { headers, agent: false });
  request.end();
  const [response] = (await once(request, 'response')) as [IncomingMessage];
  return response;
}

const allow = (headers: string[] = []) => (_request: IncomingMessage, response: ServerResponse) => {
  response.writeHead(200, headers);
  response.end();
};

describe('forwardauth options', () => {
  it('requires address', () => {
    expect(() => forwardAuthSettings({})).toThrow(/address is missing/);
  });

  it('rejects a non-http address', () => {
    expect(() => forwardAuthSettings({ address: 'ftp://127.0.0.1/' })).toThrow(/scheme must be http or https/);
  });

  it('rejects a bad regex', () => {
    expect(() => forwardAuthSettings({ address: 'http://127.0.0.1/', authResponseHeadersRegex: '(' })).toThrow(/authResponseHeadersRegex/);
  });

  it('rejects unsupported tls', () => {
    expect(() => forwardAuthSettings({ address: 'http://127.0.0.1/', tls: { insecureSkipVerify: true } })).toThrow(/"tls" is not supported/);
  });

  it('reads string booleans', () => {
    expect(forwardAuthSettings({ address: 'http://127.0.0.1/', trustForwardHeader: 'true' }).trustForwardHeader).toBe(true);
  });
});

describe('forwardauth', () => {
  it('passes on 2xx with copied headers', async () => {
    const setup = await setUp({ authResponseHeaders: ['X-Auth-User'] }, allow(['X-Auth-User', 'alice', 'X-Other', 'no']));
    const reply = await get(`${setup.url}/p?q=1`, { 'x-auth-user': 'mallory' });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('app');
    expect(setup.passed[0]?.['x-auth-user']).toBe('alice');
    expect(setup.passed[0]?.['x-other']).toBeUndefined();
  });

  it('removes a client value the answer lacks', async () => {
    const setup = await setUp({ authResponseHeaders: 'X-Auth-User' }, allow());
    await get(setup.url, { 'x-auth-user': 'mallory' });
    expect(setup.passed[0]?.['x-auth-user']).toBeUndefined();
  });

  it('copies headers matching the regex', async () => {
    const setup = await setUp({ authResponseHeadersRegex: '^X-Auth-' }, allow(['X-Auth-User', 'alice', 'X-Auth-Role', 'admin', 'X-Other', 'no']));
    await get(setup.url, { 'x-auth-group': 'spoofed' });
    expect(setup.passed[0]?.['x-auth-user']).toBe('alice');
    expect(setup.passed[0]?.['x-auth-role']).toBe('admin');
    expect(setup.passed[0]?.['x-auth-group']).toBeUndefined();
    expect(setup.passed[0]?.['x-other']).toBeUndefined();
  });

  it('sends forwarded fields', async () => {
    const setup = await setUp({}, allow());
    await get(`${setup.url}/p?q=1`, { host: 'app.example.test', 'x-forwarded-for': '1.1.1.1', 'x-forwarded-proto': 'https', cookie: 'a=b' });
    const seen = setup.authSeen[0];
    expect(seen?.['x-forwarded-method']).toBe('GET');
    expect(seen?.['x-forwarded-proto']).toBe('http');
    expect(seen?.['x-forwarded-host']).toBe('app.example.test');
    expect(seen?.['x-forwarded-uri']).toBe('/p?q=1');
    expect(seen?.['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen?.cookie).toBe('a=b');
    expect(seen?.host).not.toBe('app.example.test');
  });

  it('keeps forwarded fields when trusted', async () => {
    const setup = await setUp({ trustForwardHeader: true }, allow());
    await get(setup.url, { 'x-forwarded-for': '1.1.1.1', 'x-forwarded-proto': 'https', 'x-forwarded-uri': '/orig' });
    const seen = setup.authSeen[0];
    expect(seen?.['x-forwarded-for']).toBe('1.1.1.1, 127.0.0.1');
    expect(seen?.['x-forwarded-proto']).toBe('https');
    expect(seen?.['x-forwarded-uri']).toBe('/orig');
  });

  it('sends only authRequestHeaders', async () => {
    const setup = await setUp({ authRequestHeaders: ['Authorization'] }, allow());
    await get(setup.url, { authorization: 'Bearer t', cookie: 'a=b' });
    expect(setup.authSeen[0]?.authorization).toBe('Bearer t');
    expect(setup.authSeen[0]?.cookie).toBeUndefined();
    expect(setup.authSeen[0]?.['x-forwarded-method']).toBe('GET');
  });

  it('returns a rejection as is', async () => {
    const setup = await setUp({}, (_request, response) => {
      response.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain', 'x-reason': 'expired' });
      response.end('denied');
    });
    const reply = await get(setup.url);
    expect(reply.status).toBe(401);
    expect(reply.body).toBe('denied');
    expect(reply.headers['www-authenticate']).toBe('Bearer');
    expect(reply.headers['x-reason']).toBe('expired');
    expect(setup.passed).toHaveLength(0);
  });

  it('resolves a relative redirect', async () => {
    const setup = await setUp({}, (_request, response) => {
      response.writeHead(302, { location: '/login' });
      response.end();
    });
    const reply = await get(setup.url);
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login$/);
  });

  it('preserves a relative redirect', async () => {
    const setup = await setUp({ preserveLocationHeader: true }, (_request, response) => {
      response.writeHead(302, { location: '/login' });
      response.end();
    });
    const reply = await get(setup.url);
    expect(reply.headers.location).toBe('/login');
  });

  it('adds chosen auth cookies', async () => {
    const setup = await setUp(
      { addAuthCookiesToResponse: ['session'] },
      allow(['Set-Cookie', 'session=new; Path=/', 'Set-Cookie', 'other=x']),
      ['Set-Cookie', 'session=old', 'Set-Cookie', 'app=1'],
    );
    const reply = await get(setup.url);
    expect(reply.headers['set-cookie']).toEqual(['app=1', 'session=new; Path=/']);
  });

  it('throws when the server is unreachable', async () => {
    const port = await closedPort();
    const setup = await setUp({}, allow());
    const middleware = createForwardAuth({ address: `http://127.0.0.1:${port}/verify` });
    const request = new http.IncomingMessage(new Socket());
    request.url = '/';
    request.method = 'GET';
    const context: RequestContext = {
      request,
      response: new http.ServerResponse(request),
      facts: { host: 'h', path: '/', rawQuery: '', method: 'GET', headers: {}, clientIp: '127.0.0.1' },
      entryPoint: 'web',
      scheme: 'http',
    };
    await expect(middleware(context, async () => {})).rejects.toThrow(/forwardauth request to http:\/\/127\.0\.0\.1:\d+\/verify failed/);
    expect(setup.passed).toHaveLength(0);
  });
});
