// Middlewares on the real request path: compress in front of an event stream, a JSON body and short streams,
// forwardauth with headers when the client names their fields in Connection, and the CORS and
// security options of headers.
import http from 'node:http';
import https from 'node:https';
import { once } from 'node:events';
import zlib from 'node:zlib';

import { afterEach, describe, expect, test } from 'vitest';

import { rawValues, send, startServer, type RunningServer } from '../../proxy/harness.js';
import { connectHttp2, LOOPBACK, requestHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';

const running: Array<RunningServer | InProcessBerth> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.close()));
});

const EVENT_COUNT = 3;
const EVENT_INTERVAL_MS = 1_000;
const JSON_BODY = JSON.stringify({ items: Array.from({ length: 350 }, (_, i) => ({ id: i, label: `entry ${i}` })) });

/** Starts a server with an event stream at `/events` (one event a second) and a JSON body elsewhere. */
async function compressTarget(): Promise<{ server: RunningServer; sentAt: number[] }> {
  const sentAt: number[] = [];
  const server = await startServer((request, response) => {
    if (request.url !== '/events') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON_BODY);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let count = 0;
    const timer = setInterval(() => {
      count += 1;
      sentAt.push(performance.now());
      response.write(`data: tick ${count}\n\n`);
      if (count === EVENT_COUNT) {
        clearInterval(timer);
        response.end();
      }
    }, EVENT_INTERVAL_MS);
    response.on('close', () => clearInterval(timer));
  });
  running.push(server);
  return { server, sentAt };
}

describe('compress through Berth', () => {
  test('event stream stays uncompressed and live', async () => {
    const { server, sentAt } = await compressTarget();
    const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { squeeze: { type: 'compress', options: {} } } });
    running.push(berth);

    const started = performance.now();
    const request = http.get({ host: LOOPBACK, port: berth.port, path: '/events', headers: { host: 'app.example.test', 'accept-encoding': 'gzip, br' }, agent: false });
    const [response] = (await once(request, 'response')) as [http.IncomingMessage];
    const receivedAt: number[] = [];
    response.setEncoding('utf8');
    for await (const chunk of response) {
      for (const _event of String(chunk).split('\n\n').filter((part) => part.startsWith('data:'))) receivedAt.push(performance.now());
    }

    expect(response.headers['content-encoding']).toBeUndefined();
    expect(receivedAt).toHaveLength(EVENT_COUNT);
    expect((receivedAt[0] ?? Infinity) - started).toBeLessThan(1_500);
    // Each event reaches the client soon after the server wrote it, not at the end of the stream.
    receivedAt.forEach((at, index) => {
      expect(at - (sentAt[index] ?? 0)).toBeLessThan(300);
    });
  });

  test('JSON body compressed with Vary', async () => {
    const { server } = await compressTarget();
    const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { squeeze: { type: 'compress', options: {} } } });
    running.push(berth);
    expect(Buffer.byteLength(JSON_BODY)).toBeGreaterThan(10_000);

    const request = http.get({ host: LOOPBACK, port: berth.port, path: '/data.json', headers: { host: 'app.example.test', 'accept-encoding': 'gzip, br' }, agent: false });
    const [response] = (await once(request, 'response')) as [http.IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-encoding']).toBe('br');
    expect(response.headers.vary).toBe('Accept-Encoding');
    expect(response.headers['content-length']).toBeUndefined();
    expect(body.length).toBeLessThan(Buffer.byteLength(JSON_BODY));
    expect(zlib.brotliDecompressSync(body).toString('utf8')).toBe(JSON_BODY);
  });
});

/** Pause of the NDJSON server after its first line, in ms: far longer than compress keeps a short body back. */
const LINE_GAP_MS = 1_000;

/** Starts a server that streams two short NDJSON lines LINE_GAP_MS apart, without Content-Length. */
async function ndjsonTarget(): Promise<RunningServer> {
  const server = await startServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    response.write('{"n":0}\n');
    const timer = setTimeout(() => response.end('{"n":1}\n'), LINE_GAP_MS);
    response.on('close', () => clearTimeout(timer));
  });
  running.push(server);
  return server;
}

describe('compress short streams', () => {
  // Before the fix, compress held a stream under minResponseBodyBytes, status line included, until
  // 1024 bytes had arrived or the response ended.
  test('NDJSON stream flows compressed', async () => {
    const server = await ndjsonTarget();
    const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { squeeze: { type: 'compress', options: {} } } });
    running.push(berth);

    const started = performance.now();
    const request = http.get({ host: LOOPBACK, port: berth.port, path: '/stream', headers: { host: 'app.example.test', 'accept-encoding': 'gzip' }, agent: false });
    const [response] = (await once(request, 'response')) as [http.IncomingMessage];
    const headerMs = performance.now() - started;
    const chunks: Buffer[] = [];
    let firstLineMs = Infinity;
    for await (const chunk of response) {
      chunks.push(chunk as Buffer);
      // A sync flush ends each part at a byte boundary, so the bytes received so far decode on their own.
      const text = zlib.gunzipSync(Buffer.concat(chunks), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('utf8');
      if (firstLineMs === Infinity && text.startsWith('{"n":0}\n')) firstLineMs = performance.now() - started;
    }

    expect(response.headers['content-encoding']).toBe('gzip');
    expect(headerMs).toBeLessThan(LINE_GAP_MS / 2);
    expect(firstLineMs).toBeLessThan(LINE_GAP_MS / 2);
    expect(zlib.gunzipSync(Buffer.concat(chunks)).toString('utf8')).toBe('{"n":0}\n{"n":1}\n');
  });

  test('short body that ends stays uncompressed', async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.write('{"n":0}\n');
      response.end('{"n":1}\n');
    });
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url.origin], middlewares: { squeeze: { type: 'compress', options: {} } } });
    running.push(berth);

    const response = await send(berth.port, { path: '/short', headers: { host: 'app.example.test', 'accept-encoding': 'gzip' } });

    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.body).toBe('{"n":0}\n{"n":1}\n');
  });
});

describe('forwardauth through Berth', () => {
  test('Connection cannot strip middleware headers', async () => {
    const auth = await startServer((_request, response) => {
      response.writeHead(200, { 'x-auth-user': 'alice' });
      response.end();
    });
    running.push(auth);
    const seen: string[][] = [];
    const server = await startServer((request, response) => {
      seen.push(request.rawHeaders);
      response.end('ok');
    });
    running.push(server);
    const berth = await startInProcessBerth({
      servers: [server.url.origin],
      middlewares: {
        auth: { type: 'forwardauth', options: { address: `${auth.url.origin}/verify`, authResponseHeaders: ['X-Auth-User'] } },
        proxy: { type: 'headers', options: { customrequestheaders: { 'X-From-Proxy': 'berth' } } },
      },
    });
    running.push(berth);

    const response = await send(berth.port, {
      headers: {
        host: 'app.example.test',
        connection: 'keep-alive, X-Auth-User, X-From-Proxy, X-Forwarded-For',
        'keep-alive': 'timeout=5',
        'x-auth-user': 'mallory',
        'x-from-proxy': 'client',
      },
    });

    expect(response.status).toBe(200);
    const raw = seen[0] ?? [];
    expect(rawValues(raw, 'x-auth-user')).toEqual(['alice']);
    expect(rawValues(raw, 'x-from-proxy')).toEqual(['berth']);
    expect(rawValues(raw, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(rawValues(raw, 'keep-alive')).toEqual([]);
  });

  test('rejection reaches the client', async () => {
    const auth = await startServer((_request, response) => {
      response.writeHead(403, { 'content-type': 'text/plain' });
      response.end('forbidden by auth');
    });
    running.push(auth);
    let reached = 0;
    const server = await startServer((_request, response) => {
      reached += 1;
      response.end('ok');
    });
    running.push(server);
    const berth = await startInProcessBerth({
      servers: [server.url.origin],
      middlewares: { auth: { type: 'forwardauth', options: { address: `${auth.url.origin}/verify` } } },
    });
    running.push(berth);

    const response = await send(berth.port, { headers: { host: 'app.example.test' } });

    expect(response.status).toBe(403);
    expect(response.body).toBe('forbidden by auth');
    expect(reached).toBe(0);
  });
});

describe('headers through Berth', () => {
  const ORIGIN = 'https://app.example.test';

  /** Starts a server that records each request method and sends its own Vary and X-Frame-Options. */
  async function countingServer(): Promise<{ server: RunningServer; methods: string[] }> {
    const methods: string[] = [];
    const server = await startServer((request, response) => {
      methods.push(request.method ?? '');
      response.writeHead(200, { 'content-type': 'text/plain', vary: 'Accept-Encoding', 'x-frame-options': 'ALLOWALL' });
      response.end('from server');
    });
    running.push(server);
    return { server, methods };
  }

  test('CORS preflight never reaches the server', async () => {
    const { server, methods } = await countingServer();
    const berth = await startInProcessBerth({
      servers: [server.url.origin],
      middlewares: {
        cors: {
          type: 'headers',
          options: { accessControlAllowMethods: ['GET', 'PUT'], accessControlAllowOriginList: [ORIGIN], accessControlMaxAge: 100, addVaryHeader: true },
        },
      },
    });
    running.push(berth);

    const preflight = await send(berth.port, {
      method: 'OPTIONS',
      path: '/items/1',
      headers: { host: 'api.example.test', origin: ORIGIN, 'access-control-request-method': 'PUT' },
    });
    const actual = await send(berth.port, { method: 'PUT', path: '/items/1', headers: { host: 'api.example.test', origin: ORIGIN } });

    expect(preflight.status).toBe(200);
    expect(preflight.body).toBe('');
    expect(preflight.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(preflight.headers['access-control-allow-methods']).toBe('GET,PUT');
    expect(preflight.headers['access-control-max-age']).toBe('100');
    expect(actual.status).toBe(200);
    expect(actual.body).toBe('from server');
    expect(actual.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(actual.headers.vary).toBe('Accept-Encoding,Origin');
    expect(methods).toEqual(['PUT']);
  });

  test('CORS preflight over HTTP/2', async () => {
    const { server, methods } = await countingServer();
    const berth = await startInProcessBerth({
      servers: [server.url.origin],
      middlewares: { cors: { type: 'headers', options: { accessControlAllowOriginListRegex: ['^https://[a-z]+\\.example\\.test$'], accessControlAllowCredentials: true } } },
    });
    running.push(berth);
    const session = await connectHttp2(berth.port);

    try {
      const preflight = await requestHttp2(session, { ':method': 'OPTIONS', ':path': '/', origin: ORIGIN, 'access-control-request-method': 'DELETE' });

      expect(preflight.status).toBe(200);
      expect(preflight.body).toBe('');
      expect(preflight.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(preflight.headers['access-control-allow-credentials']).toBe('true');
      expect(methods).toEqual([]);
    } finally {
      session.close();
    }
  });

  test('HSTS only on the TLS router', async () => {
    const { server } = await countingServer();
    const berth = await startInProcessBerth({
      servers: [server.url.origin],
      middlewares: { secure: { type: 'headers', options: { stsSeconds: 31536000, stsIncludeSubdomains: true, frameDeny: true } } },
    });
    running.push(berth);

    const plain = await send(berth.port, { headers: { host: 'app.example.test' } });
    const request = https.get({ host: LOOPBACK, port: berth.port, servername: 'app.example.test', headers: { host: 'app.example.test' }, rejectUnauthorized: false, agent: false });
    const [secured] = (await once(request, 'response')) as [http.IncomingMessage];
    secured.resume();
    await once(secured, 'end');

    expect(plain.status).toBe(200);
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    expect(plain.headers['x-frame-options']).toBe('DENY');
    expect(secured.statusCode).toBe(200);
    expect(secured.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(secured.headers['x-frame-options']).toBe('DENY');
  });

  test('sslProxyHeaders trusts only trusted proxies', async () => {
    const { server } = await countingServer();
    const options = { stsSeconds: 60, sslProxyHeaders: { 'X-Forwarded-Proto': 'https' } };
    const untrusting = await startInProcessBerth({ servers: [server.url.origin], middlewares: { secure: { type: 'headers', options } } });
    running.push(untrusting);
    const trusting = await startInProcessBerth({
      servers: [server.url.origin],
      middlewares: { secure: { type: 'headers', options } },
      entryPoint: { forwardedHeaders: { trustedIPs: ['127.0.0.1'], insecure: false } },
    });
    running.push(trusting);

    const claim = { host: 'app.example.test', 'x-forwarded-proto': 'https' };
    const fromClient = await send(untrusting.port, { headers: claim });
    const fromProxy = await send(trusting.port, { headers: claim });

    expect(fromClient.status).toBe(200);
    expect(fromClient.headers['strict-transport-security']).toBeUndefined();
    expect(fromProxy.status).toBe(200);
    expect(fromProxy.headers['strict-transport-security']).toBe('max-age=60');
  });

  test('allowedHosts rejects another host', async () => {
    const { server, methods } = await countingServer();
    const berth = await startInProcessBerth({
      servers: [server.url.origin],
      middlewares: { hosts: { type: 'headers', options: { allowedHosts: ['app.example.test'] } } },
    });
    running.push(berth);

    const allowed = await send(berth.port, { headers: { host: 'app.example.test' } });
    const rejected = await send(berth.port, { headers: { host: 'evil.example.test' } });

    expect(allowed.status).toBe(200);
    expect(rejected.status).toBe(500);
    expect(rejected.body).toBe('Bad Host\n');
    expect(methods).toEqual(['GET']);
  });
});
