// The certificates TLS entry points serve, by source, and the choice of one for the server name of
// a handshake: an exact name first, then a wildcard of one label, then the default certificate.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';

import { generateDefaultCertificate } from './default-certificate.js';
import type { CertificateEntry, CertificateInfo, CertificateStore } from './types.js';

/** A certificate that passed the checks of the store, with the facts that selection needs. */
export interface StoredCertificate {
  readonly entry: CertificateEntry;
  /** DNS names it covers, lower case: the subject alternative names, or the common name when it has none. */
  readonly names: readonly string[];
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** True for the default certificate, which covers no name of its own. */
  readonly isDefault: boolean;
}

export class MemoryCertificateStore implements CertificateStore {
  readonly #bySource = new Map<string, StoredCertificate[]>();
  /** Certificates by exact DNS name, including wildcard names such as `*.example.test`. */
  #byName = new Map<string, StoredCertificate[]>();
  readonly #generatedDefault: StoredCertificate;
  #default: StoredCertificate;
  readonly #listeners = new Set<() => void>();

  /** Creates a store whose default certificate is `defaultEntry`, which must be valid. */
  constructor(defaultEntry: CertificateEntry) {
    const parsed = parseEntry(defaultEntry, true);
    if (typeof parsed === 'string') throw new Error(`the default certificate is invalid: ${parsed}`);
    this.#generatedDefault = parsed;
    this.#default = parsed;
  }

  /** Creates a store with a newly generated self-signed default certificate. */
  static async create(): Promise<MemoryCertificateStore> {
    return new MemoryCertificateStore(await generateDefaultCertificate());
  }

  replace(source: string, entries: CertificateEntry[]): string[] {
    const problems: string[] = [];
    const accepted: StoredCertificate[] = [];
    entries.forEach((entry, index) => {
      const parsed = parseEntry(entry, false);
      if (typeof parsed === 'string') problems.push(`certificate ${index + 1} of ${source} is skipped: ${parsed}`);
      else accepted.push(parsed);
    });

    if (accepted.length === 0) this.#bySource.delete(source);
    else this.#bySource.set(source, accepted);
    this.#reindex();
    return problems;
  }

  setDefault(entry: CertificateEntry | undefined): string[] {
    if (entry === undefined) {
      this.#default = this.#generatedDefault;
    } else {
      const parsed = parseEntry(entry, true);
      if (typeof parsed === 'string') return [`the default certificate is not replaced: ${parsed}`];
      this.#default = parsed;
    }
    this.#notify();
    return [];
  }

  list(): CertificateInfo[] {
    const now = Date.now();
    const all = [this.#default, ...[...this.#bySource.values()].flat()];
    return all.map((certificate) => ({
      source: certificate.entry.source,
      sans: [...certificate.names],
      issuer: certificate.issuer,
      notBefore: certificate.notBefore.toISOString(),
      notAfter: certificate.notAfter.toISOString(),
      status: validityStatus(certificate, now),
    }));
  }

  covers(serverName: string): boolean {
    return this.#find(serverName) !== undefined;
  }

  /** Returns the certificate to present for `serverName`, the default one when none covers it or no name was sent. */
  lookup(serverName: string | undefined): StoredCertificate {
    return (serverName === undefined ? undefined : this.#find(serverName)) ?? this.#default;
  }

  /** The certificate presented to clients that send no server name or one that no certificate covers. */
  get defaultCertificate(): StoredCertificate {
    return this.#default;
  }

  /** Calls `listener` after every change of the certificates, and returns a function that removes it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #find(serverName: string): StoredCertificate | undefined {
    const name = serverName.trim().toLowerCase().replace(/\.$/, '');
    if (name === '') return undefined;
    const exact = best(this.#byName.get(name));
    if (exact !== undefined) return exact;

    // A wildcard covers exactly one label (RFC 6125 section 6.4.3), so `*.example.test` covers
    // `a.example.test` but neither `example.test` nor `a.b.example.test`.
    const dot = name.indexOf('.');
    if (dot <= 0 || name.indexOf('.', dot + 1) === -1) return undefined;
    return best(this.#byName.get(`*${name.slice(dot)}`));
  }

  #reindex(): void {
    const byName = new Map<string, StoredCertificate[]>();
    for (const certificates of this.#bySource.values()) {
      for (const certificate of certificates) {
        for (const name of certificate.names) {
          const list = byName.get(name) ?? [];
          list.push(certificate);
          byName.set(name, list);
        }
      }
    }
    this.#byName = byName;
    this.#notify();
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}

/**
 * Picks among certificates for the same name: one valid now over one that is not, then the one
 * that expires last, so a renewed certificate wins over the one it replaces.
 */
function best(candidates: readonly StoredCertificate[] | undefined): StoredCertificate | undefined {
  if (candidates === undefined || candidates.length === 0) return undefined;
  const now = Date.now();
  let chosen: StoredCertificate | undefined;
  for (const candidate of candidates) {
    if (chosen === undefined) {
      chosen = candidate;
      continue;
    }
    const candidateValid = validityStatus(candidate, now) === 'valid';
    const chosenValid = validityStatus(chosen, now) === 'valid';
    if (candidateValid !== chosenValid) {
      if (candidateValid) chosen = candidate;
    } else if (candidate.notAfter > chosen.notAfter) {
      chosen = candidate;
    }
  }
  return chosen;
}

function validityStatus(certificate: StoredCertificate, now: number): string {
  if (now < certificate.notBefore.getTime()) return 'not yet valid';
  if (now > certificate.notAfter.getTime()) return 'expired';
  return 'valid';
}

/** Checks one entry and reads its facts, or returns the reason it cannot be served. */
function parseEntry(entry: CertificateEntry, isDefault: boolean): StoredCertificate | string {
  const leafPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(entry.certPem)?.[0];
  if (leafPem === undefined) return 'the certificate text contains no PEM certificate';

  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(leafPem);
  } catch (error) {
    return `the certificate cannot be read: ${(error as Error).message}`;
  }

  try {
    if (!leaf.checkPrivateKey(createPrivateKey(entry.keyPem))) return 'the private key does not belong to the certificate';
    // OpenSSL has the last word on what a TLS server can use, such as the key type and the chain.
    createSecureContext({ cert: entry.certPem, key: entry.keyPem });
  } catch (error) {
    return `the private key cannot be used: ${(error as Error).message}`;
  }

  const names = dnsNames(leaf);
  if (names.length === 0 && !isDefault) return 'the certificate names no DNS name in its subject alternative names or common name';
  return {
    entry,
    names: isDefault ? [] : names,
    issuer: commonName(leaf.issuer) ?? leaf.issuer.replaceAll('\n', ', '),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    isDefault,
  };
}

function dnsNames(leaf: X509Certificate): string[] {
  const sans = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((item) => item.startsWith('DNS:'))
    .map((item) => item.slice(4).toLowerCase());
  if (sans.length > 0) return [...new Set(sans)];
  const cn = commonName(leaf.subject)?.toLowerCase();
  return cn !== undefined && /^[*a-z0-9]/.test(cn) && !cn.includes(' ') ? [cn] : [];
}

function commonName(distinguishedName: string): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(distinguishedName)?.[1];
}
