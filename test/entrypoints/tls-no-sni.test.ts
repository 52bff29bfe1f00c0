// TLS handshakes without a server name (SNI) get the default certificate and options. Clients that
// connect to an IP address send no SNI, because RFC 6066 section 3 allows only host names in it.
import { connect } from 'node:tls';
import { afterAll, beforeAll, expect, test } from 'vitest';

import { EntryPoint } from '../../src/entrypoints/server.js';
import { silentLogger } from '../../src/observability/logger.js';
import { buildTlsOptionsSelector } from '../../src/tls/options-by-host.js';
import { DEFAULT_TLS_OPTIONS } from '../../src/tls/options.js';
import { MemoryCertificateStore } from '../../src/tls/store.js';

let entryPoint: EntryPoint;
let port: number;

beforeAll(async () => {
  const store = await MemoryCertificateStore.create();
  const selector = buildTlsOptionsSelector([], new Map([['default', DEFAULT_TLS_OPTIONS]]));
  entryPoint = new EntryPoint({
    name: 'websecure',
    address: '127.0.0.1:0',
    logger: silentLogger(),
    handler: (_request, response) => {
      response.end('ok');
    },
    tls: { store, optionsFor: (serverName) => selector.forServerName(serverName) },
  });
  port = (await entryPoint.listen()).port;
});

afterAll(async () => {
  await entryPoint.close(0);
});

/** Connects without SNI, offering `alpn`, and returns the negotiated protocol (false when none). */
function handshake(alpn: string[] | undefined): Promise<string | false | null> {
  return new Promise((resolve, reject) => {
    // Node.js sends no SNI extension when the host is an IP address.
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(alpn ? { ALPNProtocols: alpn } : {}) }, () => {
      const protocol = socket.alpnProtocol;
      socket.destroy();
      resolve(protocol);
    });
    socket.once('error', reject);
  });
}

test.each([
  { offered: 'h2 and http/1.1', alpn: ['h2', 'http/1.1'], expected: 'h2' },
  { offered: 'http/1.1', alpn: ['http/1.1'], expected: 'http/1.1' },
  { offered: 'no protocol', alpn: undefined, expected: false },
])('no-SNI handshake offering $offered', async ({ alpn, expected }) => {
  await expect(handshake(alpn)).resolves.toBe(expected);
});
