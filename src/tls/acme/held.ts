// Certificates a resolver holds: read from and written to the storage file, with their renewal
// schedule and the state of the attempts to renew them.

import type { RenewalInfo } from './ari.js';
import { type CertificateFacts, keyMatchesCertificate, readCertificate } from './certificate-info.js';
import { certificateKey } from './domains.js';
import type { OrderRequest } from './order.js';
import { lifetimeRenewalTime } from './renewal.js';
import { type StoredCertificate, decodePem, encodePem } from './storage.js';

/** Progress of the attempts to order or renew one certificate. */
export interface AttemptState {
  /** Consecutive failures; 0 after a success. */
  failures: number;
  lastError?: string;
  /** Epoch milliseconds before which no new attempt starts. */
  nextAttemptAt?: number;
  running: boolean;
}

export interface HeldCertificate {
  key: string;
  domain: OrderRequest;
  certPem: string;
  keyPem: string;
  facts: CertificateFacts;
  renewAt: Date;
  renewalSource: 'ari' | 'lifetime';
  /** The CA's latest renewal window, when it offers ARI. */
  ari?: RenewalInfo;
  /** Epoch milliseconds of the next ARI poll after a failed one. */
  ariRetryAt?: number;
  attempt: AttemptState;
}

/** Builds the record of a certificate, with its renewal time from its lifetime until ARI suggests another. */
export function holdCertificate(domain: OrderRequest, certPem: string, keyPem: string, configuredDurationMs?: number): HeldCertificate {
  const facts = readCertificate(certPem);
  return {
    key: certificateKey([domain.main, ...domain.sans]),
    domain,
    certPem,
    keyPem,
    facts,
    renewAt: lifetimeRenewalTime(facts.notBefore, facts.notAfter, configuredDurationMs),
    renewalSource: 'lifetime',
    attempt: { failures: 0, running: false },
  };
}

/** Reads stored certificates. Entries that cannot be used are returned apart, with the reason, and are kept in the file. */
export function readStoredCertificates(
  stored: readonly StoredCertificate[],
  configuredDurationMs?: number,
): {
  held: HeldCertificate[];
  unreadable: Array<{ entry: StoredCertificate; reason: string }>;
} {
  const held: HeldCertificate[] = [];
  const unreadable: Array<{ entry: StoredCertificate; reason: string }> = [];
  for (const entry of stored) {
    const main = entry.domain?.main ?? '';
    try {
      const certPem = decodePem(entry.certificate);
      const keyPem = decodePem(entry.key);
      if (!keyMatchesCertificate(certPem, keyPem)) throw new Error('the key does not belong to the certificate');
      const domain = { main: main.toLowerCase(), sans: (entry.domain.sans ?? []).map((name) => name.toLowerCase()) };
      held.push(holdCertificate(domain, certPem, keyPem, configuredDurationMs));
    } catch (error) {
      unreadable.push({ entry, reason: `stored certificate for ${main || '(no name)'} is unusable: ${(error as Error).message}` });
    }
  }
  return { held, unreadable };
}

/** Converts a certificate to Traefik's storage entry. */
export function toStored(certificate: HeldCertificate): StoredCertificate {
  const domain = certificate.domain.sans.length === 0 ? { main: certificate.domain.main } : { main: certificate.domain.main, sans: certificate.domain.sans };
  return { domain, certificate: encodePem(certificate.certPem), key: encodePem(certificate.keyPem), Store: 'default' };
}

/** The API view of a held certificate, without its key. */
export interface HeldCertificateStatus {
  main: string;
  sans: string[];
  issuer: string;
  notBefore: string;
  notAfter: string;
  /** `valid`, `expired`, `renewing`, or `renewal failed` (the certificate is still served). */
  status: string;
  renewAt: string;
  renewalSource: 'ari' | 'lifetime';
  failures: number;
  lastError?: string;
  nextAttemptAt?: string;
}

export function heldStatus(certificate: HeldCertificate, now: number): HeldCertificateStatus {
  const { facts, attempt } = certificate;
  let status = facts.notAfter.getTime() <= now ? 'expired' : 'valid';
  if (attempt.running) status = 'renewing';
  else if (attempt.failures > 0) status = 'renewal failed';

  const view: HeldCertificateStatus = {
    main: certificate.domain.main,
    sans: facts.sans,
    issuer: facts.issuer,
    notBefore: facts.notBefore.toISOString(),
    notAfter: facts.notAfter.toISOString(),
    status,
    renewAt: certificate.renewAt.toISOString(),
    renewalSource: certificate.renewalSource,
    failures: attempt.failures,
  };
  if (attempt.lastError !== undefined) view.lastError = attempt.lastError;
  if (attempt.nextAttemptAt !== undefined && attempt.failures > 0) view.nextAttemptAt = new Date(attempt.nextAttemptAt).toISOString();
  return view;
}
