// `/api/certificates` and `/api/certificateresolvers`: the certificates the TLS entry points serve,
// each with its ACME renewal state when a resolver obtained it, and every resolver's errors and
// pending orders. Keys and credentials never appear here.

import type { ResolverStatus } from '../tls/acme/manager.js';
import type { CertificateInfo } from '../tls/types.js';

export interface CertificateJson extends CertificateInfo {
  /** Resolver name, for certificates from `acme:<resolver>`. */
  resolver?: string;
  /** ACME state: `valid`, `expired`, `renewing` or `renewal failed`. */
  acmeStatus?: string;
  renewAt?: string;
  renewalSource?: 'ari' | 'lifetime';
  lastError?: string;
  nextAttemptAt?: string;
}

const ACME_SOURCE = /^acme:(.+)$/;

/** Joins the store's certificates with the ACME state of the resolver that obtained each. */
export function certificatesJson(certificates: readonly CertificateInfo[], resolvers: readonly ResolverStatus[]): CertificateJson[] {
  return certificates.map((certificate) => {
    const resolverName = ACME_SOURCE.exec(certificate.source)?.[1];
    if (resolverName === undefined) return { ...certificate };

    const json: CertificateJson = { ...certificate, resolver: resolverName };
    const sans = [...certificate.sans].sort().join(',');
    const held = resolvers
      .find((resolver) => resolver.name === resolverName)
      ?.certificates.find((item) => item.notAfter === certificate.notAfter && [...item.sans].sort().join(',') === sans);
    if (held === undefined) return json;

    json.acmeStatus = held.status;
    json.renewAt = held.renewAt;
    json.renewalSource = held.renewalSource;
    if (held.lastError !== undefined) json.lastError = held.lastError;
    if (held.nextAttemptAt !== undefined) json.nextAttemptAt = held.nextAttemptAt;
    return json;
  });
}
