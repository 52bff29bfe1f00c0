// Certificate selection by server name: exact name, then a one-label wildcard, then the default.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { DEFAULT_CERTIFICATE_NAME, generateDefaultCertificate } from '../../src/tls/default-certificate.js';
import { MemoryCertificateStore } from '../../src/tls/store.js';
import type { CertificateEntry } from '../../src/tls/types.js';

let directory: string;
let store: MemoryCertificateStore;

/** Makes a self-signed certificate for `names` with openssl, valid from `days` ago for `lifetime` days. */
function certificate(names: string[], source = 'file', options: { days?: number } = {}): CertificateEntry {
  const base = join(directory, `${names[0]?.replace('*', 'star') ?? 'none'}-${Math.random().toString(36).slice(2)}`);
  const san = names.map((name) => `DNS:${name}`).join(',');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${base}.key`, '-out', `${base}.crt`, '-days', String(options.days ?? 30),
    '-subj', `/CN=${names[0] ?? 'none'}`, ...(names.length > 0 ? ['-addext', `subjectAltName=${san}`] : []),
  ], { stdio: 'ignore' });
  return { certPem: readFileSync(`${base}.crt`, 'utf8'), keyPem: readFileSync(`${base}.key`, 'utf8'), source };
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'berth-store-'));
  store = await MemoryCertificateStore.create();
});

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('default certificate', () => {
  test('self-signed for a reserved name', async () => {
    const entry = await generateDefaultCertificate();
    const parsed = new X509Certificate(entry.certPem);

    expect(parsed.subject).toBe(`CN=${DEFAULT_CERTIFICATE_NAME}`);
    expect(parsed.issuer).toBe(parsed.subject);
    expect(parsed.subjectAltName).toMatch(/^DNS:[0-9a-f]{16}\.berth\.default\.invalid$/);
    expect(parsed.ca).toBe(false);
    expect(new Date(parsed.validTo).getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
  });

  test('each instance gets its own key', async () => {
    const [first, second] = await Promise.all([generateDefaultCertificate(), generateDefaultCertificate()]);
    expect(first.keyPem).not.toBe(second.keyPem);
  });
});

describe('SNI selection', () => {
  test('exact, wildcard, default', () => {
    const exact = certificate(['app.example.test']);
    const wildcard = certificate(['*.example.test']);
    expect(store.replace('file', [exact, wildcard])).toEqual([]);

    expect(store.lookup('app.example.test').entry).toBe(exact);
    expect(store.lookup('APP.Example.Test.').entry).toBe(exact);
    expect(store.lookup('other.example.test').entry).toBe(wildcard);
    // A wildcard covers one label only.
    expect(store.lookup('a.b.example.test').isDefault).toBe(true);
    expect(store.lookup('example.test').isDefault).toBe(true);
    expect(store.lookup(undefined).isDefault).toBe(true);
    expect(store.covers('other.example.test')).toBe(true);
    expect(store.covers('example.test')).toBe(false);
  });

  test('replace drops the old certificates of a source', () => {
    store.replace('acme:le', [certificate(['one.example.org'], 'acme:le')]);
    store.replace('acme:le', [certificate(['two.example.org'], 'acme:le')]);

    expect(store.covers('one.example.org')).toBe(false);
    expect(store.covers('two.example.org')).toBe(true);
    store.replace('acme:le', []);
    expect(store.covers('two.example.org')).toBe(false);
  });

  test('later expiry wins for one name', () => {
    const short = certificate(['renew.example.net'], 'a', { days: 10 });
    const long = certificate(['renew.example.net'], 'b', { days: 60 });
    store.replace('a', [short]);
    store.replace('b', [long]);

    expect(store.lookup('renew.example.net').entry).toBe(long);
    store.replace('a', []);
    store.replace('b', []);
  });

  test('invalid entries reported and skipped', () => {
    const good = certificate(['good.example.test']);
    const other = certificate(['other.example.test']);
    const problems = store.replace('mixed', [
      { certPem: 'not a certificate', keyPem: good.keyPem, source: 'mixed' },
      { certPem: good.certPem, keyPem: other.keyPem, source: 'mixed' },
      good,
    ]);

    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('certificate 1 of mixed is skipped: the certificate text contains no PEM certificate');
    expect(problems[1]).toContain('certificate 2 of mixed is skipped: the private key does not belong to the certificate');
    expect(store.covers('good.example.test')).toBe(true);
    store.replace('mixed', []);
  });

  test('list shows sources without keys', () => {
    store.replace('file', [certificate(['listed.example.test'])]);
    const listed = store.list();

    expect(listed[0]?.source).toBe('default');
    const entry = listed.find((item) => item.sans.includes('listed.example.test'));
    expect(entry?.status).toBe('valid');
    expect(JSON.stringify(listed)).not.toContain('PRIVATE KEY');
  });

  test('setDefault replaces and restores', () => {
    const changes: number[] = [];
    const stop = store.onChange(() => changes.push(1));
    const custom = certificate(['default.example.test'], 'file');

    expect(store.setDefault(custom)).toEqual([]);
    expect(store.lookup('nothing.example.test').entry).toBe(custom);
    expect(store.setDefault({ ...custom, keyPem: 'bad' })[0]).toContain('the default certificate is not replaced');
    store.setDefault(undefined);
    expect(store.lookup('nothing.example.test').entry.source).toBe('default');
    expect(changes.length).toBe(2);
    stop();
  });
});
