// TLS-ALPN-01 end to end, in-process: pebble validates the challenge through an entry point whose
// port is pebble's tlsPort, as the entry point on port 443 of the domain would in production.

import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';

import { afterAll, beforeAll, expect, test } from 'vitest';

import { EntryPoint } from '../../src/entrypoints/server.js';
import { silentLogger } from '../../src/observability/logger.js';
import { DEFAULT_TLS_OPTIONS, type TlsOptions } from '../../src/tls/options.js';
import { resolverConfig, runtimeWithRouters, startManager, storageDirectory, waitForCertificate, type ManagerUnderTest } from './harness/acme-manager.js';
import { freePort } from './harness/containers.js';
import { type PebbleServer, startPebble } from './harness/pebble.js';

// sniStrict makes the entry point reject app.example.test until its certificate exists, so only
// the challenge path can complete the validation handshake.
const STRICT_OPTIONS: TlsOptions = { ...DEFAULT_TLS_OPTIONS, alpnProtocols: [...DEFAULT_TLS_OPTIONS.alpnProtocols], sniStrict: true };

let pebble: PebbleServer;
let underTest: ManagerUnderTest;
let entryPoint: EntryPoint;
let securePort = 0;

beforeAll(async () => {
  securePort = await freePort();
  pebble = await startPebble({ tlsPort: securePort });
  const { dnsChallenge: _unused, ...base } = resolverConfig(pebble, join(storageDirectory(), 'acme.json'));
  underTest = await startManager(pebble, [{ ...base, tlsChallenge: true }], {});
  entryPoint = new EntryPoint({
    name: 'websecure',
    address: `127.0.0.1:${securePort}`,
    logger: silentLogger(),
    handler: (_request, response) => void response.writeHead(404).end(),
    tls: { store: underTest.store, optionsFor: () => STRICT_OPTIONS },
  });
  await entryPoint.listen();
});

afterAll(async () => {
  underTest?.stop();
  await entryPoint?.close(0);
  await pebble?.stop();
});

/** Completes a TLS handshake for `servername` and returns the DNS names of the certificate served. */
function servedNames(servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: securePort, servername, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()?.subjectAltName ?? '');
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

test('TLS-ALPN-01 certificate for app.example.test', async () => {
  underTest.manager.onRuntime(runtimeWithRouters({ app: { rule: 'Host(`app.example.test`)', tls: { certResolver: 'le' } } }));
  await waitForCertificate(underTest.store, ['app.example.test']);
  expect(underTest.manager.status()[0]?.errors).toEqual([]);
  expect(underTest.manager.status()[0]?.orders[0]?.lastError).toBeUndefined();

  expect(await servedNames('app.example.test')).toBe('DNS:app.example.test');
}, 60_000);

test('acme-tls/1 is rejected once the order is done', async () => {
  // Without a pending challenge, acme-tls/1 is no protocol the entry point serves (RFC 7301 section 3.2).
  const handshake = new Promise<void>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: securePort, servername: 'app.example.test', ALPNProtocols: ['acme-tls/1'], rejectUnauthorized: false }, () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });
  await expect(handshake).rejects.toThrow(/no application protocol/);
});
