// The TLS-ALPN-01 challenge (RFC 8737): the CA opens a TLS connection to port 443 of the domain,
// sends the domain as SNI and offers only the ALPN protocol `acme-tls/1`, and expects a
// self-signed certificate for the domain whose critical `id-pe-acmeIdentifier` extension contains
// the SHA-256 digest of the key authorization. The entry point calls `tlsAlpnChallengeCertificate`
// with the ClientHello it read, so the challenge is answered whatever the routers and TLS options say.

import * as acme from 'acme-client';

import type { ChallengeCleanup, ChallengeSolver, PendingChallenge } from './challenges.js';

/** The ALPN protocol of TLS-ALPN-01 validation connections (RFC 8737). */
export const ACME_TLS_ALPN_PROTOCOL = 'acme-tls/1';

/** Challenge certificate and key in PEM. */
export interface ChallengeCertificate {
  certPem: string;
  keyPem: string;
}

/** Challenge certificates by lower-case domain, shared by every resolver of the process. */
const certificates = new Map<string, ChallengeCertificate>();

/**
 * Returns the challenge certificate for a validation connection, or undefined for any other
 * handshake. A validation connection offers `acme-tls/1` as its only ALPN protocol and names a
 * domain with a pending challenge (RFC 8737 section 3).
 */
export function tlsAlpnChallengeCertificate(serverName: string | undefined, alpnProtocols: readonly string[]): ChallengeCertificate | undefined {
  if (serverName === undefined || alpnProtocols.length !== 1 || alpnProtocols[0] !== ACME_TLS_ALPN_PROTOCOL) return undefined;
  return certificates.get(serverName.toLowerCase());
}

export class TlsAlpn01Solver implements ChallengeSolver {
  readonly type = 'tls-alpn-01';

  async present(challenges: readonly PendingChallenge[]): Promise<ChallengeCleanup> {
    const created = new Map<string, ChallengeCertificate>();
    for (const item of challenges) {
      const domain = item.domain.toLowerCase();
      // createAlpnCertificate reads only the identifier of the authorization.
      const authorization = { identifier: { type: 'dns', value: domain } } as acme.Authorization;
      const keyPem = await acme.crypto.createPrivateEcdsaKey();
      const [, certPem] = await acme.crypto.createAlpnCertificate(authorization, item.keyAuthorization, keyPem);
      created.set(domain, { certPem: certPem.toString(), keyPem: keyPem.toString() });
    }

    for (const [domain, certificate] of created) certificates.set(domain, certificate);
    return async () => {
      // A later order for the same domain may have replaced the certificate, and its own cleanup removes that one.
      for (const [domain, certificate] of created) {
        if (certificates.get(domain) === certificate) certificates.delete(domain);
      }
    };
  }
}
