// Request trailer fields that would stand in for a field Berth or a middleware sets or removes in the header
// section. A server that merges trailer fields into the header section would otherwise take the client's value.
import type { IncomingHttpHeaders } from 'node:http';

import { afterEach, describe, expect, test } from 'vitest';

import type { MiddlewareConfig } from '../../../src/dynamic/model.js';
import { startServer, type RunningServer } from '../../proxy/harness.js';
import { startInProcessBerth, type InProcessBerth } from './harness.js';
import { RawClient } from './raw.js';

const running: Array<RunningServer | InProcessBerth> = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

interface Seen {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
}

/** Starts Berth with `middlewares` in front of a server that records each request's fields and trailers. */
async function recordingBerth(middlewares: Record<string, Pick<MiddlewareConfig, 'type' | 'options'>>): Promise<{ berth: InProcessBerth; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = await startServer((request, response) => {
    request.resume();
    request.on('end', () => {
      seen.push({ headers: { ...request.headers }, trailers: { ...request.trailers } });
      response.end('ok');
    });
  });
  running.push(server);
  const auth = await startServer((request, response) => {
    response.setHeader('X-Auth-User', 'alice');
    response.end();
  });
  running.push(auth);
  const resolved = Object.fromEntries(Object.entries(middlewares).map(([name, config]) => [name, config.type === 'forwardauth' ? { ...config, options: { ...config.options, address: `${auth.url.origin}/verify` } } : config]));
  const berth = await startInProcessBerth({ servers: [server.url.href], middlewares: resolved });
  running.push(berth);
  return { berth, seen };
}

/** Sends a chunked POST whose Trailer field announces `names` and whose trailer section is `lines`. */
async function sendTrailers(port: number, names: string, lines: string): Promise<void> {
  const client = await RawClient.connect(port);
  clients.push(client);
  client.write(`POST /upload HTTP/1.1\r\nHost: app.example.test\r\nTransfer-Encoding: chunked\r\nTrailer: ${names}\r\n\r\n5\r\nhello\r\n0\r\n${lines}\r\n`);
  await client.waitFor(/\r\n\r\nok$/);
}

describe('request trailers of managed fields', () => {
  // Observed: the server got the trailers x-forwarded-for and x-real-ip from the client. Expected: only x-checksum.
  test('X-Forwarded-* trailers dropped', async () => {
    const { berth, seen } = await recordingBerth({});

    await sendTrailers(berth.port, 'x-checksum, x-forwarded-for, x-real-ip, forwarded', 'x-checksum: abc\r\nx-forwarded-for: 10.9.9.9\r\nx-real-ip: 10.9.9.9\r\nforwarded: for=10.9.9.9\r\n');

    expect(seen[0]?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen[0]?.headers.trailer).toBe('x-checksum');
    expect(seen[0]?.trailers).toEqual({ 'x-checksum': 'abc' });
  });

  // Observed: the server got the trailers x-user and x-internal that the headers middleware sets and removes. Expected: only x-checksum.
  test('headers middleware fields dropped', async () => {
    const { berth, seen } = await recordingBerth({ edit: { type: 'headers', options: { customRequestHeaders: { 'X-User': 'alice', 'X-Internal': '' } } } });

    await sendTrailers(berth.port, 'x-checksum, x-user, x-internal', 'x-checksum: abc\r\nx-user: admin\r\nx-internal: yes\r\n');

    expect(seen[0]?.headers['x-user']).toBe('alice');
    expect(seen[0]?.headers.trailer).toBe('x-checksum');
    expect(seen[0]?.trailers).toEqual({ 'x-checksum': 'abc' });
  });

  // Observed: the server got the trailers x-auth-user and x-auth-role, which forwardAuth copies from its auth response. Expected: only x-checksum.
  test('forwardAuth response fields dropped', async () => {
    const { berth, seen } = await recordingBerth({ auth: { type: 'forwardauth', options: { authResponseHeaders: ['X-Auth-User'], authResponseHeadersRegex: '^X-Auth-R' } } });

    await sendTrailers(berth.port, 'x-checksum, x-auth-user, x-auth-role', 'x-checksum: abc\r\nx-auth-user: admin\r\nx-auth-role: root\r\n');

    expect(seen[0]?.headers['x-auth-user']).toBe('alice');
    expect(seen[0]?.trailers).toEqual({ 'x-checksum': 'abc' });
  });

  // Observed: the server got the trailer x-webauth-user, the field basicAuth sets to the user's name. Expected: only x-checksum.
  test('basicAuth headerField dropped', async () => {
    // `openssl passwd -apr1 -salt H6uskkkW test`: user `test`, password `test`.
    const { berth, seen } = await recordingBerth({ basic: { type: 'basicauth', options: { users: ['test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/'], headerField: 'X-WebAuth-User' } } });
    const client = await RawClient.connect(berth.port);
    clients.push(client);

    client.write('POST /upload HTTP/1.1\r\nHost: app.example.test\r\nAuthorization: Basic dGVzdDp0ZXN0\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum, x-webauth-user\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: abc\r\nx-webauth-user: admin\r\n\r\n');
    await client.waitFor(/\r\n\r\nok$/);

    expect(seen[0]?.headers['x-webauth-user']).toBe('test');
    expect(seen[0]?.trailers).toEqual({ 'x-checksum': 'abc' });
  });
});
