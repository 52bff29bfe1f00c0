// The contract between certificate sources (file provider, ACME) and the TLS listeners.

/** One certificate with its private key, as a source hands it to the store. */
export interface CertificateEntry {
  /** PEM chain, leaf first. */
  certPem: string;
  /** PEM private key; never logged and never shown in the API. */
  keyPem: string;
  /** Origin: `default`, `file`, or `acme:<resolver>`. */
  source: string;
}

/** The API's view of a certificate: everything but the key. */
export interface CertificateInfo {
  source: string;
  /** Subject alternative names (DNS names), lower case; wildcards keep their `*.`. */
  sans: string[];
  issuer: string;
  notBefore: string;
  notAfter: string;
  /** `valid`, `expired`, or `not yet valid`, judged at the time of the request. */
  status: string;
}

export interface CertificateStore {
  /** Replaces every certificate of `source` with `entries`; invalid entries are reported and skipped. */
  replace(source: string, entries: CertificateEntry[]): string[];
  /** Returns the certificates in the store, without keys. */
  list(): CertificateInfo[];
  /** True when a certificate (exact name, then one-label wildcard) other than the default covers `serverName`. */
  covers(serverName: string): boolean;
  /**
   * Serves `entry` as the default certificate (from `tls.stores.default.defaultCertificate`), or
   * goes back to the generated one when `entry` is undefined. Returns the problems found; an
   * invalid entry leaves the current default in place.
   */
  setDefault?(entry: CertificateEntry | undefined): string[];
}
