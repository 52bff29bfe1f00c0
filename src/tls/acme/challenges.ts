// Challenge solvers: how Berth proves control of a name to the CA (RFC 8555 section 8). A solver
// publishes the responses of all challenges of an order at once, and returns the step that
// withdraws them.

import type * as acme from 'acme-client';

/** One challenge of an order that the CA has not validated yet. */
export interface PendingChallenge {
  /** The authorization's identifier, without `*.` for a wildcard (RFC 8555 section 7.1.4). */
  domain: string;
  wildcard: boolean;
  challenge: acme.Authorization['challenges'][number];
  /**
   * The response to publish: the key authorization for HTTP-01 and TLS-ALPN-01, and its SHA-256
   * digest in base64url for DNS-01, as acme-client's getChallengeKeyAuthorization returns them.
   */
  keyAuthorization: string;
}

/** Withdraws what a solver published. It does not reject: failures are logged and kept for a later cleanup. */
export type ChallengeCleanup = () => Promise<void>;

export interface ChallengeSolver {
  /** Challenge type, as in the authorization's `challenges[].type`. */
  readonly type: 'dns-01' | 'http-01' | 'tls-alpn-01';
  /**
   * Publishes every response and resolves once the CA can see them all. On failure it withdraws
   * what it published before rejecting.
   */
  present(challenges: readonly PendingChallenge[]): Promise<ChallengeCleanup>;
}
