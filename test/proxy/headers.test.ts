import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';

import { forwardedHeaders, forwardedPort, peerAddress } from '../../src/proxy/forwarded.js';
import {
  clientResponseHeaders,
  connectionOptions,
  isUpgradeRequest,
  passedUpgrade,
  removeHopByHopHeaders,
  unsupportedTransferCoding,
  upstreamRequestHeaders,
} from '../../src/proxy/headers.js';
import { CONTEXT } from './harness.js';

function fakeRequest(headers: IncomingHttpHeaders, remoteAddress = '127.0.0.1'): IncomingMessage {
  return { headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

/** Turns a flat header list into pairs, which reads better in assertions. */
function pairs(list: readonly string[]): [string, string][] {
  const result: [string, string][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) {
    result.push([list[i] ?? '', list[i + 1] ?? '']);
  }
  return result;
}

describe('connectionOptions', () => {
  it.each([
    { desc: 'a single token', value: 'close', expected: ['close'] },
    { desc: 'mixed case and spaces', value: ' Keep-Alive ,X-Foo,  x-bar ', expected: ['keep-alive', 'x-foo', 'x-bar'] },
    { desc: 'empty list elements', value: ',,upgrade,', expected: ['upgrade'] },
    { desc: 'several lines', value: ['keep-alive', 'X-One, X-Two'], expected: ['keep-alive', 'x-one', 'x-two'] },
    { desc: 'no field', value: undefined, expected: [] },
  ])('parses $desc', ({ value, expected }) => {
    expect([...connectionOptions(value)]).toEqual(expected);
  });
});

describe('removeHopByHopHeaders', () => {
  it('removes fixed and named fields', () => {
    const headers: IncomingHttpHeaders = {
      host: 'app.example.test',
      connection: 'keep-alive, X-Auth-User, X-Forwarded-For',
      'keep-alive': 'timeout=5',
      'x-auth-user': 'mallory',
      'x-forwarded-for': '1.1.1.1',
      te: 'gzip',
      'transfer-encoding': 'chunked',
      'http2-settings': 'AAMAAABkAAQAAP__',
      'proxy-authorization': 'Basic x',
      accept: '*/*',
    };

    removeHopByHopHeaders(headers);

    expect(headers).toEqual({ host: 'app.example.test', accept: '*/*' });
  });

  it('reduces TE to trailers', () => {
    const headers: IncomingHttpHeaders = { connection: 'TE', te: 'deflate;q=0.5, Trailers', accept: '*/*' };

    removeHopByHopHeaders(headers);

    expect(headers).toEqual({ te: 'trailers', accept: '*/*' });
  });

  it('keeps a request Trailer when asked', () => {
    const headers: IncomingHttpHeaders = { trailer: 'x-checksum' };
    const named: IncomingHttpHeaders = { connection: 'trailer', trailer: 'x-checksum' };

    removeHopByHopHeaders(headers, { keepTrailer: true });
    removeHopByHopHeaders(named, { keepTrailer: true });

    expect(headers).toEqual({ trailer: 'x-checksum' });
    expect(named).toEqual({});
  });

  it('drops TE trailers when asked', () => {
    const headers: IncomingHttpHeaders = { te: 'trailers' };

    removeHopByHopHeaders(headers, { keepTeTrailers: false });

    expect(headers).toEqual({});
  });

  it('never removes Host or Content-Length', () => {
    const headers: IncomingHttpHeaders = { host: 'app.example.test', 'content-length': '5', connection: 'host, content-length' };

    removeHopByHopHeaders(headers);

    expect(headers).toEqual({ host: 'app.example.test', 'content-length': '5' });
  });

  it('keeps the upgrade when asked', () => {
    const headers: IncomingHttpHeaders = { connection: 'keep-alive, Upgrade, X-Foo', upgrade: 'websocket', 'x-foo': '1' };

    removeHopByHopHeaders(headers, { keepUpgrade: true });

    expect(headers).toEqual({ connection: 'upgrade', upgrade: 'websocket' });
    expect(isUpgradeRequest(headers)).toBe(true);
  });

  it('drops Upgrade without the connection option', () => {
    const headers: IncomingHttpHeaders = { connection: 'keep-alive', upgrade: 'h2c' };

    removeHopByHopHeaders(headers, { keepUpgrade: true });

    expect(headers).toEqual({});
  });
});

describe('passedUpgrade', () => {
  it.each([
    { value: 'websocket', expected: 'websocket' },
    { value: 'h2c', expected: undefined },
    { value: 'H2C', expected: undefined },
    { value: 'websocket, h2c', expected: 'websocket' },
    { value: 'h2c,websocket/13', expected: 'websocket/13' },
    { value: ' , ', expected: undefined },
    { value: undefined, expected: undefined },
  ])('$value', ({ value, expected }) => {
    expect(passedUpgrade(value)).toBe(expected);
  });
});

describe('clientResponseHeaders', () => {
  it('keeps order and repeated lines', () => {
    const raw = [
      'Set-Cookie', 'a=1',
      'Connection', 'keep-alive, X-Internal',
      'Keep-Alive', 'timeout=5',
      'X-Internal', 'secret',
      'Set-Cookie', 'b=2',
      'Transfer-Encoding', 'chunked',
      'Upgrade', 'h2c',
      'HTTP2-Settings', 'AAMAAABkAAQAAP__',
      'TE', 'trailers',
      'Set-Cookie', 'c=3',
    ].map((text) => Buffer.from(text, 'latin1'));

    expect(pairs(clientResponseHeaders(raw))).toEqual([
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['Set-Cookie', 'c=3'],
    ]);
  });

  it('keeps the upgrade of a 101 when asked', () => {
    const raw = ['Upgrade', 'websocket', 'Connection', 'Upgrade, X-Internal', 'X-Internal', '1', 'Sec-WebSocket-Accept', 'abc'];

    expect(pairs(clientResponseHeaders(raw, { keepUpgrade: true }))).toEqual([
      ['Upgrade', 'websocket'],
      ['Sec-WebSocket-Accept', 'abc'],
      ['Connection', 'Upgrade'],
    ]);
  });

  it('removes fields named by later Connection lines', () => {
    const raw = ['X-Early', '1', 'X-Kept', '2', 'connection', 'x-early', 'X-Late', '3', 'CONNECTION', 'X-Late'].map((text) => Buffer.from(text, 'latin1'));

    expect(pairs(clientResponseHeaders(raw))).toEqual([['X-Kept', '2']]);
  });

  it('removes only hop-by-hop fields without Connection', () => {
    const raw = ['Content-Type', 'text/plain', 'Keep-Alive', 'timeout=5', 'Content-Length', '3'];

    expect(pairs(clientResponseHeaders(raw))).toEqual([
      ['Content-Type', 'text/plain'],
      ['Content-Length', '3'],
    ]);
  });

  it('keeps Latin-1 bytes of values', () => {
    const raw = [Buffer.from('X-Name'), Buffer.from([0x63, 0x61, 0x66, 0xe9])];

    expect(clientResponseHeaders(raw)).toEqual(['X-Name', 'caf\u00e9']);
  });
});

describe('unsupportedTransferCoding', () => {
  it.each([
    [['Content-Length', '5']],
    [['Transfer-Encoding', 'chunked']],
    [['transfer-encoding', ' Chunked ']],
    [[Buffer.from('Transfer-Encoding'), Buffer.from('chunked')]],
  ])('accepts %j', (rawHeaders) => {
    expect(unsupportedTransferCoding(rawHeaders)).toBeUndefined();
  });

  it.each([
    [['Transfer-Encoding', 'gzip, chunked'], 'gzip, chunked'],
    [['Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'], 'gzip, chunked'],
    [['Transfer-Encoding', 'chunked, chunked'], 'chunked, chunked'],
    [['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'], 'chunked, chunked'],
    [['Transfer-Encoding', 'gzip'], 'gzip'],
    [['Transfer-Encoding', 'identity'], 'identity'],
    [['Transfer-Encoding', ''], ''],
    [[Buffer.from('Transfer-Encoding'), Buffer.from('gzip, chunked')], 'gzip, chunked'],
  ])('rejects %j', (rawHeaders, listed) => {
    expect(unsupportedTransferCoding(rawHeaders)).toBe(listed);
  });
});

describe('forwardedHeaders', () => {
  const spoofed: IncomingHttpHeaders = {
    host: 'app.example.test',
    'x-forwarded-for': '1.1.1.1',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'evil.example.test',
    'x-real-ip': '1.1.1.1',
  };

  it('replaces values from untrusted peer', () => {
    const headers = forwardedHeaders(fakeRequest(spoofed, '10.0.0.7'), CONTEXT, { trusted: false });

    expect(headers).toEqual({
      'x-forwarded-for': '10.0.0.7',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'app.example.test',
      'x-forwarded-port': '80',
      'x-forwarded-server': 'berth-test',
      'x-real-ip': '10.0.0.7',
    });
  });

  it('appends the peer when trusted', () => {
    const headers = forwardedHeaders(fakeRequest(spoofed, '10.0.0.7'), CONTEXT, { trusted: true });

    expect(headers['x-forwarded-for']).toBe('1.1.1.1, 10.0.0.7');
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-host']).toBe('evil.example.test');
    expect(headers['x-real-ip']).toBe('1.1.1.1');
  });

  it('gives an IPv4-mapped peer in IPv4 form', () => {
    const headers = forwardedHeaders(fakeRequest({ host: 'a.test' }, '::ffff:127.0.0.1'), CONTEXT, { trusted: false });

    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-real-ip']).toBe('127.0.0.1');
  });

  it('uses the https default port', () => {
    const headers = forwardedHeaders(fakeRequest({ host: 'a.test' }), { ...CONTEXT, scheme: 'https' }, { trusted: false });

    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-port']).toBe('443');
  });
});

describe('peerAddress', () => {
  it.each([
    { desc: 'IPv4-mapped IPv6', address: '::ffff:10.1.2.3', expected: '10.1.2.3' },
    { desc: 'upper-case mapped prefix', address: '::FFFF:10.1.2.3', expected: '10.1.2.3' },
    { desc: 'plain IPv6', address: '::1', expected: '::1' },
    { desc: 'plain IPv4', address: '192.0.2.1', expected: '192.0.2.1' },
    { desc: 'missing address', address: undefined, expected: undefined },
  ])('normalizes $desc', ({ address, expected }) => {
    expect(peerAddress(address)).toBe(expected);
  });
});

describe('forwardedPort', () => {
  it.each([
    { desc: 'name with port', host: 'app.example.test:8443', scheme: 'https' as const, expected: '8443' },
    { desc: 'name without port', host: 'app.example.test', scheme: 'https' as const, expected: '443' },
    { desc: 'bracketed IPv6 with port', host: '[::1]:8080', scheme: 'http' as const, expected: '8080' },
    { desc: 'bracketed IPv6 without port', host: '[::1]', scheme: 'http' as const, expected: '80' },
    { desc: 'invalid port', host: 'app.example.test:http', scheme: 'http' as const, expected: '80' },
    { desc: 'missing Host', host: undefined, scheme: 'http' as const, expected: '80' },
  ])('reads $desc', ({ host, scheme, expected }) => {
    expect(forwardedPort(host, scheme)).toBe(expected);
  });
});

describe('upstreamRequestHeaders', () => {
  it('builds the header list for the server', () => {
    const request = fakeRequest(
      {
        host: 'app.example.test',
        connection: 'keep-alive, X-Drop',
        'x-drop': '1',
        expect: '100-continue',
        'x-forwarded-for': '1.1.1.1',
        cookie: 'a=1; b=2',
        'content-length': '5',
      },
      '10.0.0.7',
    );
    const upstream = { url: new URL('http://10.0.0.2:8080/base'), passHostHeader: false };

    const list = pairs(upstreamRequestHeaders(request, upstream, CONTEXT, { trusted: false }));

    expect(list).toEqual([
      ['cookie', 'a=1; b=2'],
      ['content-length', '5'],
      ['host', '10.0.0.2:8080'],
      ['x-forwarded-for', '10.0.0.7'],
      ['x-forwarded-proto', 'http'],
      ['x-forwarded-host', 'app.example.test'],
      ['x-forwarded-port', '80'],
      ['x-forwarded-server', 'berth-test'],
      ['x-real-ip', '10.0.0.7'],
    ]);
  });

  it('sends TE trailers only', () => {
    for (const te of ['trailers', 'gzip, trailers', 'TRAILERS']) {
      const request = fakeRequest({ host: 'app.example.test', te });
      const upstream = { url: new URL('http://10.0.0.2:8080'), passHostHeader: true };

      const list = pairs(upstreamRequestHeaders(request, upstream, CONTEXT, { trusted: false }));

      expect(list.filter(([name]) => name === 'te')).toEqual([['te', 'trailers']]);
    }
  });

  it('drops TE without trailers', () => {
    const request = fakeRequest({ host: 'app.example.test', te: 'gzip, deflate' });
    const upstream = { url: new URL('http://10.0.0.2:8080'), passHostHeader: true };

    const list = pairs(upstreamRequestHeaders(request, upstream, CONTEXT, { trusted: false }));

    expect(list.some(([name]) => name === 'te')).toBe(false);
  });
});
