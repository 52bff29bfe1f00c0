// One ACME order, driven step by step (RFC 8555 section 7.4) rather than through acme-client's
// `auto()`, because `auto()` publishes and withdraws one challenge at a time. For `example.com`
// plus `*.example.com` both DNS-01 values share one name, so all challenges are published first,
// checked together, and only then handed to the CA.

import { generateKeyPair } from 'node:crypto';

import * as acme from 'acme-client';

import type { AcmeKeyType } from '../../config/index.js';
import type { Logger } from '../../observability/logger.js';
import type { ChallengeSolver, PendingChallenge } from './challenges.js';

export interface OrderRequest {
  /** First name of the certificate, also its subject common name. */
  main: string;
  /** The other names; wildcards are written `*.example.com`. */
  sans: string[];
}

export interface OrderOptions {
  keyType: AcmeKeyType;
  /** Issuer common name to prefer among the chains the CA offers. */
  preferredChain?: string;
  /** ARI certificate ID of the certificate this order replaces (RFC 9773 section 5). */
  replaces?: string;
  logger: Logger;
}

export interface IssuedCertificate {
  /** PEM chain, leaf first. */
  certPem: string;
  keyPem: string;
}

/** Returns the names of a request, main first, without duplicates. */
export function orderNames(request: OrderRequest): string[] {
  return [...new Set([request.main, ...request.sans].map((name) => name.toLowerCase()))];
}

/** Places an order, solves its challenges with `solver`, and downloads the certificate. */
export async function obtainCertificate(
  client: acme.Client,
  request: OrderRequest,
  solver: ChallengeSolver,
  options: OrderOptions,
): Promise<IssuedCertificate> {
  const names = orderNames(request);
  const identifiers = names.map((value) => ({ type: 'dns', value }));
  // RFC 9773 section 5: naming the replaced certificate lets the CA exempt the renewal from some rate limits.
  const payload = options.replaces === undefined ? { identifiers } : { identifiers, replaces: options.replaces };
  let order = await client.createOrder(payload);

  const authorizations = await client.getAuthorizations(order);
  const pending: PendingChallenge[] = [];
  for (const authorization of authorizations) {
    // An authorization the account validated recently may be reused by the CA (RFC 8555 section 7.1.4).
    if (authorization.status === 'valid') continue;
    const challenge = authorization.challenges.find((item) => item.type === solver.type);
    if (challenge === undefined) {
      const offered = authorization.challenges.map((item) => item.type).join(', ');
      throw new Error(`The CA offers no ${solver.type} challenge for ${authorization.identifier.value} (it offers ${offered})`);
    }
    pending.push({
      domain: authorization.identifier.value,
      wildcard: authorization.wildcard === true,
      challenge,
      keyAuthorization: await client.getChallengeKeyAuthorization(challenge),
    });
  }

  if (pending.length > 0) {
    const cleanup = await solver.present(pending);
    try {
      // RFC 8555 section 7.5.1: the client tells the CA each challenge is ready, then polls it.
      for (const item of pending) await client.completeChallenge(item.challenge);
      for (const item of pending) await waitForChallenge(client, item);
    } finally {
      await cleanup();
    }
  }

  const keyPem = await createPrivateKey(options.keyType);
  const [, csr] = await acme.crypto.createCsr({ commonName: names[0], altNames: names }, keyPem);
  order = await client.finalizeOrder(order, csr);
  const certPem = await client.getCertificate(order, options.preferredChain);
  options.logger.debug({ names }, 'ACME order finalized');
  return { certPem, keyPem };
}

async function waitForChallenge(client: acme.Client, item: PendingChallenge): Promise<void> {
  try {
    await client.waitForValidStatus(item.challenge);
  } catch (error) {
    const name = item.wildcard ? `*.${item.domain}` : item.domain;
    throw new Error(`The CA rejected the ${item.challenge.type} challenge for ${name}: ${(error as Error).message}`, { cause: error });
  }
}

/** Creates the certificate's private key in PKCS#8 PEM, off the main thread as Node's key generation runs in its thread pool. */
export function createPrivateKey(keyType: AcmeKeyType): Promise<string> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, _publicKey: string, privateKey: string): void => (error === null ? resolve(privateKey) : reject(error));
    const encoding = { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } } as const;
    switch (keyType) {
      case 'EC256':
        return generateKeyPair('ec', { namedCurve: 'P-256', ...encoding }, done);
      case 'EC384':
        return generateKeyPair('ec', { namedCurve: 'P-384', ...encoding }, done);
      case 'RSA2048':
        return generateKeyPair('rsa', { modulusLength: 2048, ...encoding }, done);
      case 'RSA4096':
        return generateKeyPair('rsa', { modulusLength: 4096, ...encoding }, done);
    }
  });
}
