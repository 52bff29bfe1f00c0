// The whole path through the `berth` binary: a labelled container requests a certificate with
// `tls.certresolver`, Berth obtains it from pebble through DNS-01 on the Cloudflare fake, serves it
// over HTTPS to a client that trusts only pebble's root, shows it in the API, and after a restart
// serves it again without ordering. A router without tls labels on an entry point whose `http.tls`
// names the resolver gets a certificate too.

import { mkdtempSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';

import { type BerthProcess, apiGet, printBerthLogsOnFailure, startBerth } from './harness/berth.js';
import { type CloudflareFake, startCloudflareFake } from './harness/cloudflare-fake.js';
import { TestDocker, freePort } from './harness/containers.js';
import { hostRouterLabels } from './harness/labels.js';
import { type PebbleServer, startPebble } from './harness/pebble.js';
import { waitFor } from './harness/wait.js';

const docker = new TestDocker(inject('dockerSocket'));
const TOKEN = 'tok_PLACEHOLDER';
let pebble: PebbleServer;
let cloudflare: CloudflareFake;
let berth: BerthProcess | undefined;
let storage: string;

printBerthLogsOnFailure(() => berth);

beforeAll(async () => {
  await docker.removeAll();
  pebble = await startPebble();
  cloudflare = await startCloudflareFake({ challtestsrvUrl: pebble.challtestsrvUrl, zones: ['example.test'], tokens: { [TOKEN]: { zoneRead: true, dnsEdit: true } } });
  storage = join(mkdtempSync(join(tmpdir(), 'berth-acme-e2e-')), 'acme.json');
});

afterAll(async () => {
  await berth?.stop();
  await docker.removeAll();
  await cloudflare?.close();
  await pebble?.stop();
});

/** Starts Berth with resolver `le` on pebble, storing in `storagePath`, with `args` appended. */
function start(storagePath = storage, args: string[] = []): Promise<BerthProcess> {
  return startBerth({
    dockerSocket: inject('dockerSocket'),
    args: [
      `--certificatesresolvers.le.acme.caserver=${pebble.directoryUrl}`,
      `--certificatesresolvers.le.acme.storage=${storagePath}`,
      '--certificatesresolvers.le.acme.email=ops@example.test',
      '--certificatesresolvers.le.acme.dnschallenge.provider=cloudflare',
      `--certificatesresolvers.le.acme.dnschallenge.resolvers=${pebble.dnsServer}`,
      ...args,
    ],
    env: { CF_DNS_API_TOKEN: TOKEN, CF_API_BASE_URL: cloudflare.baseUrl, NODE_EXTRA_CA_CERTS: pebble.listenerCaPath },
  });
}

/** Sends GET / over TLS with SNI `host`, trusting only `caPem`, and returns the status, body and peer certificate serial. */
function httpsGet(port: number, host: string, caPem: string): Promise<{ status: number; body: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest({ host: '127.0.0.1', port, servername: host, headers: { host }, path: '/', ca: caPem, agent: false, timeout: 5_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, serial: (response.socket as TLSSocket).getPeerCertificate().serialNumber ?? '' }));
    });
    request.on('timeout', () => request.destroy(new Error('HTTPS request timed out')));
    request.on('error', reject);
    request.end();
  });
}

interface CertificateJson {
  source: string;
  sans: string[];
  resolver?: string;
  acmeStatus?: string;
}

describe('berth with an ACME resolver', () => {
  test('obtains, serves and shows a certificate', async () => {
    const port = await freePort();
    await docker.runHttpContainer({
      name: 'acme-app',
      port,
      body: 'hello over TLS',
      labels: { ...hostRouterLabels('app', 'app.example.test', port), 'traefik.http.routers.app.tls.certresolver': 'le' },
    });
    berth = await start();
    const root = await pebble.root();
    const webPort = berth.webPort;

    const response = await waitFor(() => httpsGet(webPort, 'app.example.test', root), { timeoutMs: 30_000, intervalMs: 250, description: 'HTTPS with a certificate from pebble' });
    expect(response.status).toBe(200);
    expect(response.body).toBe('hello over TLS');
    expect(statSync(storage).mode & 0o777).toBe(0o600);

    const certificates = await apiGet<CertificateJson[]>(berth, '/api/certificates');
    const acme = certificates.find((item) => item.resolver === 'le');
    expect(acme?.sans).toEqual(['app.example.test']);
    expect(acme?.acmeStatus).toBe('valid');
    for (const path of ['/api/certificates', '/api/certificateresolvers', '/api/rawdata']) {
      expect(JSON.stringify(await apiGet(berth, path)), path).not.toContain(TOKEN);
    }
    expect(berth.logs()).not.toContain(TOKEN);
  });

  test('restart serves without ordering', async () => {
    const root = await pebble.root();
    const before = await httpsGet(berth?.webPort ?? 0, 'app.example.test', root);
    await berth?.stop();
    const callsBefore = cloudflare.calls.length;

    berth = await start();
    const webPort = berth.webPort;
    const after = await waitFor(() => httpsGet(webPort, 'app.example.test', root), { timeoutMs: 10_000, intervalMs: 100, description: 'HTTPS after restart' });
    expect(after.serial).toBe(before.serial);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(cloudflare.calls.slice(callsBefore).filter((call) => call.method !== 'GET')).toEqual([]);
  });
});

describe('berth with an entry point resolver', () => {
  // Before, only a router's own tls.certresolver was read, so this router served the default certificate.
  test('router without tls labels gets a certificate', async () => {
    await berth?.stop();
    await docker.removeAll();
    const port = await freePort();
    const securePort = await freePort();
    await docker.runHttpContainer({ name: 'acme-entrypoint-app', port, body: 'hello from the entry point', labels: hostRouterLabels('ep', 'ep.example.test', port) });
    berth = await start(join(mkdtempSync(join(tmpdir(), 'berth-acme-e2e-')), 'acme.json'), [
      `--entrypoints.websecure.address=127.0.0.1:${securePort}`,
      '--entrypoints.websecure.http.tls.certresolver=le',
    ]);
    const root = await pebble.root();

    const response = await waitFor(() => httpsGet(securePort, 'ep.example.test', root), { timeoutMs: 30_000, intervalMs: 250, description: 'HTTPS on websecure with a certificate from pebble' });
    expect(response.status).toBe(200);
    expect(response.body).toBe('hello from the entry point');

    const certificates = await apiGet<CertificateJson[]>(berth, '/api/certificates');
    expect(certificates.filter((item) => item.resolver === 'le').map((item) => item.sans)).toEqual([['ep.example.test']]);
  });
});
