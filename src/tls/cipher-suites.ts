// TLS cipher suite and curve names as Traefik's `tls.options` take them (Go's crypto/tls constant
// names), mapped to the OpenSSL names that Node's `ciphers` and `ecdhCurve` options take.

/** Berth's handling of one cipher suite name of Go's crypto/tls. */
export type CipherSuiteMapping =
  /** A TLS 1.2 suite, with its OpenSSL name. */
  | { kind: 'tls12'; openssl: string }
  /** A TLS 1.3 suite, which Go always enables and which this list cannot change. */
  | { kind: 'tls13' }
  /** A suite that Berth rejects, with the reason. */
  | { kind: 'rejected'; reason: string };

const RC4 = 'RC4 is prohibited in TLS (RFC 7465) and the OpenSSL in Node.js does not offer it';
const TRIPLE_DES = '3DES is open to the Sweet32 attack (CVE-2016-2183) and the OpenSSL in Node.js 20 and later does not offer it';

/** Every cipher suite name that Traefik v3 accepts, by Go constant name. */
const CIPHER_SUITES: ReadonlyMap<string, CipherSuiteMapping> = new Map<string, CipherSuiteMapping>([
  ['TLS_RSA_WITH_RC4_128_SHA', { kind: 'rejected', reason: RC4 }],
  ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', { kind: 'rejected', reason: TRIPLE_DES }],
  ['TLS_RSA_WITH_AES_128_CBC_SHA', { kind: 'tls12', openssl: 'AES128-SHA' }],
  ['TLS_RSA_WITH_AES_256_CBC_SHA', { kind: 'tls12', openssl: 'AES256-SHA' }],
  ['TLS_RSA_WITH_AES_128_CBC_SHA256', { kind: 'tls12', openssl: 'AES128-SHA256' }],
  ['TLS_RSA_WITH_AES_128_GCM_SHA256', { kind: 'tls12', openssl: 'AES128-GCM-SHA256' }],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', { kind: 'tls12', openssl: 'AES256-GCM-SHA384' }],
  ['TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', { kind: 'rejected', reason: RC4 }],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', { kind: 'tls12', openssl: 'ECDHE-ECDSA-AES128-SHA' }],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', { kind: 'tls12', openssl: 'ECDHE-ECDSA-AES256-SHA' }],
  ['TLS_ECDHE_RSA_WITH_RC4_128_SHA', { kind: 'rejected', reason: RC4 }],
  ['TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', { kind: 'rejected', reason: TRIPLE_DES }],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', { kind: 'tls12', openssl: 'ECDHE-RSA-AES128-SHA' }],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', { kind: 'tls12', openssl: 'ECDHE-RSA-AES256-SHA' }],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', { kind: 'tls12', openssl: 'ECDHE-ECDSA-AES128-SHA256' }],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', { kind: 'tls12', openssl: 'ECDHE-RSA-AES128-SHA256' }],
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', { kind: 'tls12', openssl: 'ECDHE-RSA-AES128-GCM-SHA256' }],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', { kind: 'tls12', openssl: 'ECDHE-ECDSA-AES128-GCM-SHA256' }],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', { kind: 'tls12', openssl: 'ECDHE-RSA-AES256-GCM-SHA384' }],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', { kind: 'tls12', openssl: 'ECDHE-ECDSA-AES256-GCM-SHA384' }],
  // Go names the ChaCha20 suites both with and without the `_SHA256` suffix.
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', { kind: 'tls12', openssl: 'ECDHE-RSA-CHACHA20-POLY1305' }],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', { kind: 'tls12', openssl: 'ECDHE-RSA-CHACHA20-POLY1305' }],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', { kind: 'tls12', openssl: 'ECDHE-ECDSA-CHACHA20-POLY1305' }],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', { kind: 'tls12', openssl: 'ECDHE-ECDSA-CHACHA20-POLY1305' }],
  ['TLS_AES_128_GCM_SHA256', { kind: 'tls13' }],
  ['TLS_AES_256_GCM_SHA384', { kind: 'tls13' }],
  ['TLS_CHACHA20_POLY1305_SHA256', { kind: 'tls13' }],
  ['TLS_FALLBACK_SCSV', { kind: 'rejected', reason: 'it is a signal value (RFC 7507), not a cipher suite, and OpenSSL sends it on its own' }],
]);

/**
 * TLS 1.2 suites served when `cipherSuites` is not set: ECDHE key exchange with an AEAD cipher
 * (AES-GCM or ChaCha20-Poly1305) only, so every TLS 1.2 connection has forward secrecy. Clients
 * that offer none of these suites cannot connect over TLS 1.2.
 */
export const DEFAULT_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Returns how Berth treats the Go cipher suite `name` (any case), or undefined for an unknown name. */
export function lookupCipherSuite(name: string): CipherSuiteMapping | undefined {
  return CIPHER_SUITES.get(name.trim().toUpperCase());
}

/** Returns every Go cipher suite name Berth accepts, for messages. */
export function supportedCipherSuites(): string[] {
  return [...CIPHER_SUITES].filter(([, mapping]) => mapping.kind !== 'rejected').map(([name]) => name);
}

/** Go's `tls.CurveID` names, as `curvePreferences` takes them, mapped to OpenSSL group names. */
const CURVES: ReadonlyMap<string, string> = new Map([
  ['CURVEP256', 'P-256'],
  ['CURVEP384', 'P-384'],
  ['CURVEP521', 'P-521'],
  ['X25519', 'X25519'],
  // The hybrid post-quantum group needs OpenSSL 3.5, which Node.js 24 has and Node.js 20 has not.
  ['X25519MLKEM768', 'X25519MLKEM768'],
]);

/** Returns the OpenSSL group name of the Go curve `name` (any case), or undefined for an unknown name. */
export function lookupCurve(name: string): string | undefined {
  return CURVES.get(name.trim().toUpperCase());
}

/** Returns every Go curve name Berth accepts, for messages. */
export function supportedCurves(): string[] {
  return ['CurveP256', 'CurveP384', 'CurveP521', 'X25519', 'X25519MLKEM768'];
}
