// Facts about a PEM certificate that ordering and renewal need: its names, validity, issuer, and
// the ACME Renewal Information certificate identifier (RFC 9773 section 4.1).

import { X509Certificate, createPrivateKey } from 'node:crypto';

export interface CertificateFacts {
  /** DNS names from the subject alternative name extension, lower case; wildcards keep `*.`. */
  sans: string[];
  /** The issuer's common name, or its whole distinguished name when it has none. */
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** Serial number in upper-case hexadecimal. */
  serial: string;
  /** `base64url(keyIdentifier).base64url(serial)`, or `undefined` when the certificate has no authority key identifier. */
  ariCertId: string | undefined;
}

/** Reads the leaf (first certificate) of a PEM chain. Throws when the text holds no valid certificate. */
export function readCertificate(chainPem: string): CertificateFacts {
  const leaf = new X509Certificate(firstPem(chainPem));
  const sans = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
  const issuerCn = /(?:^|\n)CN=([^\n]*)/.exec(leaf.issuer)?.[1];

  return {
    sans,
    issuer: issuerCn ?? leaf.issuer.replaceAll('\n', ', '),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    serial: leaf.serialNumber.toUpperCase(),
    ariCertId: ariCertId(leaf),
  };
}

/** True when `keyPem` is the private key of the chain's leaf. */
export function keyMatchesCertificate(chainPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(firstPem(chainPem)).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Splits a PEM chain into its certificates, in order. */
export function splitChain(chainPem: string): string[] {
  return chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function firstPem(chainPem: string): string {
  const first = splitChain(chainPem)[0];
  if (first === undefined) throw new Error('the text contains no PEM certificate');
  return first;
}

/** True when certificate name `san` (exact, or a wildcard of one label) covers host `name`. */
export function nameCovers(san: string, name: string): boolean {
  const host = name.toLowerCase();
  if (san === host) return true;
  if (!san.startsWith('*.') || host.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === san.slice(2);
}

/** True when `sans` cover every name in `names`. */
export function sansCover(sans: readonly string[], names: readonly string[]): boolean {
  return names.every((name) => sans.some((san) => san === name.toLowerCase() || nameCovers(san, name)));
}

// The certificate identifier of RFC 9773 section 4.1 joins the authority key identifier's
// keyIdentifier and the DER bytes of the serial number, each base64url-encoded without padding.
function ariCertId(leaf: X509Certificate): string | undefined {
  const keyIdentifier = authorityKeyIdentifier(leaf.raw);
  if (keyIdentifier === undefined) return undefined;

  let serialHex = leaf.serialNumber.length % 2 === 0 ? leaf.serialNumber : `0${leaf.serialNumber}`;
  // A DER INTEGER is signed, so a serial whose first bit is set carries a leading zero byte.
  if (Number.parseInt(serialHex.slice(0, 2), 16) >= 0x80) serialHex = `00${serialHex}`;
  return `${keyIdentifier.toString('base64url')}.${Buffer.from(serialHex, 'hex').toString('base64url')}`;
}

// OID 2.5.29.35 (id-ce-authorityKeyIdentifier), DER-encoded with its tag and length.
const AKI_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x23]);

/**
 * Finds the keyIdentifier of the authority key identifier extension (RFC 5280 section 4.2.1.1)
 * in a DER certificate. Node's X509Certificate exposes no extension list, so this reads the
 * few DER elements after the extension's OID.
 */
function authorityKeyIdentifier(der: Buffer): Buffer | undefined {
  const at = der.indexOf(AKI_OID);
  if (at === -1) return undefined;

  let offset = at + AKI_OID.length;
  // An optional `critical` BOOLEAN may sit between the OID and the OCTET STRING.
  if (der[offset] === 0x01) offset = skipElement(der, offset);
  if (der[offset] !== 0x04) return undefined;
  offset = contentStart(der, offset);
  if (der[offset] !== 0x30) return undefined;
  offset = contentStart(der, offset);
  // keyIdentifier is [0] IMPLICIT OCTET STRING.
  if (der[offset] !== 0x80) return undefined;
  const length = elementLength(der, offset);
  const start = contentStart(der, offset);
  return der.subarray(start, start + length);
}

function elementLength(der: Buffer, offset: number): number {
  const first = der[offset + 1] ?? 0;
  if (first < 0x80) return first;
  let length = 0;
  for (let i = 0; i < (first & 0x7f); i += 1) length = length * 256 + (der[offset + 2 + i] ?? 0);
  return length;
}

function contentStart(der: Buffer, offset: number): number {
  const first = der[offset + 1] ?? 0;
  return offset + 2 + (first < 0x80 ? 0 : first & 0x7f);
}

function skipElement(der: Buffer, offset: number): number {
  return contentStart(der, offset) + elementLength(der, offset);
}
