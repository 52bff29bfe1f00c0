// The compress middleware on a real loopback server: the handler writes its header as a flat list
// and then the body, as the forwarder does.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

import { afterEach, describe, expect, it } from 'vitest';

import { compressSettings, createCompress, negotiateEncoding } from '../../src/middlewares/compress.js';
import type { RequestContext } from '../../src/middlewares/types.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

const servers: http.Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map(async (server) => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }));
});

/** Starts a server whose requests pass the compress middleware and then `handler`. */
async function serve(options: Record<string, unknown>, handler: Handler): Promise<number> {
  const middleware = createCompress(options);
  const server = http.createServer((request, response) => {
    const context: RequestContext = {
      request,
      response,
      facts: { host: 'w.example.test', path: request.url ?? '/', rawQuery: '', method: request.method ?? 'GET', headers: request.headers, clientIp: '127.0.0.1' },
      entryPoint: 'web',
      scheme: 'http',
    };
    void middleware(context, async () => handler(request, response));
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

async function get(port: number, headers: http.OutgoingHttpHeaders, method = 'GET'): Promise<Reply> {
  const request = http.request({ host: '127.0.0.1', port, method, headers, agent: false });
  request.end();
  const [response] = (await once(request, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) };
}

const BIG = JSON.stringify({ items: Array.from({ length: 400 }, (_, i) => ({ id: i, name: `item ${i}` })) });

function sendJson(body: string, extra: string[] = []): Handler {
  return (_request, response) => {
    response.writeHead(200, ['Content-Type', 'application/json', ...extra]);
    response.end(body);
  };
}

describe('negotiateEncoding', () => {
  const settings = compressSettings({});

  const cases: Array<[string | undefined, string | undefined]> = [
    ['gzip, br', 'br'],
    ['gzip', 'gzip'],
    ['gzip;q=1, br;q=0.5', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['*', 'br'],
    ['*;q=0', undefined],
    ['deflate', undefined],
    ['', undefined],
    [undefined, undefined],
    ['gzip;q=0.5, identity', undefined],
    ['GZIP', 'gzip'],
    ['gzip;q=2', undefined],
  ];
  for (const [header, expected] of cases) {
    it(`picks ${String(expected)} for ${JSON.stringify(header)}`, () => {
      expect(negotiateEncoding(header, settings)).toBe(expected);
    });
  }

  it('follows the encodings order on ties', () => {
    expect(negotiateEncoding('br, gzip', compressSettings({ encodings: 'gzip,br' }))).toBe('gzip');
  });

  it('uses defaultEncoding without Accept-Encoding', () => {
    expect(negotiateEncoding(undefined, compressSettings({ defaultEncoding: 'gzip' }))).toBe('gzip');
  });

  it('uses defaultEncoding for a wildcard', () => {
    expect(negotiateEncoding('*', compressSettings({ defaultEncoding: 'gzip' }))).toBe('gzip');
  });
});

describe('compress options', () => {
  it('rejects zstd', () => {
    expect(() => compressSettings({ encodings: ['zstd', 'gzip'] })).toThrow(/"zstd" is not supported/);
  });

  it('rejects a negative minimum', () => {
    expect(() => compressSettings({ minResponseBodyBytes: -1 })).toThrow(/minResponseBodyBytes/);
  });

  it('rejects included and excluded together', () => {
    expect(() => compressSettings({ excludedContentTypes: 'text/html', includedContentTypes: 'text/plain' })).toThrow(/cannot both be set/);
  });

  it('reads a string minimum', () => {
    expect(compressSettings({ minResponseBodyBytes: '10' }).minResponseBodyBytes).toBe(10);
  });
});

describe('compress', () => {
  it('compresses gzip with Vary', async () => {
    const port = await serve({}, sendJson(BIG, ['Content-Length', String(Buffer.byteLength(BIG)), 'ETag', '"abc"']));
    const reply = await get(port, { 'accept-encoding': 'gzip' });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.headers.vary).toBe('Accept-Encoding');
    expect(reply.headers['content-length']).toBeUndefined();
    expect(reply.headers.etag).toBe('W/"abc"');
    expect(zlib.gunzipSync(reply.body).toString()).toBe(BIG);
  });

  it('compresses br with unknown length', async () => {
    const port = await serve({}, (_request, response) => {
      response.writeHead(200, ['Content-Type', 'application/json']);
      response.write(BIG.slice(0, 100));
      response.write(BIG.slice(100, 2000));
      response.end(BIG.slice(2000));
    });
    const reply = await get(port, { 'accept-encoding': 'gzip, br' });
    expect(reply.headers['content-encoding']).toBe('br');
    expect(zlib.brotliDecompressSync(reply.body).toString()).toBe(BIG);
  });

  it('leaves a short body alone', async () => {
    const port = await serve({}, sendJson('{"ok":true}'));
    const reply = await get(port, { 'accept-encoding': 'gzip' });
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.headers.vary).toBe('Accept-Encoding');
    expect(reply.body.toString()).toBe('{"ok":true}');
  });

  it('honors minResponseBodyBytes', async () => {
    const port = await serve({ minResponseBodyBytes: 5 }, sendJson('{"ok":true}'));
    const reply = await get(port, { 'accept-encoding': 'gzip' });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(reply.body).toString()).toBe('{"ok":true}');
  });

  it('skips clients without Accept-Encoding', async () => {
    const port = await serve({}, sendJson(BIG));
    const reply = await get(port, {});
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.body.toString()).toBe(BIG);
  });

  it('skips an encoded response', async () => {
    const encoded = zlib.gzipSync(BIG);
    const port = await serve({}, (_request, response) => {
      response.writeHead(200, ['Content-Type', 'application/json', 'Content-Encoding', 'gzip']);
      response.end(encoded);
    });
    const reply = await get(port, { 'accept-encoding': 'br' });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.body.equals(encoded)).toBe(true);
  });

  it('skips a partial response', async () => {
    const port = await serve({}, sendJson(BIG, ['Content-Range', `bytes 0-${BIG.length - 1}/${BIG.length}`]));
    const reply = await get(port, { 'accept-encoding': 'gzip' });
    expect(reply.headers['content-encoding']).toBeUndefined();
  });

  it('skips HEAD', async () => {
    const port = await serve({}, sendJson(BIG));
    const reply = await get(port, { 'accept-encoding': 'gzip' }, 'HEAD');
    expect(reply.headers['content-encoding']).toBeUndefined();
  });

  // A HEAD response used to lack the Vary that the GET response carries.
  it('adds Vary to HEAD as to GET', async () => {
    const port = await serve({}, sendJson(BIG));
    const head = await get(port, { 'accept-encoding': 'gzip' }, 'HEAD');
    const full = await get(port, { 'accept-encoding': 'gzip' });
    expect(head.headers.vary).toBe('Accept-Encoding');
    expect(head.headers.vary).toBe(full.headers.vary);
  });

  it('leaves Vary off an excluded HEAD', async () => {
    const port = await serve({}, sendJson(BIG, ['Cache-Control', 'no-transform']));
    const reply = await get(port, { 'accept-encoding': 'gzip' }, 'HEAD');
    expect(reply.headers.vary).toBeUndefined();
  });

  it('skips 204', async () => {
    const port = await serve({}, (_request, response) => {
      response.writeHead(204, ['X-Test', '1']);
      response.end();
    });
    const reply = await get(port, { 'accept-encoding': 'gzip' });
    expect(reply.status).toBe(204);
    expect(reply.headers['content-encoding']).toBeUndefined();
  });

  it('skips excluded types', async () => {
    const port = await serve({ excludedContentTypes: ['application/json'] }, sendJson(BIG));
    const reply = await get(port, { 'accept-encoding': 'gzip' });
    expect(reply.headers['content-encoding']).toBeUndefined();
  });

  it('skips types not included', async () => {
    const port = await serve({ includedContentTypes: 'text/html' }, sendJson(BIG));
    const reply = await get(port, { 'accept-encoding': 'gzip' });
    expect(reply.headers['content-encoding']).toBeUndefined();
  });

  it('compresses included types', async () => {
    const port = await serve({ includedContentTypes: 'application/json' }, sendJson(BIG, ['Content-Type', 'application/json; charset=utf-8']));
    const reply = await get(port, { 'accept-encoding': 'gzip' });
    expect(reply.headers['content-encoding']).toBe('gzip');
  });

  it('respects no-transform', async () => {
    const port = await serve({}, sendJson(BIG, ['Cache-Control', 'public, no-transform']));
    const reply = await get(port, { 'accept-encoding': 'gzip' });
    expect(reply.headers['content-encoding']).toBeUndefined();
  });

  it('keeps an existing Vary', async () => {
    const port = await serve({}, sendJson(BIG, ['Vary', 'Origin']));
    const reply = await get(port, { 'accept-encoding': 'gzip' });
    expect(reply.headers.vary).toBe('Origin, Accept-Encoding');
  });

  it('handles setHeader without writeHead', async () => {
    const port = await serve({}, (_request, response) => {
      response.setHeader('content-type', 'text/plain');
      response.end(BIG);
    });
    const reply = await get(port, { 'accept-encoding': 'gzip' });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(reply.body).toString()).toBe(BIG);
  });

  it('streams event streams uncompressed', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const port = await serve({}, async (_request, response) => {
      response.writeHead(200, ['Content-Type', 'text/event-stream']);
      response.write('data: one\n\n');
      await released;
      response.end('data: two\n\n');
    });

    const request = http.request({ host: '127.0.0.1', port, headers: { 'accept-encoding': 'gzip' }, agent: false });
    request.end();
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    expect(response.headers['content-encoding']).toBeUndefined();
    const [first] = (await once(response, 'data')) as [Buffer];
    expect(first.toString()).toBe('data: one\n\n');
    release();
    response.resume();
    await once(response, 'end');
  });

  it('flushes a compressed stream', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const part = 'x'.repeat(2000);
    const port = await serve({}, async (_request, response) => {
      response.writeHead(200, ['Content-Type', 'text/plain']);
      response.write(part);
      await released;
      response.end(part);
    });

    const request = http.request({ host: '127.0.0.1', port, headers: { 'accept-encoding': 'gzip' }, agent: false });
    request.end();
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    expect(response.headers['content-encoding']).toBe('gzip');
    const gunzip = zlib.createGunzip();
    response.pipe(gunzip);
    const [first] = (await once(gunzip, 'data')) as [Buffer];
    expect(first.toString()).toBe(part);
    release();
    gunzip.resume();
    await once(gunzip, 'end');
  });
});
