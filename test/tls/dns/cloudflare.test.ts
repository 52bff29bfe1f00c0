import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, test } from 'vitest';

import { cleanSecret, readCloudflareCredentials } from '../../../src/tls/dns/cloudflare-credentials.js';
import { CloudflareProvider } from '../../../src/tls/dns/cloudflare.js';
import { type CloudflareFake, startCloudflareFake } from '../../integration/harness/cloudflare-fake.js';

let fake: CloudflareFake | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function secretFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'berth-secret-')), 'token');
  writeFileSync(path, content);
  return path;
}

async function provider(env: Record<string, string>): Promise<CloudflareProvider> {
  return new CloudflareProvider(await readCloudflareCredentials(env));
}

describe('Cloudflare credentials', () => {
  test('secret cleaned of quotes and whitespace', () => {
    const cases: Array<[string, string]> = [
      ['"tok"\n', 'tok'],
      ["'tok'", 'tok'],
      ['  tok \r\n', 'tok'],
      ['tok"', 'tok"'],
    ];
    for (const [input, expected] of cases) expect(cleanSecret(input), JSON.stringify(input)).toBe(expected);
  });

  test('token file with quotes sent as bearer', async () => {
    fake = await startCloudflareFake({ zones: ['example.test'], tokens: { tok: { zoneRead: true, dnsEdit: true } } });
    const cloudflare = await provider({ CF_DNS_API_TOKEN_FILE: secretFile('"tok"\n'), CF_API_BASE_URL: fake.baseUrl });
    await cloudflare.check();
    expect(fake.calls.map((call) => call.authorization)).toContain('Bearer tok');
    expect(fake.calls.every((call) => call.authorization === 'Bearer tok')).toBe(true);
  });

  test('aliases and base URL variable', async () => {
    fake = await startCloudflareFake({ zones: ['example.test'], tokens: { tok: { zoneRead: true, dnsEdit: true } } });
    const cloudflare = await provider({ CLOUDFLARE_DNS_API_TOKEN: 'tok', CLOUDFLARE_BASE_URL: fake.baseUrl });
    expect((await cloudflare.findZone('a.b.example.test')).name).toBe('example.test');
    expect(fake.calls.filter((call) => call.path === '/zones').map((call) => call.query.name)).toEqual(['a.b.example.test', 'b.example.test', 'example.test']);
  });

  test('zone token used for zone lookups', async () => {
    fake = await startCloudflareFake({ zones: ['example.test'], tokens: { dns: { dnsEdit: true }, zone: { zoneRead: true } } });
    const cloudflare = await provider({ CF_DNS_API_TOKEN: 'dns', CF_ZONE_API_TOKEN: 'zone', CF_API_BASE_URL: fake.baseUrl });
    await cloudflare.check();
    const zone = await cloudflare.findZone('app.example.test');
    const record = await cloudflare.createTxt(zone, '_acme-challenge.app.example.test', 'value');
    await cloudflare.deleteTxt(record);

    expect(fake.calls.filter((call) => call.path === '/zones').every((call) => call.authorization === 'Bearer zone')).toBe(true);
    expect(fake.calls.filter((call) => call.path.includes('dns_records')).every((call) => call.authorization === 'Bearer dns')).toBe(true);
  });

  test('global API key', async () => {
    fake = await startCloudflareFake({ zones: ['example.test'], apiKeys: { 'ops@example.test': 'key-1' } });
    const cloudflare = await provider({ CF_API_EMAIL: 'ops@example.test', CF_API_KEY_FILE: secretFile('key-1\n'), CF_API_BASE_URL: fake.baseUrl });
    await cloudflare.check();
    expect(fake.calls[0]?.authEmail).toBe('ops@example.test');
    expect(fake.calls[0]?.authKey).toBe('key-1');
    expect(fake.calls[0]?.authorization).toBeUndefined();
  });

  test('missing Zone:Read named', async () => {
    fake = await startCloudflareFake({ zones: ['example.test'], tokens: { tok: { dnsEdit: true } } });
    const cloudflare = await provider({ CF_DNS_API_TOKEN: 'tok', CF_API_BASE_URL: fake.baseUrl });
    await expect(cloudflare.check()).rejects.toThrow(/lacks Zone:Read/);
    await expect(cloudflare.findZone('app.example.test')).rejects.toThrow(/GET \/zones\?name=app\.example\.test with status 403.*lacks Zone:Read/);
  });

  test('missing DNS:Edit named', async () => {
    fake = await startCloudflareFake({ zones: ['example.test'], tokens: { tok: { zoneRead: true } } });
    const cloudflare = await provider({ CF_DNS_API_TOKEN: 'tok', CF_API_BASE_URL: fake.baseUrl });
    const zone = await cloudflare.findZone('example.test');
    await expect(cloudflare.createTxt(zone, '_acme-challenge.example.test', 'v')).rejects.toThrow(/lacks DNS:Edit for zone example\.test/);
  });

  test('unknown token rejected', async () => {
    fake = await startCloudflareFake({ zones: ['example.test'], tokens: {} });
    const cloudflare = await provider({ CF_DNS_API_TOKEN: 'tok_PLACEHOLDER', CF_API_BASE_URL: fake.baseUrl });
    const error = await cloudflare.check().then(
      () => new Error('expected a rejection'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toContain('CF_DNS_API_TOKEN');
    expect(error.message).not.toContain('tok_PLACEHOLDER');
  });

  test('credential problems named', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'Cloudflare credentials are missing'],
      [{ CF_API_EMAIL: 'ops@example.test' }, 'CF_API_KEY is not set'],
      [{ CF_ZONE_API_TOKEN: 'zone' }, 'CF_DNS_API_TOKEN is not'],
      [{ CF_DNS_API_TOKEN: 'a', CF_DNS_API_TOKEN_FILE: '/nonexistent' }, 'keep only one'],
      [{ CF_DNS_API_TOKEN_FILE: '/nonexistent/token' }, 'Cannot read /nonexistent/token'],
      [{ CF_DNS_API_TOKEN_FILE: secretFile('""\n') }, 'is empty'],
    ];
    for (const [env, message] of cases) {
      await expect(readCloudflareCredentials(env), JSON.stringify(env)).rejects.toThrow(message);
    }
  });

  test('records added, deleted by ID only', async () => {
    fake = await startCloudflareFake({ zones: ['example.test'], tokens: { tok: { zoneRead: true, dnsEdit: true } } });
    const other = await fake.addRecord('example.test', '_acme-challenge.example.test', 'theirs');
    const cloudflare = await provider({ CF_DNS_API_TOKEN: 'tok', CF_API_BASE_URL: fake.baseUrl });
    const zone = await cloudflare.findZone('example.test');

    const first = await cloudflare.createTxt(zone, '_acme-challenge.example.test', 'one');
    const second = await cloudflare.createTxt(zone, '_acme-challenge.example.test', 'two');
    expect(fake.records().map((record) => record.content).sort()).toEqual(['one', 'theirs', 'two']);

    await cloudflare.deleteTxt(first);
    await cloudflare.deleteTxt(second);
    // A second delete of the same record counts as done.
    await cloudflare.deleteTxt(second);
    expect(fake.records().map((record) => record.id)).toEqual([other.id]);
  });
});
