import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkCertificatePair, isInlinePem, loadCertificate } from '../../src/tls/certificates.js';
import { CertificateDirectory, type TestCertificate } from './openssl.js';

describe('loadCertificate', () => {
  const directory = new CertificateDirectory();
  let ec: TestCertificate;
  let rsa: TestCertificate;
  let other: TestCertificate;

  beforeAll(() => {
    ec = directory.create({ commonName: 'secure.example.test' });
    rsa = directory.create({ commonName: 'rsa.example.test', keyType: 'rsa' });
    other = directory.create({ commonName: 'other.example.test' });
  });
  afterAll(() => directory.remove());

  it('loads an EC pair from files', async () => {
    const loaded = await loadCertificate({ certFile: ec.certFile, keyFile: ec.keyFile }, { source: 'file' });
    expect(loaded.error).toBeUndefined();
    expect(loaded.warnings).toEqual([]);
    expect(loaded.entry).toEqual({ certPem: ec.certPem, keyPem: ec.keyPem, source: 'file' });
    expect(loaded.paths).toEqual([ec.certFile, ec.keyFile]);
  });

  it('loads an RSA pair', async () => {
    const loaded = await loadCertificate({ certFile: rsa.certFile, keyFile: rsa.keyFile }, { source: 'file' });
    expect(loaded.entry?.source).toBe('file');
  });

  it('loads inline PEM without paths', async () => {
    const loaded = await loadCertificate({ certFile: ec.certPem, keyFile: ec.keyPem }, { source: 'file' });
    expect(loaded.error).toBeUndefined();
    expect(loaded.paths).toEqual([]);
    expect(loaded.entry?.certPem.trim()).toBe(ec.certPem.trim());
  });

  it('resolves relative paths from the base directory', async () => {
    const loaded = await loadCertificate({ certFile: 'cert-1.crt', keyFile: 'cert-1.key' }, { source: 'file', baseDirectory: directory.path });
    expect(loaded.error).toBeUndefined();
  });

  it('rejects a key of another certificate', async () => {
    const loaded = await loadCertificate({ certFile: ec.certFile, keyFile: other.keyFile }, { source: 'file' });
    expect(loaded.entry).toBeUndefined();
    expect(loaded.error).toContain('does not belong to the first certificate');
  });

  it('names a missing file', async () => {
    const missing = join(directory.path, 'missing.crt');
    const loaded = await loadCertificate({ certFile: missing, keyFile: ec.keyFile }, { source: 'file' });
    expect(loaded.error).toBe(`certFile ${missing} does not exist`);
  });

  it('rejects a file that is not PEM', async () => {
    const garbage = join(directory.path, 'garbage.crt');
    writeFileSync(garbage, 'not a certificate\n');
    const loaded = await loadCertificate({ certFile: garbage, keyFile: ec.keyFile }, { source: 'file' });
    expect(loaded.error).toContain('certFile contains no PEM CERTIFICATE block');
  });

  it('rejects a key file without a key', async () => {
    const loaded = await loadCertificate({ certFile: ec.certFile, keyFile: ec.certFile }, { source: 'file' });
    expect(loaded.error).toContain('keyFile contains no PEM PRIVATE KEY block');
  });

  it('rejects an encrypted key', async () => {
    const encrypted = directory.create({ commonName: 'locked.example.test', passphrase: 'secret' });
    const loaded = await loadCertificate({ certFile: encrypted.certFile, keyFile: encrypted.keyFile }, { source: 'file' });
    expect(loaded.error).toContain('encrypted private key');
    expect(loaded.error).not.toContain('secret');
  });

  it('rejects a damaged certificate', async () => {
    const damaged = ec.certPem.replace(/\n([A-Za-z0-9+/]{10})/, '\n!!!!!!!!!!');
    const loaded = await loadCertificate({ certFile: damaged, keyFile: ec.keyPem }, { source: 'file' });
    expect(loaded.error).toContain('certificate 1 of the chain in certFile is invalid');
  });

  it('reports a missing value', async () => {
    const loaded = await loadCertificate({ certFile: ec.certFile, keyFile: '' }, { source: 'file' });
    expect(loaded.error).toBe('keyFile is missing; set it to a file path or to the PEM text');
  });

  it('never puts key material in messages', async () => {
    const loaded = await loadCertificate({ certFile: ec.certPem, keyFile: other.keyPem }, { source: 'file' });
    const keyBody = other.keyPem.split('\n')[1] ?? '';
    expect(loaded.error).not.toContain(keyBody);
  });
});

describe('checkCertificatePair', () => {
  const directory = new CertificateDirectory();
  afterAll(() => directory.remove());

  it('warns about expiry', () => {
    const certificate = directory.create({ commonName: 'soon.example.test', days: 1 });
    const checked = checkCertificatePair(certificate.certPem, certificate.keyPem, new Date(Date.now() + 3 * 86_400_000));
    expect(checked.error).toBeUndefined();
    expect(checked.warnings.join('\n')).toContain('the certificate expired on');
  });

  it('warns about a certificate without DNS names', () => {
    const certificate = directory.create({ commonName: 'no-san', dnsNames: [] });
    const checked = checkCertificatePair(certificate.certPem, certificate.keyPem, new Date());
    expect(checked.warnings).toEqual(['the certificate names no DNS name in subjectAltName, and browsers reject a certificate that names its host only in the common name']);
  });

  it('accepts a chain whose leaf matches the key', () => {
    const leaf = directory.create({ commonName: 'leaf.example.test' });
    const extra = directory.create({ commonName: 'extra.example.test' });
    const checked = checkCertificatePair(leaf.certPem + extra.certPem, leaf.keyPem, new Date());
    expect(checked).toEqual({ warnings: [] });
  });

  it('rejects a chain in the wrong order', () => {
    const leaf = directory.create({ commonName: 'leaf2.example.test' });
    const extra = directory.create({ commonName: 'extra2.example.test' });
    const checked = checkCertificatePair(extra.certPem + leaf.certPem, leaf.keyPem, new Date());
    expect(checked.error).toContain('chain starts with the server certificate');
  });
});

describe('isInlinePem', () => {
  it('tells PEM text from paths', () => {
    expect(isInlinePem('  -----BEGIN CERTIFICATE-----\nAAAA')).toBe(true);
    expect(isInlinePem('/etc/ssl/cert.pem')).toBe(false);
  });
});
