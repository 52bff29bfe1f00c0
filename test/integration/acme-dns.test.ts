// DNS-01 end to end, in-process. The certificate manager orders from a local pebble and creates
// TXT records through the real Cloudflare SDK against a local fake of the v4 API. The fake
// publishes them to challtestsrv, where pebble and the propagation check read them.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { type CloudflareFake, startCloudflareFake } from './harness/cloudflare-fake.js';
import { type ManagerUnderTest, chainsTo, resolverConfig, runtimeWithRouters, startManager, storageDirectory, waitForCertificate } from './harness/acme-manager.js';
import { type PebbleServer, startPebble } from './harness/pebble.js';
import { waitFor } from './harness/wait.js';

let pebble: PebbleServer;
let cloudflare: CloudflareFake;
let storage: string;
let running: ManagerUnderTest | undefined;

const ENV = (): Record<string, string> => ({ CF_DNS_API_TOKEN: 'tok-dns', CF_API_BASE_URL: cloudflare.baseUrl });

interface StoredFile {
  le: { Account: { Registration: { uri: string } }; Certificates: Array<{ domain: { main: string; sans?: string[] }; certificate: string; key: string; Store: string }>; BerthDnsRecords?: unknown[] };
}

function readStorage(): StoredFile {
  return JSON.parse(readFileSync(storage, 'utf8')) as StoredFile;
}

beforeAll(async () => {
  pebble = await startPebble();
  cloudflare = await startCloudflareFake({ challtestsrvUrl: pebble.challtestsrvUrl, zones: ['example.test'], tokens: { 'tok-dns': { zoneRead: true, dnsEdit: true } } });
  storage = join(storageDirectory(), 'acme.json');
});

afterAll(async () => {
  running?.stop();
  await cloudflare?.close();
  await pebble?.stop();
});

describe('ACME DNS-01 with Cloudflare', () => {
  test('certificate for app.example.test', async () => {
    running = await startManager(pebble, [resolverConfig(pebble, storage)], ENV());
    running.manager.onRuntime(runtimeWithRouters({ app: { rule: 'Host(`app.example.test`)', tls: { certResolver: 'le' } } }));

    await waitForCertificate(running.store, ['app.example.test']);
    expect(running.store.covers('app.example.test')).toBe(true);

    // The storage file is private and in Traefik's layout, and its chain leads to pebble's root.
    expect(statSync(storage).mode & 0o777).toBe(0o600);
    const stored = readStorage();
    expect(stored.le.Account.Registration.uri).toContain('127.0.0.1');
    const entry = stored.le.Certificates.find((item) => item.domain.main === 'app.example.test');
    expect(entry?.Store).toBe('default');
    const chain = Buffer.from(entry?.certificate ?? '', 'base64').toString('utf8');
    expect(chainsTo(chain, await pebble.root())).toBe(true);
    expect(Buffer.from(entry?.key ?? '', 'base64').toString('utf8')).toContain('PRIVATE KEY');
    expect(stored.le.BerthDnsRecords ?? []).toEqual([]);

    // The challenge record is gone again.
    expect(cloudflare.records()).toEqual([]);
    const status = running.manager.status()[0];
    expect(status?.errors).toEqual([]);
    expect(status?.orders).toEqual([]);
    expect(status?.certificates.map((item) => item.status)).toEqual(['valid']);
  });

  test('apex and wildcard share one name', async () => {
    const unrelated = await cloudflare.addRecord('example.test', '_acme-challenge.example.test', 'someone-elses-value');
    const callsBefore = cloudflare.calls.length;

    running?.manager.onRuntime(
      runtimeWithRouters({
        app: { rule: 'Host(`app.example.test`)', tls: { certResolver: 'le' } },
        apex: { rule: 'Host(`example.test`)', tls: { certResolver: 'le', domains: [{ main: 'example.test', sans: ['*.example.test'] }] } },
      }),
    );
    if (running === undefined) throw new Error('the first test did not start the manager');
    await waitForCertificate(running.store, ['example.test', '*.example.test']);

    const calls = cloudflare.calls.slice(callsBefore);
    const creates = calls.filter((call) => call.method === 'POST');
    const deletes = calls.filter((call) => call.method === 'DELETE');
    expect(creates).toHaveLength(2);
    const contents = creates.map((call) => (call.body as { content: string }).content);
    expect(new Set(contents).size).toBe(2);
    for (const call of creates) expect((call.body as { name: string }).name).toBe('_acme-challenge.example.test');

    // Both values and the unrelated one were present when the first deletion arrived, which is after validation.
    const firstDelete = calls.findIndex((call) => call.method === 'DELETE');
    expect(calls.slice(0, firstDelete).filter((call) => call.method === 'POST')).toHaveLength(2);
    for (const content of [...contents, 'someone-elses-value']) {
      expect(deletes[0]?.txtBefore).toContain(`_acme-challenge.example.test=${content}`);
    }

    // Exactly the two created records were deleted, by their IDs.
    expect(deletes).toHaveLength(2);
    const createdIds = creates.map((call) => (call.result as { id: string }).id).sort();
    const deletedIds = deletes.map((call) => call.path.split('/').at(-1)).sort();
    expect(deletedIds).toEqual(createdIds);
    expect(deletedIds).not.toContain(unrelated.id);
    expect(cloudflare.records().map((record) => record.id)).toEqual([unrelated.id]);
  });

  test('wildcard reused for a matching host', async () => {
    if (running === undefined) throw new Error('the first test did not start the manager');
    const callsBefore = cloudflare.calls.length;
    running.manager.onRuntime(
      runtimeWithRouters({
        app: { rule: 'Host(`app.example.test`)', tls: { certResolver: 'le' } },
        apex: { rule: 'Host(`example.test`)', tls: { certResolver: 'le', domains: [{ main: 'example.test', sans: ['*.example.test'] }] } },
        www: { rule: 'Host(`www.example.test`)', tls: { certResolver: 'le' } },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(cloudflare.calls.slice(callsBefore).filter((call) => call.method === 'POST')).toEqual([]);
    expect(running.manager.status()[0]?.orders).toEqual([]);
    expect(running.store.covers('www.example.test')).toBe(true);
  });

  test('restart orders nothing', async () => {
    running?.stop();
    const callsBefore = cloudflare.calls.length;
    const certificatesBefore = readStorage().le.Certificates.map((item) => item.certificate);

    running = await startManager(pebble, [resolverConfig(pebble, storage)], ENV());
    expect(running.store.covers('app.example.test')).toBe(true);
    expect(running.store.covers('www.example.test')).toBe(true);
    running.manager.onRuntime(
      runtimeWithRouters({
        app: { rule: 'Host(`app.example.test`)', tls: { certResolver: 'le' } },
        apex: { rule: 'Host(`example.test`)', tls: { certResolver: 'le', domains: [{ main: 'example.test', sans: ['*.example.test'] }] } },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(cloudflare.calls.slice(callsBefore).filter((call) => call.method !== 'GET')).toEqual([]);
    expect(readStorage().le.Certificates.map((item) => item.certificate)).toEqual(certificatesBefore);
    expect(running.manager.status()[0]?.orders).toEqual([]);
  });

  test('crash leftovers deleted at start', async () => {
    running?.stop();
    const zone = cloudflare.zone('example.test');
    const leftover = await cloudflare.addRecord('example.test', '_acme-challenge.gone.example.test', 'left-by-a-crash');
    const unrelated = await cloudflare.addRecord('example.test', '_acme-challenge.gone.example.test', 'not-berths');
    const path = join(storageDirectory(), 'acme.json');
    const record = { provider: 'cloudflare', zoneId: zone.id, recordId: leftover.id, name: leftover.name };
    writeFileSync(path, JSON.stringify({ le: { Account: null, Certificates: [], BerthDnsRecords: [record] } }), { mode: 0o600 });

    running = await startManager(pebble, [resolverConfig(pebble, path)], ENV());
    await waitFor(() => !cloudflare.records().some((item) => item.id === leftover.id), { timeoutMs: 5_000, description: 'the leftover record deleted' });
    expect(cloudflare.records().some((item) => item.id === unrelated.id)).toBe(true);
    // The journal entry goes once the deletion is done.
    await waitFor(() => (JSON.parse(readFileSync(path, 'utf8')) as StoredFile).le.BerthDnsRecords?.length === 0, { timeoutMs: 5_000, description: 'an empty record journal' });
  });

  test('token without Zone:Read named', async () => {
    const fake = await startCloudflareFake({ challtestsrvUrl: pebble.challtestsrvUrl, zones: ['example.test'], tokens: { 'tok-dns-only': { dnsEdit: true } } });
    try {
      const manager = await startManager(pebble, [resolverConfig(pebble, join(storageDirectory(), 'acme.json'))], {
        CF_DNS_API_TOKEN: 'tok-dns-only',
        CF_API_BASE_URL: fake.baseUrl,
      });
      await waitFor(() => (manager.manager.status()[0]?.errors ?? []).length > 0, { timeoutMs: 5_000 });
      const errors = manager.manager.status()[0]?.errors ?? [];
      expect(errors.join('\n')).toContain('Zone:Read');
      expect(errors.join('\n')).not.toContain('tok-dns-only');
      expect(fake.calls.some((call) => call.path === '/zones' && call.status === 403)).toBe(true);

      // An order for a router fails with the same reason and waits before retrying.
      manager.manager.onRuntime(runtimeWithRouters({ app: { rule: 'Host(`app.example.test`)', tls: { certResolver: 'le' } } }));
      await waitFor(() => (manager.manager.status()[0]?.orders[0]?.lastError ?? '').includes('Zone:Read'), { timeoutMs: 5_000 });
      manager.stop();
    } finally {
      await fake.close();
    }
  });
});
