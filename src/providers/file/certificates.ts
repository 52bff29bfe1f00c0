// Hands the certificates of the dynamic configuration files to the certificate store. A
// certificate that fails to load keeps its last good version, so a renewal tool caught halfway
// through writing a pair does not take a host's certificate away.
import { describeCertificateValue, loadCertificate, type CertificateFiles } from '../../tls/certificates.js';
import type { CertificateEntry, CertificateStore } from '../../tls/types.js';
import type { FileCertificate } from './build.js';

/** `CertificateEntry.source` of the certificates from files. */
export const FILE_CERTIFICATE_SOURCE = 'file';

export interface CertificatesOutcome {
  errors: string[];
  warnings: string[];
  /** Certificate and key files read, for watching. */
  paths: string[];
}

export class FileCertificates {
  readonly #store: CertificateStore | undefined;
  /** The last entry that loaded, by certificate and key value. */
  readonly #lastGood = new Map<string, CertificateEntry>();
  #applied: string | undefined;
  #appliedDefault: string | undefined;
  /** Problems the store reported for the entries it contains now, repeated until the entries change. */
  #storeProblems: string[] = [];
  #defaultProblems: string[] = [];

  constructor(store: CertificateStore | undefined) {
    this.#store = store;
  }

  /** Loads `certificates` and the default certificate, and replaces the store's file certificates when they changed. */
  async apply(certificates: readonly FileCertificate[], defaultCertificate: FileCertificate | undefined): Promise<CertificatesOutcome> {
    const outcome: CertificatesOutcome = { errors: [], warnings: [], paths: [] };
    const entries: CertificateEntry[] = [];
    const used = new Set<string>();

    for (const certificate of certificates) {
      const entry = await this.#load(certificate, outcome, used);
      if (entry !== undefined) entries.push(entry);
    }
    const defaultEntry = defaultCertificate === undefined ? undefined : await this.#load(defaultCertificate, outcome, used, 'tls.stores.default.defaultCertificate');
    for (const key of this.#lastGood.keys()) if (!used.has(key)) this.#lastGood.delete(key);

    if (this.#store === undefined) {
      if (entries.length > 0 || defaultEntry !== undefined) outcome.warnings.push('no TLS entry point is configured, so the certificates of the file provider are loaded but not served');
      return outcome;
    }

    const serialized = JSON.stringify(entries);
    if (serialized !== this.#applied) {
      this.#storeProblems = this.#store.replace(FILE_CERTIFICATE_SOURCE, entries);
      this.#applied = serialized;
    }
    const serializedDefault = JSON.stringify(defaultEntry ?? null);
    if (serializedDefault !== this.#appliedDefault) {
      this.#defaultProblems = this.#applyDefault(defaultEntry);
      this.#appliedDefault = serializedDefault;
    }
    outcome.errors.push(...this.#storeProblems, ...this.#defaultProblems);
    return outcome;
  }

  async #load(certificate: FileCertificate, outcome: CertificatesOutcome, used: Set<string>, what = 'tls.certificates'): Promise<CertificateEntry | undefined> {
    const key = cacheKey(certificate);
    used.add(key);
    const loaded = await loadCertificate(certificate, { source: FILE_CERTIFICATE_SOURCE });
    outcome.paths.push(...loaded.paths);
    const label = `${certificate.origin}: ${what} certificate ${describeCertificateValue(certificate.certFile)}`;
    outcome.warnings.push(...loaded.warnings.map((warning) => `${label} is served, but ${warning}`));
    if (loaded.entry !== undefined) {
      this.#lastGood.set(key, loaded.entry);
      return loaded.entry;
    }

    const previous = this.#lastGood.get(key);
    const fallbackNote = previous ? '; the version loaded before stays in use' : '';
    outcome.errors.push(`${label} is not served, because ${loaded.error ?? 'it failed to load'}${fallbackNote}`);
    return previous;
  }

  #applyDefault(entry: CertificateEntry | undefined): string[] {
    if (this.#store?.setDefault === undefined) {
      return entry === undefined ? [] : ['tls.stores.default.defaultCertificate cannot be applied: the certificate store does not support replacing the default certificate'];
    }
    return this.#store.setDefault(entry);
  }
}

function cacheKey(files: CertificateFiles): string {
  return `${files.certFile}\0${files.keyFile}`;
}
