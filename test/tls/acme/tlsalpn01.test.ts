// TLS-ALPN-01 (RFC 8737): the solver's challenge certificate, and the entry point serving it to a
// validation connection. Real sockets on 127.0.0.1.
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { connect, createServer as createTlsServer, type TLSSocket } from 'node:tls';

import * as acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { sniffProtocol } from '../../../src/entrypoints/protocol-sniffer.js';
import { TlsOptionsServers } from '../../../src/entrypoints/tls-handshake.js';
import type { PendingChallenge } from '../../../src/tls/acme/challenges.js';
import { TlsAlpn01Solver, tlsAlpnChallengeCertificate } from '../../../src/tls/acme/tlsalpn01.js';
import { DEFAULT_TLS_OPTIONS, type TlsOptions } from '../../../src/tls/options.js';
import { MemoryCertificateStore } from '../../../src/tls/store.js';

const DOMAIN = 'alpn.example.test';
const KEY_AUTHORIZATION = 'token.thumbprint';

function pendingChallenge(domain: string): PendingChallenge {
  return {
    domain,
    wildcard: false,
    // acme-client's challenge types list only http-01 and dns-01, though CAs also offer tls-alpn-01.
    challenge: { type: 'tls-alpn-01', url: 'https://ca.invalid/challenge', status: 'pending', token: 'token' } as unknown as PendingChallenge['challenge'],
    keyAuthorization: KEY_AUTHORIZATION,
  };
}

describe('TlsAlpn01Solver', () => {
  test('publishes a certificate with the key authorization digest', async () => {
    const cleanup = await new TlsAlpn01Solver().present([pendingChallenge('ALPN.example.test')]);
    const certificate = tlsAlpnChallengeCertificate(DOMAIN, ['acme-tls/1']);
    expect(certificate).toBeDefined();
    expect(acme.crypto.isAlpnCertificateAuthorizationValid(certificate?.certPem ?? '', KEY_AUTHORIZATION)).toBe(true);

    await cleanup();
    expect(tlsAlpnChallengeCertificate(DOMAIN, ['acme-tls/1'])).toBeUndefined();
  });

  test('answers only connections that offer acme-tls/1 alone', async () => {
    const cleanup = await new TlsAlpn01Solver().present([pendingChallenge(DOMAIN)]);
    expect(tlsAlpnChallengeCertificate(DOMAIN, ['h2', 'acme-tls/1'])).toBeUndefined();
    expect(tlsAlpnChallengeCertificate(DOMAIN, [])).toBeUndefined();
    expect(tlsAlpnChallengeCertificate(undefined, ['acme-tls/1'])).toBeUndefined();
    expect(tlsAlpnChallengeCertificate('other.example.test', ['acme-tls/1'])).toBeUndefined();
    await cleanup();
  });
});

describe('validation connection', () => {
  let listener: Server;
  let port = 0;
  const target = createTlsServer();
  const strict: TlsOptions = { ...DEFAULT_TLS_OPTIONS, alpnProtocols: [...DEFAULT_TLS_OPTIONS.alpnProtocols], sniStrict: true };

  beforeAll(async () => {
    const store = await MemoryCertificateStore.create();
    const tlsServers = new TlsOptionsServers({ store, optionsFor: () => strict }, target, 5_000);
    listener = createServer((socket) => {
      socket.on('error', () => undefined);
      sniffProtocol(socket, {
        h2c: false,
        timeoutMs: 5_000,
        readClientHello: true,
        onProtocol: (sniffed, _protocol, hello) => (hello === undefined ? sniffed.destroy() : tlsServers.handOver(sniffed, hello)),
      });
    });
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    port = (listener.address() as AddressInfo).port;
  });

  afterAll(() => {
    listener.close();
    target.close();
  });

  function validate(): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, servername: DOMAIN, ALPNProtocols: ['acme-tls/1'], rejectUnauthorized: false }, () => resolve(socket));
      socket.on('error', reject);
    });
  }

  test('gets the challenge certificate and acme-tls/1', async () => {
    const cleanup = await new TlsAlpn01Solver().present([pendingChallenge(DOMAIN)]);
    try {
      const socket = await validate();
      expect(socket.alpnProtocol).toBe('acme-tls/1');
      const certificate = socket.getPeerX509Certificate();
      expect(certificate?.subjectAltName).toBe(`DNS:${DOMAIN}`);
      expect(acme.crypto.isAlpnCertificateAuthorizationValid(certificate?.toString() ?? '', KEY_AUTHORIZATION)).toBe(true);
      // The connection carries no application data after the handshake (RFC 8737), so the server closes it.
      socket.resume();
      await once(socket, 'end');
      socket.destroy();
    } finally {
      await cleanup();
    }
  });

  test('is rejected by sniStrict once the challenge is withdrawn', async () => {
    await expect(validate()).rejects.toThrow();
  });
});
