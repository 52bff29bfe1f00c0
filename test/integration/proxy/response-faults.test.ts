// Server responses that are valid but unusual, or that Node.js refuses to write as they are: the client
// must get either the response or a 502, never silence, and its connection must stay usable.
import type { ClientHttp2Session } from 'node:http2';
import { gzipSync } from 'node:zlib';

import { afterEach, describe, expect, test } from 'vitest';

import { connectHttp2, requestHttp2, startInProcessBerth, type InProcessBerth } from './harness.js';
import { RawClient, splitHead, startRawServer, type RawConnection, type RawServer } from './raw.js';

const running: Array<RawServer | InProcessBerth | RawClient | ClientHttp2Session> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (item) => item.close()));
});

/**
 * Starts a raw server that sends `head` (a status line and fields, without the empty line) to requests for
 * `/odd`, and a normal 200 with body `next` to any other request.
 */
async function berthWithServer(head: string, body = ''): Promise<{ berth: InProcessBerth; server: RawServer }> {
  const answered = new WeakMap<RawConnection, number>();
  const server = await startRawServer((connection) => {
    let offset = answered.get(connection) ?? 0;
    for (;;) {
      const request = splitHead(connection.received.slice(offset));
      if (request === undefined) break;
      offset += request.head.length;
      const response = request.head.startsWith('GET /odd') || request.head.startsWith('HEAD /odd') ? `${head}\r\n\r\n${body}` : 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext';
      connection.socket.write(response, 'latin1');
    }
    answered.set(connection, offset);
  });
  running.push(server);
  const berth = await startInProcessBerth({ servers: [server.url], entryPoint: { http2: { maxConcurrentStreams: 250, h2c: true } } });
  running.push(berth);
  return { berth, server };
}

async function rawClient(berth: InProcessBerth): Promise<RawClient> {
  const client = await RawClient.connect(berth.port);
  running.push(client);
  return client;
}

async function h2Session(berth: InProcessBerth): Promise<ClientHttp2Session> {
  const session = await connectHttp2(berth.port);
  running.push(session);
  return session;
}

const GET_ODD = 'GET /odd HTTP/1.1\r\nHost: app.example.test\r\n\r\n';
const GET_NEXT = 'GET /next HTTP/1.1\r\nHost: app.example.test\r\n\r\n';
const NEXT_RESPONSE = /HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\nnext$/;

describe('bodiless responses with Content-Length', () => {
  test('304 relayed with its fields', async () => {
    const { berth } = await berthWithServer('HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: "x"');
    const client = await rawClient(berth);

    client.write(GET_ODD);
    const first = await client.waitFor(/^HTTP\/1\.1 304 [\s\S]*\r\n\r\n/);
    client.write(GET_NEXT);
    const both = await client.waitFor(NEXT_RESPONSE);

    expect(first).toMatch(/^HTTP\/1\.1 304 Not Modified\r\n/);
    expect(first).toMatch(/\r\nETag: "x"\r\n/);
    // Go's proxy keeps the server's Content-Length on a 304 too.
    expect(first).toMatch(/\r\nContent-Length: 1234\r\n/);
    // Nothing follows the 304's head but the next response.
    expect(both.slice(both.indexOf('\r\n\r\n') + 4)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(berth.logs().some((line) => line.status === 304 && line.err !== undefined)).toBe(false);
  });

  test('204 relayed, connection reusable', async () => {
    const { berth } = await berthWithServer('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Kept: yes');
    const client = await rawClient(berth);

    client.write(GET_ODD);
    const first = await client.waitFor(/^HTTP\/1\.1 204 [\s\S]*\r\n\r\n/);
    client.write(GET_NEXT);
    const both = await client.waitFor(NEXT_RESPONSE);

    expect(first).toMatch(/\r\nX-Kept: yes\r\n/);
    expect(both.slice(both.indexOf('\r\n\r\n') + 4)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  test('304 relayed over HTTP/2', async () => {
    const { berth } = await berthWithServer('HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: "x"');
    const session = await h2Session(berth);

    const response = await requestHttp2(session, { ':path': '/odd' });
    const next = await requestHttp2(session, { ':path': '/next' });

    expect(response.status).toBe(304);
    expect(response.headers.etag).toBe('"x"');
    expect(response.body).toBe('');
    expect(next.status).toBe(200);
  });
});

describe('reason phrase', () => {
  test('ASCII phrase relayed', async () => {
    const { berth } = await berthWithServer('HTTP/1.1 200 Fine Thanks\r\nContent-Length: 2', 'ok');
    const client = await rawClient(berth);

    client.write(GET_ODD);
    const received = await client.waitFor(/\r\n\r\nok$/);

    expect(received).toMatch(/^HTTP\/1\.1 200 Fine Thanks\r\n/);
  });

  test('non-ASCII phrase replaced by default', async () => {
    const { berth } = await berthWithServer(`HTTP/1.1 200 ${Buffer.from('Oké中', 'utf8').toString('latin1')}\r\nContent-Length: 2`, 'ok');
    const client = await rawClient(berth);

    client.write(GET_ODD);
    const received = await client.waitFor(/\r\n\r\nok$/);
    client.write(GET_NEXT);
    await client.waitFor(NEXT_RESPONSE);

    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });
});

describe('connection-specific response fields', () => {
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nHTTP2-Settings: x\r\nX-Kept: yes';

  test('HTTP2-Settings dropped for HTTP/1.1', async () => {
    const { berth } = await berthWithServer(head, 'ok');
    const client = await rawClient(berth);

    client.write(GET_ODD);
    const received = await client.waitFor(/\r\n\r\nok$/);

    expect(received).toMatch(/\r\nX-Kept: yes\r\n/);
    expect(received).not.toMatch(/http2-settings/i);
  });

  test('HTTP2-Settings dropped for HTTP/2', async () => {
    const { berth } = await berthWithServer(head, 'ok');
    const session = await h2Session(berth);

    const response = await requestHttp2(session, { ':path': '/odd' });

    expect(response.status).toBe(200);
    expect(response.body).toBe('ok');
    expect(response.headers['x-kept']).toBe('yes');
    expect(response.headers['http2-settings']).toBeUndefined();
  });

  test('repeated Content-Type keeps first on HTTP/2', async () => {
    // Node.js's http2 module rejects a second Content-Type line, which HTTP/1.1 passes on, so the
    // entry point keeps the first one instead of sending 502.
    const { berth } = await berthWithServer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\nContent-Type: text/html', 'ok');
    const session = await h2Session(berth);

    const response = await requestHttp2(session, { ':path': '/odd' });
    const next = await requestHttp2(session, { ':path': '/next' });

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain');
    expect(response.body).toBe('ok');
    expect(next.status).toBe(200);
    expect(next.body).toBe('next');
  });
});

describe('101 without an upgrade request', () => {
  for (const head of ['HTTP/1.1 101 Switching Protocols', 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket']) {
    const fields = head.includes('Upgrade:') ? 'with Upgrade' : 'bare';

    test(`${fields} 101 is 502`, async () => {
      const { berth } = await berthWithServer(head);
      const client = await rawClient(berth);

      client.write(GET_ODD);
      const received = await client.waitFor(/\r\n\r\n502 Bad Gateway\n$/);
      client.write(GET_NEXT);
      await client.waitFor(/\r\n\r\nnext$/);

      expect(received).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
      const failure = berth.logs().find((line) => line.msg === 'forwarding failed');
      expect(failure?.errorType).toBe('BadGatewayError');
      expect(failure?.reason).toMatch(/^the server sent 101 Switching Protocols in response to a request without an Upgrade field/);
    });
  }
});

describe('response transfer codings other than chunked', () => {
  const gzipped = gzipSync('hello');
  const chunkedGzip = `${gzipped.length.toString(16)}\r\n${gzipped.toString('latin1')}\r\n0\r\n\r\n`;
  /** Checks that the connection that carried `/odd`, whose framing Berth cannot trust, closed and carried nothing else. */
  async function expectConnectionDropped(server: RawServer): Promise<void> {
    const odd = server.connections.find((connection) => connection.received.startsWith('GET /odd'));
    expect(odd).toBeDefined();
    await server.waitFor(() => odd?.closed === true, 'the connection of /odd to close');
    expect(odd?.received).not.toContain('GET /next');
    expect(server.received()).toContain('GET /next');
  }

  const cases = [
    ['gzip, chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked', chunkedGzip],
    ['gzip and chunked lines', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked', chunkedGzip],
    ['chunked, chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked', '5\r\nhello\r\n0\r\n\r\n'],
    ['gzip alone', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip', gzipped.toString('latin1')],
  ] as const;

  for (const [name, head, body] of cases) {
    test(`${name} is 502 over HTTP/1.1`, async () => {
      const { berth, server } = await berthWithServer(head, body);
      const client = await rawClient(berth);

      client.write(GET_ODD);
      const received = await client.waitFor(/\r\n\r\n502 Bad Gateway\n$/);
      client.write(GET_NEXT);
      await client.waitFor(/\r\n\r\nnext$/);

      expect(received).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
      expect(received).not.toMatch(/transfer-encoding/i);
      await expectConnectionDropped(server);
      const failure = berth.logs().find((line) => line.msg === 'forwarding failed');
      expect(failure?.errorType).toBe('BadGatewayError');
      expect(failure?.reason).toMatch(/unsupported Transfer-Encoding/);
    });
  }

  test('gzip, chunked is 502 over HTTP/2', async () => {
    const { berth, server } = await berthWithServer('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked', chunkedGzip);
    const session = await h2Session(berth);

    const response = await requestHttp2(session, { ':path': '/odd' });
    const next = await requestHttp2(session, { ':path': '/next' });

    expect(response.status).toBe(502);
    expect(response.body).toBe('502 Bad Gateway\n');
    expect(next.status).toBe(200);
    expect(next.body).toBe('next');
    await expectConnectionDropped(server);
  });

  test('single chunked still relayed', async () => {
    const { berth } = await berthWithServer('HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked', '5\r\nhello\r\n0\r\n\r\n');
    const client = await rawClient(berth);

    client.write(GET_ODD);
    const received = await client.waitFor(/\r\n0\r\n\r\n$/);

    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).toContain('\r\n5\r\nhello\r\n');
  });
});

describe('header value bytes', () => {
  // obs-text (RFC 9110 §5.5) and UTF-8 bytes, written and read as Latin-1 so that each character is one byte.
  const obsText = 'a\xff\x80b';
  const utf8 = Buffer.from('é€', 'utf8').toString('latin1');
  const head = `HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-B: ${obsText}\r\nX-U: ${utf8}`;

  test('relayed byte for byte over HTTP/1.1', async () => {
    const { berth } = await berthWithServer(head, 'ok');
    const client = await rawClient(berth);

    client.write(GET_ODD);
    const received = await client.waitFor(/\r\n\r\nok$/);

    expect(received).toContain(`\r\nX-B: ${obsText}\r\n`);
    expect(received).toContain(`\r\nX-U: ${utf8}\r\n`);
  });

  test('relayed byte for byte with Expect', async () => {
    // A request with `Expect: 100-continue` is forwarded through node:http rather than undici.
    let continued = false;
    let answered = false;
    const server = await startRawServer((connection) => {
      const request = splitHead(connection.received);
      if (request === undefined || answered) return;
      if (request.rest.length === 0) {
        if (!continued) connection.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        continued = true;
        return;
      }
      answered = true;
      connection.socket.write(`${head}\r\n\r\nok`, 'latin1');
    });
    running.push(server);
    const berth = await startInProcessBerth({ servers: [server.url] });
    running.push(berth);
    const client = await rawClient(berth);

    client.write('POST /odd HTTP/1.1\r\nHost: app.example.test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
    await client.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    client.write('body');
    const received = await client.waitFor(/\r\n\r\nok$/);

    expect(received).toContain(`\r\nX-B: ${obsText}\r\n`);
    expect(received).toContain(`\r\nX-U: ${utf8}\r\n`);
  });

  test('relayed byte for byte over HTTP/2', async () => {
    const { berth } = await berthWithServer(head, 'ok');
    const session = await h2Session(berth);

    const response = await requestHttp2(session, { ':path': '/odd' });

    // Node.js's http2 client decodes field values as Latin-1, one character per byte.
    expect(response.headers['x-b']).toBe(obsText);
    expect(response.headers['x-u']).toBe(utf8);
  });
});
