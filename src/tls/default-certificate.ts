// The self-signed certificate a TLS entry point presents when no other certificate covers the
// server name of a handshake, as Traefik's `TRAEFIK DEFAULT CERT`. Each Berth instance generates
// its own at start, so no private key ships with the image.
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';

import * as x509 from '@peculiar/x509';

import type { CertificateEntry } from './types.js';

/** Common name of the generated certificate, which clients show when they reject it. */
export const DEFAULT_CERTIFICATE_NAME = 'BERTH DEFAULT CERT';

/** Days the generated certificate is valid. Berth generates a new one at every start. */
const VALIDITY_DAYS = 365;

// ECDSA P-256 with SHA-256: every current client accepts it, and generating the key takes
// milliseconds where an RSA key takes up to a second.
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Object identifier of the TLS server authentication purpose (RFC 5280 section 4.2.1.12). */
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

// The library is typed against the DOM's Crypto, which Node's webcrypto implements.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type KeyPair = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];

/**
 * Generates a self-signed certificate and key for `DEFAULT_CERTIFICATE_NAME`. Its only DNS name is
 * random under `berth.default.invalid`, a reserved name (RFC 6761 section 6.4), so it never
 * covers a real host.
 */
export async function generateDefaultCertificate(now: Date = new Date()): Promise<CertificateEntry> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const label = randomBytes(8).toString('hex');
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + VALIDITY_DAYS * 86_400_000);

  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    // A positive serial of 16 random bytes (RFC 5280 section 4.1.2.2): the leading 0x01 keeps its sign bit clear.
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    name: `CN=${DEFAULT_CERTIFICATE_NAME}`,
    notBefore,
    notAfter,
    keys: keys as unknown as KeyPair,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([SERVER_AUTH]),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: `${label}.berth.default.invalid` }]),
    ],
  });

  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' });
  return { certPem: certificate.toString('pem'), keyPem: keyPem.toString(), source: 'default' };
}
