// Renewal and protocol details against pebble: short-lived certificates renewed on time, badNonce
// retried, external account binding, preferred chains, and a storage file Berth must not trust.

import { createPrivateKey } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { setLogger } from 'acme-client';
import { afterAll, afterEach, describe, expect, test } from 'vitest';

import { type CloudflareFake, startCloudflareFake } from './harness/cloudflare-fake.js';
import { type ManagerUnderTest, resolverConfig, runtimeWithRouters, startManager, storageDirectory, waitForCertificate } from './harness/acme-manager.js';
import { type PebbleServer, httpsGet, startPebble } from './harness/pebble.js';
import { waitFor } from './harness/wait.js';

const APP = { app: { rule: 'Host(`app.example.test`)', tls: { certResolver: 'le' } } };

const pebbles: PebbleServer[] = [];
let cloudflare: CloudflareFake | undefined;
let running: ManagerUnderTest | undefined;

async function pebbleWith(options: Parameters<typeof startPebble>[0]): Promise<PebbleServer> {
  const pebble = await startPebble(options);
  pebbles.push(pebble);
  await cloudflare?.close();
  cloudflare = await startCloudflareFake({ challtestsrvUrl: pebble.challtestsrvUrl, zones: ['example.test'], tokens: { tok: { zoneRead: true, dnsEdit: true } } });
  return pebble;
}

function env(): Record<string, string> {
  return { CF_DNS_API_TOKEN: 'tok', CF_API_BASE_URL: cloudflare?.baseUrl ?? '' };
}

afterEach(() => {
  running?.stop();
  running = undefined;
});

afterAll(async () => {
  await cloudflare?.close();
  await Promise.all(pebbles.map((pebble) => pebble.stop()));
});

describe('renewal', () => {
  test('short-lived certificate renewed', async () => {
    // Six seconds of validity puts the renewal time, a third before the end, four seconds after issuance.
    const pebble = await pebbleWith({ certificateValidityPeriodS: 6 });
    running = await startManager(pebble, [resolverConfig(pebble, join(storageDirectory(), 'acme.json'))], env());
    running.manager.onRuntime(runtimeWithRouters(APP));

    const first = await waitForCertificate(running.store, ['app.example.test']);
    const manager = running.manager;
    const renewed = await waitFor(
      () => {
        const certificate = manager.status()[0]?.certificates[0];
        return certificate !== undefined && `${certificate.notBefore}|${certificate.notAfter}|${certificate.issuer}` !== first ? certificate : false;
      },
      { timeoutMs: 20_000, intervalMs: 200, description: 'a renewed certificate' },
    );
    expect(renewed.renewalSource).toBe('lifetime');
    expect(manager.status()[0]?.certificates).toHaveLength(1);
  });

  test('failed renewal keeps the certificate', async () => {
    const pebble = await pebbleWith({ certificateValidityPeriodS: 9 });
    running = await startManager(pebble, [resolverConfig(pebble, join(storageDirectory(), 'acme.json'))], env());
    running.manager.onRuntime(runtimeWithRouters(APP));
    await waitForCertificate(running.store, ['app.example.test']);

    // Without the DNS provider the renewal fails; the old certificate stays and the error is visible.
    await cloudflare?.close();
    const manager = running.manager;
    const failed = await waitFor(
      () => {
        const certificate = manager.status()[0]?.certificates[0];
        return certificate?.status === 'renewal failed' ? certificate : false;
      },
      { timeoutMs: 20_000, intervalMs: 200, description: 'a failed renewal' },
    );
    expect(failed.lastError).toBeTruthy();
    expect(failed.nextAttemptAt).toBeDefined();
    expect(running.store.covers('app.example.test')).toBe(true);
    cloudflare = undefined;
  });
});

describe('renewal information', () => {
  test('ARI window sets the renewal time', async () => {
    // Pebble 2.4 has no renewalInfo, so a small server adds it to a copy of pebble's directory.
    // NOTE: the renewal order itself is not run here, because pebble 2.4 stops responding after an
    // order that carries the ARI `replaces` field, which a CA that lists renewalInfo must accept.
    const pebble = await pebbleWith({});
    const directory = JSON.parse((await httpsGet(pebble.directoryUrl, pebble.listenerCaPem)).body) as Record<string, unknown>;
    const asked: string[] = [];
    const windowStart = Date.now() + 2 * 86_400_000;
    const ari = createServer((request, response) => {
      if (request.url === '/dir') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ...directory, renewalInfo: `http://127.0.0.1:${(ari.address() as AddressInfo).port}/renewal-info` }));
        return;
      }
      asked.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'application/json', 'retry-after': '3600' });
      response.end(JSON.stringify({ suggestedWindow: { start: new Date(windowStart).toISOString(), end: new Date(windowStart + 86_400_000).toISOString() } }));
    });
    await new Promise<void>((resolve) => ari.listen(0, '127.0.0.1', resolve));

    try {
      const caServer = `http://127.0.0.1:${(ari.address() as AddressInfo).port}/dir`;
      running = await startManager(pebble, [resolverConfig(pebble, join(storageDirectory(), 'acme.json'), { caServer })], env());
      running.manager.onRuntime(runtimeWithRouters(APP));
      await waitForCertificate(running.store, ['app.example.test']);

      const manager = running.manager;
      const certificate = await waitFor(
        () => {
          const held = manager.status()[0]?.certificates[0];
          return held?.renewalSource === 'ari' ? held : false;
        },
        { timeoutMs: 5_000, description: 'a renewal time from ARI' },
      );
      // Pebble's certificates last five years, so without ARI the renewal would be years away.
      const renewAt = new Date(certificate.renewAt).getTime();
      expect(renewAt).toBeGreaterThanOrEqual(windowStart);
      expect(renewAt).toBeLessThanOrEqual(windowStart + 86_400_000);
      expect(asked).toHaveLength(1);
      expect(asked[0]).toMatch(/^\/renewal-info\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    } finally {
      await new Promise((resolve) => ari.close(resolve));
    }
  });
});

describe('protocol', () => {
  test('badNonce retried', async () => {
    const retries: string[] = [];
    setLogger((message) => {
      if (message.includes('invalid nonce')) retries.push(message);
    });
    const pebble = await pebbleWith({ rejectNonces: 30 });
    running = await startManager(pebble, [resolverConfig(pebble, join(storageDirectory(), 'acme.json'))], env());

    // Pebble rejects each nonce with a 30 % chance, so one order of about a dozen requests can pass
    // with no rejection at all (about 1 % of runs). Further orders make a run without any retry
    // practically impossible, while each order is still expected to succeed.
    const routers: Record<string, { rule: string; tls: { certResolver: string } }> = {};
    for (const name of ['app', 'one', 'two', 'three']) {
      routers[name] = { rule: `Host(\`${name}.example.test\`)`, tls: { certResolver: 'le' } };
      running.manager.onRuntime(runtimeWithRouters(routers));
      await waitForCertificate(running.store, [`${name}.example.test`]);
      expect(running.manager.status()[0]?.orders).toEqual([]);
      if (retries.length > 0) break;
    }
    setLogger(() => undefined);
    expect(retries.length).toBeGreaterThan(0);
  });

  test('external account binding', async () => {
    const hmac = Buffer.from('a secret HMAC key of 32 bytes!!!').toString('base64url');
    const pebble = await pebbleWith({ eabKeys: { 'kid-1': hmac } });
    const storage = join(storageDirectory(), 'acme.json');

    running = await startManager(pebble, [resolverConfig(pebble, storage, { eab: { kid: 'kid-1', hmacEncoded: hmac }, keyType: 'RSA2048' })], env());
    running.manager.onRuntime(runtimeWithRouters(APP));
    await waitForCertificate(running.store, ['app.example.test']);
    expect(readFileSync(storage, 'utf8')).not.toContain(hmac);

    // The key type applies to the certificate's key.
    const stored = JSON.parse(readFileSync(storage, 'utf8')) as { le: { Certificates: Array<{ key: string }> } };
    const key = createPrivateKey(Buffer.from(stored.le.Certificates[0]?.key ?? '', 'base64').toString('utf8'));
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  test('preferred chain picked', async () => {
    const pebble = await pebbleWith({ alternateRoots: 1 });
    const alternateRoot = await pebble.root(1);
    const { X509Certificate } = await import('node:crypto');
    const alternateName = /CN=([^\n]*)/.exec(new X509Certificate(alternateRoot).subject)?.[1] ?? '';
    const storage = join(storageDirectory(), 'acme.json');

    running = await startManager(pebble, [resolverConfig(pebble, storage, { preferredChain: alternateName })], env());
    running.manager.onRuntime(runtimeWithRouters(APP));
    await waitForCertificate(running.store, ['app.example.test']);

    const stored = JSON.parse(readFileSync(storage, 'utf8')) as { le: { Certificates: Array<{ certificate: string }> } };
    const chain = Buffer.from(stored.le.Certificates[0]?.certificate ?? '', 'base64').toString('utf8');
    const last = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.at(-1) ?? '';
    expect(new X509Certificate(last).issuer).toContain(alternateName);
  });
});

describe('storage', () => {
  test('wide mode serves but never writes', async () => {
    const pebble = await pebbleWith({});
    const storage = join(storageDirectory(), 'acme.json');
    running = await startManager(pebble, [resolverConfig(pebble, storage)], env());
    running.manager.onRuntime(runtimeWithRouters(APP));
    await waitForCertificate(running.store, ['app.example.test']);
    running.stop();

    chmodSync(storage, 0o644);
    const before = readFileSync(storage, 'utf8');
    running = await startManager(pebble, [resolverConfig(pebble, storage)], env());
    running.manager.onRuntime(runtimeWithRouters({ ...APP, other: { rule: 'Host(`other.example.test`)', tls: { certResolver: 'le' } } }));
    const manager = running.manager;
    await waitFor(() => manager.status()[0]?.orders[0]?.status === 'failed', { timeoutMs: 5_000 });

    const status = manager.status()[0];
    expect(status?.errors.join('\n')).toContain('chmod 600');
    expect(status?.orders[0]?.lastError).toContain('mode 0644');
    expect(running.store.covers('app.example.test')).toBe(true);
    expect(readFileSync(storage, 'utf8')).toBe(before);
  });

  test('invalid JSON and directory reported', async () => {
    const pebble = await pebbleWith({});
    const directory = storageDirectory();
    const broken = join(directory, 'broken.json');
    writeFileSync(broken, '{"le": {', { mode: 0o600 });
    const folder = join(directory, 'folder.json');
    mkdirSync(folder);

    running = await startManager(pebble, [resolverConfig(pebble, broken), resolverConfig(pebble, folder, { name: 'other' })], env());
    running.manager.onRuntime(runtimeWithRouters({ ...APP, other: { rule: 'Host(`other.example.test`)', tls: { certResolver: 'other' } } }));
    const manager = running.manager;
    await waitFor(() => manager.status().every((resolver) => resolver.orders[0]?.status === 'failed'), { timeoutMs: 5_000 });

    const [first, second] = manager.status();
    expect(first?.errors.join('\n')).toContain('is not valid JSON');
    expect(second?.errors.join('\n')).toContain('is a directory');
    expect(readFileSync(broken, 'utf8')).toBe('{"le": {');
  });
});
