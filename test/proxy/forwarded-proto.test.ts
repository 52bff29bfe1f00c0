// X-Forwarded-Proto for WebSocket upgrades, and trusted values kept by the forwarder.
import type { IncomingMessage } from 'node:http';

import { describe, expect, test } from 'vitest';

import { forwardedHeaders, forwardedProto } from '../../src/proxy/forwarded.js';
import { CONTEXT } from './harness.js';

function fakeRequest(headers: Record<string, string | undefined>): IncomingMessage {
  return { headers, socket: { remoteAddress: '::ffff:127.0.0.1' } } as unknown as IncomingMessage;
}

describe('forwarded proto', () => {
  test.each([
    { desc: 'plain request over http', headers: {}, scheme: 'http' as const, expected: 'http' },
    { desc: 'plain request over https', headers: {}, scheme: 'https' as const, expected: 'https' },
    { desc: 'websocket over http', headers: { upgrade: 'websocket', connection: 'upgrade' }, scheme: 'http' as const, expected: 'ws' },
    { desc: 'websocket over https', headers: { upgrade: 'WebSocket', connection: 'upgrade' }, scheme: 'https' as const, expected: 'wss' },
    { desc: 'other upgrade', headers: { upgrade: 'h2c', connection: 'upgrade' }, scheme: 'http' as const, expected: 'http' },
  ])('$desc', ({ headers, scheme, expected }) => {
    expect(forwardedProto(fakeRequest(headers), scheme)).toBe(expected);
  });

  test('wss port defaults to 443', () => {
    const headers = forwardedHeaders(fakeRequest({ host: 'app.example.test', upgrade: 'websocket' }), { ...CONTEXT, scheme: 'https' }, { trusted: false });
    expect(headers['x-forwarded-proto']).toBe('wss');
    expect(headers['x-forwarded-port']).toBe('443');
  });

  test('trusted values kept, peer appended', () => {
    const request = fakeRequest({ host: 'app.example.test', 'x-forwarded-for': '1.1.1.1', 'x-forwarded-proto': 'https', 'x-real-ip': '1.1.1.1' });
    const headers = forwardedHeaders(request, CONTEXT, { trusted: true });

    expect(headers['x-forwarded-for']).toBe('1.1.1.1, 127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-real-ip']).toBe('1.1.1.1');
  });
});
