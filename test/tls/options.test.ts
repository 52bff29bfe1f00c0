import { constants } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, createSecureContext, type Server } from 'node:tls';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TlsOptionsConfig } from '../../src/dynamic/model.js';
import { DEFAULT_TLS12_CIPHERS } from '../../src/tls/cipher-suites.js';
import { DEFAULT_TLS_OPTIONS, resolveTlsOptions, secureContextOptions, type TlsOptions } from '../../src/tls/options.js';
import { CertificateDirectory, type TestCertificate } from './openssl.js';

type Fields = Omit<TlsOptionsConfig, 'errors' | 'warnings' | 'sources'>;

interface Case {
  desc: string;
  config: Fields;
  expected?: Partial<TlsOptions>;
  error?: string;
  warning?: string;
}

describe('resolveTlsOptions', () => {
  const cases: Case[] = [
    { desc: 'empty options are the defaults', config: {}, expected: { ...DEFAULT_TLS_OPTIONS, name: 'test' } },
    { desc: 'minVersion TLS 1.3', config: { minVersion: 'VersionTLS13' }, expected: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } },
    { desc: 'version names in any case', config: { minVersion: 'versiontls12', maxVersion: 'VERSIONTLS12' }, expected: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } },
    { desc: 'TLS 1.0 is rejected', config: { minVersion: 'VersionTLS10' }, error: 'TLS 1.0 and 1.1 are deprecated (RFC 8996)' },
    { desc: 'TLS 1.1 is rejected', config: { minVersion: 'VersionTLS11' }, error: 'use VersionTLS12 or VersionTLS13' },
    { desc: 'maxVersion below the minimum', config: { maxVersion: 'VersionTLS11' }, error: 'maxVersion "VersionTLS11" is not supported' },
    { desc: 'unknown version', config: { minVersion: 'TLS1.2' }, error: 'minVersion "TLS1.2" is invalid' },
    { desc: 'minVersion above maxVersion', config: { minVersion: 'VersionTLS13', maxVersion: 'VersionTLS12' }, error: 'is above maxVersion' },
    {
      desc: 'Go cipher names become OpenSSL names in order',
      config: { cipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'tls_ecdhe_ecdsa_with_aes_256_gcm_sha384'] },
      expected: { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384' },
    },
    {
      desc: 'both ChaCha20 spellings give one suite',
      config: { cipherSuites: ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'] },
      expected: { ciphers: 'ECDHE-RSA-CHACHA20-POLY1305' },
    },
    {
      desc: 'TLS 1.3 suites are ignored with a warning',
      config: { cipherSuites: ['TLS_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'] },
      expected: { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' },
      warning: 'TLS_AES_128_GCM_SHA256 are TLS 1.3 suites',
    },
    { desc: 'only TLS 1.3 suites with TLS 1.2 allowed', config: { cipherSuites: ['TLS_AES_256_GCM_SHA384'] }, error: 'lists no TLS 1.2 suite' },
    {
      desc: 'only TLS 1.3 suites with TLS 1.3 minimum',
      config: { minVersion: 'VersionTLS13', cipherSuites: ['TLS_AES_256_GCM_SHA384'] },
      expected: { minVersion: 'TLSv1.3', ciphers: DEFAULT_TLS12_CIPHERS },
      warning: 'not configurable',
    },
    { desc: 'RC4 is rejected', config: { cipherSuites: ['TLS_RSA_WITH_RC4_128_SHA'] }, error: 'RFC 7465' },
    { desc: '3DES is rejected', config: { cipherSuites: ['TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA'] }, error: 'Sweet32' },
    { desc: 'unknown cipher suite', config: { cipherSuites: ['ECDHE-RSA-AES128-GCM-SHA256'] }, error: `cipher suite "ECDHE-RSA-AES128-GCM-SHA256" is unknown; use Go's names` },
    { desc: 'curves in Go names', config: { curvePreferences: ['X25519', 'CurveP256', 'curvep384'] }, expected: { ecdhCurve: 'X25519:P-256:P-384' } },
    { desc: 'unknown curve', config: { curvePreferences: ['P-256'] }, error: 'curve "P-256" is unknown' },
    { desc: 'sniStrict', config: { sniStrict: true }, expected: { sniStrict: true } },
    { desc: 'ALPN protocols as configured', config: { alpnProtocols: ['http/1.1'] }, expected: { alpnProtocols: ['http/1.1'] } },
    { desc: 'empty ALPN list', config: { alpnProtocols: [] }, error: 'alpnProtocols is empty' },
    { desc: 'client certificates are not supported', config: { clientAuth: { clientAuthType: 'RequireAndVerifyClientCert', caFiles: ['/ca.pem'] } }, error: 'clientAuth' },
    { desc: 'NoClientCert changes nothing', config: { clientAuth: { clientAuthType: 'NoClientCert' } }, expected: { sniStrict: false } },
    {
      desc: 'preferServerCipherSuites sets the server order',
      config: { preferServerCipherSuites: true },
      expected: { honorCipherOrder: true },
      warning: 'preferServerCipherSuites is deprecated',
    },
  ];

  for (const testCase of cases) {
    it(testCase.desc, () => {
      const resolved = resolveTlsOptions('test', testCase.config);
      if (testCase.error !== undefined) {
        expect(resolved.options).toBeUndefined();
        expect(resolved.errors.join('\n')).toContain(testCase.error);
      } else {
        expect(resolved.errors).toEqual([]);
        expect(resolved.options).toMatchObject(testCase.expected ?? {});
      }
      if (testCase.warning !== undefined) expect(resolved.warnings.join('\n')).toContain(testCase.warning);
    });
  }

  it('collects every problem in one pass', () => {
    const resolved = resolveTlsOptions('test', { minVersion: 'VersionTLS10', cipherSuites: ['NOPE'], curvePreferences: ['NOPE'] });
    expect(resolved.errors).toHaveLength(3);
  });
});

describe('secureContextOptions', () => {
  it('carries versions, ciphers and curves', () => {
    const resolved = resolveTlsOptions('test', { minVersion: 'VersionTLS12', maxVersion: 'VersionTLS13', curvePreferences: ['X25519'] });
    expect(secureContextOptions(resolved.options as TlsOptions)).toEqual({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      ciphers: DEFAULT_TLS12_CIPHERS,
      honorCipherOrder: false,
      ecdhCurve: 'X25519',
    });
  });

  it('turns off session tickets', () => {
    const resolved = resolveTlsOptions('test', { disableSessionTickets: true });
    const settings = secureContextOptions(resolved.options as TlsOptions);
    expect((settings.secureOptions ?? 0) & constants.SSL_OP_NO_TICKET).toBe(constants.SSL_OP_NO_TICKET);
  });
});

describe('TLS options in real handshakes', () => {
  const directory = new CertificateDirectory();
  let certificate: TestCertificate;

  beforeAll(() => {
    certificate = directory.create({ commonName: 'options.example.test' });
  });
  afterAll(() => directory.remove());

  async function serve(options: TlsOptions): Promise<{ server: Server; port: number }> {
    const context = createSecureContext({ ...secureContextOptions(options), cert: certificate.certPem, key: certificate.keyPem });
    const server = createServer({ SNICallback: (_name, callback) => callback(null, context), ...secureContextOptions(options), cert: certificate.certPem, key: certificate.keyPem }, (socket) => socket.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, port: (server.address() as AddressInfo).port };
  }

  async function handshake(port: number, client: { maxVersion?: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string }): Promise<{ protocol: string | null; cipher: string } | Error> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, servername: 'options.example.test', ca: certificate.certPem, ...client }, () => {
        const result = { protocol: socket.getProtocol(), cipher: socket.getCipher().name };
        socket.destroy();
        resolve(result);
      });
      socket.on('error', (error) => resolve(error));
    });
  }

  it('minVersion TLS 1.3 rejects a TLS 1.2 client', async () => {
    const { server, port } = await serve(resolveTlsOptions('strict', { minVersion: 'VersionTLS13' }).options as TlsOptions);
    try {
      expect(await handshake(port, { maxVersion: 'TLSv1.2' })).toBeInstanceOf(Error);
      expect(await handshake(port, {})).toMatchObject({ protocol: 'TLSv1.3' });
    } finally {
      server.close();
    }
  });

  it('cipherSuites limit TLS 1.2 handshakes', async () => {
    const options = resolveTlsOptions('one-suite', { cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'] }).options as TlsOptions;
    const { server, port } = await serve(options);
    try {
      expect(await handshake(port, { maxVersion: 'TLSv1.2' })).toMatchObject({ protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
      expect(await handshake(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })).toBeInstanceOf(Error);
      // TLS 1.3 suites are not configurable, so a TLS 1.3 client still connects.
      expect(await handshake(port, {})).toMatchObject({ protocol: 'TLSv1.3' });
    } finally {
      server.close();
    }
  });

  it('default options reject a client without ECDHE and AEAD suites', async () => {
    const { server, port } = await serve(DEFAULT_TLS_OPTIONS);
    try {
      expect(await handshake(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' })).toBeInstanceOf(Error);
      expect(await handshake(port, { maxVersion: 'TLSv1.2' })).toMatchObject({ protocol: 'TLSv1.2' });
    } finally {
      server.close();
    }
  });
});
