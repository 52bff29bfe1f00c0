// The redirect and path-rewriting middlewares on the real request path: a client, an in-process
// Berth and a server that records the request target and fields it receives.
import http from 'node:http';
import https from 'node:https';
import { once } from 'node:events';

import { afterEach, describe, expect, test } from 'vitest';

import { send, startServer, type RunningServer } from '../../proxy/harness.js';
import { LOOPBACK, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

interface Received {
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
}

/** Starts a server that records each request's target and fields and responds 200 `ok`. */
async function recordingServer(): Promise<{ server: RunningServer; received: Received[] }> {
  const received: Received[] = [];
  const server = await startServer((request, response) => {
    received.push({ url: request.url, headers: request.headers });
    response.end('ok');
  });
  running.push(server);
  return { server, received };
}

async function berthWith(server: RunningServer, middlewares: Parameters<typeof startInProcessBerth>[0]['middlewares'], trustProxies = false): Promise<InProcessBerth> {
  const berth = await startInProcessBerth({
    servers: [server.url.origin],
    middlewares,
    ...(trustProxies ? { entryPoint: { forwardedHeaders: { trustedIPs: ['127.0.0.1'], insecure: false } } } : {}),
  });
  running.push(berth);
  return berth;
}

async function getOverTls(port: number, path: string): Promise<number | undefined> {
  const request = https.get({ host: LOOPBACK, port, path, servername: 'app.example.test', headers: { host: 'app.example.test' }, rejectUnauthorized: false, agent: false });
  const [response] = (await once(request, 'response')) as [http.IncomingMessage];
  response.resume();
  await once(response, 'end');
  return response.statusCode;
}

describe('redirectScheme through Berth', () => {
  test('redirects http to https', async () => {
    const { server, received } = await recordingServer();
    const berth = await berthWith(server, { 'to-https': { type: 'redirectscheme', options: { scheme: 'https', permanent: 'true' } } });

    const get = await send(berth.port, { path: '/a%2Fb?x=1', headers: { host: `app.example.test:${berth.port}` } });
    const post = await send(berth.port, { method: 'POST', path: '/form', headers: { host: 'app.example.test' }, body: 'a=1' });
    const secured = await getOverTls(berth.port, '/secure');

    expect(get.status).toBe(301);
    expect(get.headers.location).toBe('https://app.example.test/a%2Fb?x=1');
    expect(post.status).toBe(308);
    expect(post.headers.location).toBe('https://app.example.test/form');
    expect(secured).toBe(200);
    expect(received.map((item) => item.url)).toEqual(['/secure']);
  });

  test('X-Forwarded-Proto counts from a trusted proxy only', async () => {
    const { server, received } = await recordingServer();
    const options = { scheme: 'https' };
    const untrusting = await berthWith(server, { 'to-https': { type: 'redirectscheme', options } });
    const trusting = await berthWith(server, { 'to-https': { type: 'redirectscheme', options } }, true);

    const claim = { host: 'app.example.test', 'x-forwarded-proto': 'https' };
    const fromClient = await send(untrusting.port, { path: '/p', headers: claim });
    const fromProxy = await send(trusting.port, { path: '/p', headers: claim });

    expect(fromClient.status).toBe(302);
    expect(fromClient.headers.location).toBe('https://app.example.test/p');
    expect(fromProxy.status).toBe(200);
    expect(received).toHaveLength(1);
  });
});

describe('redirectRegex through Berth', () => {
  test('redirects a matching URL', async () => {
    const { server, received } = await recordingServer();
    const berth = await berthWith(server, {
      moved: { type: 'redirectregex', options: { regex: '^http://app\\.example\\.test/old/(.*)', replacement: 'https://new.example.test/${1}' } },
    });

    const moved = await send(berth.port, { path: '/old/page?q=1', headers: { host: 'app.example.test' } });
    const unmatched = await send(berth.port, { path: '/current', headers: { host: 'app.example.test' } });

    expect(moved.status).toBe(302);
    expect(moved.headers.location).toBe('https://new.example.test/page?q=1');
    expect(moved.body).toBe('Found\n');
    expect(unmatched.status).toBe(200);
    expect(received.map((item) => item.url)).toEqual(['/current']);
  });

  test('invalid target gives 500', async () => {
    const { server, received } = await recordingServer();
    const berth = await berthWith(server, { broken: { type: 'redirectregex', options: { regex: '^http://([^/]*)/(.*)', replacement: 'https://$1/$2%zz' } } });

    const response = await send(berth.port, { path: '/x', headers: { host: 'app.example.test' } });

    expect(response.status).toBe(500);
    expect(response.headers.location).toBeUndefined();
    expect(response.body).toMatch(/the redirect target is not a valid URL \(invalid escape "%zz"\)/);
    expect(received).toHaveLength(0);
  });

  test('invalid regex disables the router', async () => {
    const { server, received } = await recordingServer();
    const berth = await berthWith(server, { broken: { type: 'redirectregex', options: { regex: '(a', replacement: '/x' } } });

    const response = await send(berth.port, { path: '/x', headers: { host: 'app.example.test' } });

    expect(response.status).toBe(404);
    expect(received).toHaveLength(0);
  });
});

describe('path rewriting through Berth', () => {
  test('replacePathRegex keeps %2F and the query', async () => {
    const { server, received } = await recordingServer();
    const berth = await berthWith(server, { v2: { type: 'replacepathregex', options: { regex: '^/api/(.*)', replacement: '/v2/$1' } } });

    const response = await send(berth.port, { path: '/api/files/a%2Fb.txt?download=1', headers: { host: 'app.example.test' } });

    expect(response.status).toBe(200);
    expect(received[0]?.url).toBe('/v2/files/a%2Fb.txt?download=1');
    expect(received[0]?.headers['x-replaced-path']).toBe('/api/files/a%2Fb.txt');
  });

  test('replacePath replaces the whole path', async () => {
    const { server, received } = await recordingServer();
    const berth = await berthWith(server, { fixed: { type: 'replacepath', options: { path: '/health' } } });

    await send(berth.port, { path: '/anything/here?x', headers: { host: 'app.example.test', 'x-replaced-path': '/from-client' } });

    expect(received[0]?.url).toBe('/health?x');
    expect(received[0]?.headers['x-replaced-path']).toBe('/from-client, /anything/here');
  });

  // Before the fix, prefix=/a b and prefix=/€ were sent unescaped and every request got 502.
  test('addPrefix escapes the prefix', async () => {
    const { server, received } = await recordingServer();
    const spaced = await berthWith(server, { prefix: { type: 'addprefix', options: { prefix: '/a b' } } });
    const euro = await berthWith(server, { prefix: { type: 'addprefix', options: { prefix: '/€' } } });

    const spacedResponse = await send(spaced.port, { path: '/x?q=1', headers: { host: 'app.example.test' } });
    const euroResponse = await send(euro.port, { path: '/x', headers: { host: 'app.example.test' } });

    expect(spacedResponse.status).toBe(200);
    expect(euroResponse.status).toBe(200);
    expect(received.map((item) => item.url)).toEqual(['/a%20b/x?q=1', '/%E2%82%AC/x']);
  });

  test('addPrefix with invalid escape disables the router', async () => {
    const { server, received } = await recordingServer();
    const berth = await berthWith(server, { prefix: { type: 'addprefix', options: { prefix: '/a%zz' } } });

    const response = await send(berth.port, { path: '/x', headers: { host: 'app.example.test' } });

    expect(response.status).toBe(404);
    expect(received).toHaveLength(0);
  });

  test('stripPrefixRegex removes the prefix', async () => {
    const { server, received } = await recordingServer();
    const berth = await berthWith(server, { strip: { type: 'stripprefixregex', options: { regex: ['/tenant/[a-z]+'] } } });

    await send(berth.port, { path: '/tenant/acme/a%2Fb?q', headers: { host: 'app.example.test', 'x-forwarded-prefix': '/spoofed' } });

    expect(received[0]?.url).toBe('/a%2Fb?q');
    // The entry point removed the client's X-Forwarded-Prefix, since the client is not a trusted proxy.
    expect(received[0]?.headers['x-forwarded-prefix']).toBe('/tenant/acme');
  });
});
