// Pure parts of the entry point: protocol sniffing, trusted peers, ALPN choice, client error statuses.
import { describe, expect, test } from 'vitest';

import { clientErrorStatus } from '../../src/entrypoints/client-error.js';
import { ForwardedHeadersTrust } from '../../src/entrypoints/forwarded-trust.js';
import { classifyFirstBytes } from '../../src/entrypoints/protocol-sniffer.js';
import { chooseProtocol } from '../../src/entrypoints/tls-handshake.js';

describe('protocol sniffing', () => {
  test.each([
    { desc: 'TLS record', bytes: Buffer.from([0x16, 0x03, 0x01]), h2c: false, expected: 'tls' },
    { desc: 'HTTP/1.1 GET', bytes: Buffer.from('GET / HTTP/1.1\r\n'), h2c: true, expected: 'http1' },
    { desc: 'POST with h2c on', bytes: Buffer.from('POST / HTTP/1.1\r\n'), h2c: true, expected: 'http1' },
    { desc: 'preface prefix waits', bytes: Buffer.from('PRI * HTT'), h2c: true, expected: undefined },
    { desc: 'lone P waits', bytes: Buffer.from('P'), h2c: true, expected: undefined },
    { desc: 'whole preface', bytes: Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), h2c: true, expected: 'h2c' },
    { desc: 'preface with h2c off', bytes: Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), h2c: false, expected: 'http1' },
    { desc: 'nothing yet', bytes: Buffer.alloc(0), h2c: false, expected: undefined },
  ])('$desc', ({ bytes, h2c, expected }) => {
    expect(classifyFirstBytes(bytes, h2c)).toBe(expected);
  });
});

describe('trusted peers', () => {
  const trust = new ForwardedHeadersTrust({ trustedIPs: ['10.0.0.0/8', '192.168.1.7', 'fd00::/8'], insecure: false });

  test.each([
    { address: '10.1.2.3', expected: true },
    { address: '::ffff:10.1.2.3', expected: true },
    { address: '192.168.1.7', expected: true },
    { address: '192.168.1.8', expected: false },
    { address: 'fd12::1', expected: true },
    { address: '2001:db8::1', expected: false },
    { address: undefined, expected: false },
  ])('$address', ({ address, expected }) => {
    expect(trust.isTrusted(address)).toBe(expected);
  });

  test('untrusted headers removed', () => {
    const headers: Record<string, unknown> = { 'x-forwarded-for': '1.1.1.1', 'x-real-ip': '1.1.1.1', forwarded: 'for=1.1.1.1', host: 'a' };
    trust.apply(headers, '203.0.113.9');
    expect(headers).toEqual({ host: 'a' });
  });

  test('other forwarding fields removed', () => {
    const headers: Record<string, unknown> = {
      'x-forwarded-prefix': '/admin',
      'x-forwarded-uri': '/x',
      'x-forwarded-method': 'GET',
      'x-forwarded-tls-client-cert': 'MII',
      'x-forwarded-scheme': 'https',
      'x-scheme': 'https',
      x_forwarded_proto: 'https',
      x_real_ip: '1.1.1.1',
      'x-forwarded': 'kept: not a forwarding field name',
      accept: '*/*',
    };
    trust.apply(headers, '203.0.113.9');
    expect(headers).toEqual({ 'x-forwarded': 'kept: not a forwarding field name', accept: '*/*' });
  });

  test('trusted headers kept', () => {
    const headers: Record<string, unknown> = { 'x-forwarded-for': '1.1.1.1' };
    trust.apply(headers, '10.0.0.1');
    expect(headers).toEqual({ 'x-forwarded-for': '1.1.1.1' });
  });

  test('insecure trusts all', () => {
    expect(new ForwardedHeadersTrust({ trustedIPs: [], insecure: true }).isTrusted('203.0.113.9')).toBe(true);
  });

  test('invalid range throws', () => {
    expect(() => new ForwardedHeadersTrust({ trustedIPs: ['proxy'], insecure: false })).toThrow(/trusted IP "proxy"/);
  });
});

describe('ALPN choice', () => {
  test.each([
    { server: ['h2', 'http/1.1', 'acme-tls/1'], client: ['h2', 'http/1.1'], expected: 'h2' },
    { server: ['h2', 'http/1.1'], client: ['http/1.1'], expected: 'http/1.1' },
    { server: ['http/1.1', 'h2'], client: ['h2', 'http/1.1'], expected: 'http/1.1' },
    { server: ['h2', 'http/1.1', 'acme-tls/1'], client: ['acme-tls/1'], expected: undefined },
    { server: ['h2'], client: ['http/1.1'], expected: undefined },
  ])('$client against $server', ({ server, client, expected }) => {
    expect(chooseProtocol(server, client)).toBe(expected);
  });
});

describe('client error status', () => {
  test.each([
    { code: 'HPE_HEADER_OVERFLOW', expected: '431 Request Header Fields Too Large' },
    { code: 'ERR_HTTP_REQUEST_TIMEOUT', expected: '408 Request Timeout' },
    { code: 'HPE_UNEXPECTED_CONTENT_LENGTH', expected: '400 Bad Request' },
    { code: undefined, expected: '400 Bad Request' },
  ])('$code', ({ code, expected }) => {
    expect(clientErrorStatus(code)).toBe(expected);
  });
});
