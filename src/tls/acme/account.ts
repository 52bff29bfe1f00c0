// The ACME account of a resolver (RFC 8555 section 7.3): its key and URL are kept in the storage
// file in Traefik's layout, so a stored account is reused and no new one is registered per start.

import { createPrivateKey, generateKeyPair } from 'node:crypto';

import * as acme from 'acme-client';

import type { AcmeResolverConfig } from '../../config/index.js';
import type { Logger } from '../../observability/logger.js';
import type { StorageFile, StoredAccount } from './storage.js';

// Traefik stores the account key as PKCS#1 DER, which only RSA keys have. 2048 bits keeps the file
// readable by Traefik and registration fast; the account key signs requests and never protects traffic.
const ACCOUNT_KEY_BITS = 2048;

// Polling of pending challenges and orders: 0.5 s, 1 s, 2 s, then every 5 s, about a minute in all.
const POLL_OPTIONS = { backoffAttempts: 16, backoffMin: 500, backoffMax: 5_000 } as const;

/** Returns a client for the resolver's account, registering the account and storing it when there is none. */
export async function openAccount(config: AcmeResolverConfig, storage: StorageFile, logger: Logger): Promise<acme.Client> {
  const stored = storage.section(config.name).Account;
  const externalAccountBinding = config.eab === undefined ? undefined : { kid: config.eab.kid, hmacKey: config.eab.hmacEncoded };

  if (stored !== null && isUsable(stored, config.caServer)) {
    return new acme.Client({
      directoryUrl: config.caServer,
      accountKey: accountKeyPem(stored),
      accountUrl: stored.Registration.uri,
      ...(externalAccountBinding ? { externalAccountBinding } : {}),
      ...POLL_OPTIONS,
    });
  }

  const accountKey = await createAccountKey();
  const client = new acme.Client({
    directoryUrl: config.caServer,
    accountKey,
    ...(externalAccountBinding ? { externalAccountBinding } : {}),
    ...POLL_OPTIONS,
  });
  const contact = config.email === undefined ? [] : [`mailto:${config.email}`];
  // Agreeing to the terms is what running an ACME client means; Traefik does the same without asking.
  const account = await client.createAccount({ termsOfServiceAgreed: true, contact });
  const uri = client.getAccountUrl();

  const record: StoredAccount = {
    Email: config.email ?? '',
    Registration: { body: { status: account.status, contact }, uri },
    PrivateKey: createPrivateKey(accountKey).export({ type: 'pkcs1', format: 'der' }).toString('base64'),
    // Traefik writes RSA key types as their size alone.
    KeyType: config.keyType.replace(/^RSA/, ''),
  };
  await storage.update(config.name, (section) => {
    section.Account = record;
  });
  logger.info({ accountUrl: uri }, 'ACME account registered');
  return client;
}

/**
 * True when the stored account belongs to the configured CA. A switch of `caServer` (staging to
 * production, say) needs a new account, because account URLs are valid at one CA only.
 */
function isUsable(stored: StoredAccount, caServer: string): boolean {
  if (stored.PrivateKey === '' || stored.Registration?.uri === undefined) return false;
  try {
    return new URL(stored.Registration.uri).origin === new URL(caServer).origin;
  } catch {
    return false;
  }
}

/** Converts the stored key to PEM; Traefik writes PKCS#1, and other tools may have written SEC 1 or PKCS#8. */
function accountKeyPem(stored: StoredAccount): string {
  const der = Buffer.from(stored.PrivateKey, 'base64');
  for (const type of ['pkcs1', 'sec1', 'pkcs8'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type }).export({ type: 'pkcs8', format: 'pem' }).toString();
    } catch {
      // Try the next encoding.
    }
  }
  throw new Error('The stored ACME account key is not a PKCS#1, SEC 1 or PKCS#8 private key');
}

function createAccountKey(): Promise<string> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      { modulusLength: ACCOUNT_KEY_BITS, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } },
      (error, _publicKey, privateKey) => (error === null ? resolve(privateKey) : reject(error)),
    );
  });
}
