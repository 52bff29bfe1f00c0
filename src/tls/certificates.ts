// Certificates configured by path or inline PEM (`tls.certificates` and the default certificate of
// the file provider): reading, and checking that each chain parses and that the key matches it
// before the certificate store receives it. Messages never include key material.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import type { CertificateEntry } from './types.js';

/** A certificate and its key as configured: each a file path or the PEM text itself, as in Traefik. */
export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export interface LoadedCertificate {
  /** The checked entry, absent when the certificate cannot be served. */
  entry?: CertificateEntry;
  /** Reason the certificate cannot be served, without the certificate's name, which the caller adds. */
  error?: string;
  /** Problems that still let it be served, such as expiry, without the certificate's name. */
  warnings: string[];
  /** Absolute paths read, so a caller can watch them for changes. */
  paths: string[];
}

export interface LoadOptions {
  /** `CertificateEntry.source` of the result, such as `file`. */
  source: string;
  /** Directory that relative paths start from; the working directory by default, as in Traefik. */
  baseDirectory?: string;
  /** The time expiry is judged at. */
  now?: Date;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

/** Returns true when `value` is PEM text rather than a path. */
export function isInlinePem(value: string): boolean {
  return value.trimStart().startsWith('-----BEGIN ');
}

/** Names one configured value for messages: the path, or `inline PEM` without showing it. */
export function describeCertificateValue(value: string): string {
  return isInlinePem(value) ? 'inline PEM' : value.trim();
}

/** Reads and checks one certificate. Never throws: every problem is in `error` or `warnings`. */
export async function loadCertificate(files: CertificateFiles, options: LoadOptions): Promise<LoadedCertificate> {
  const paths: string[] = [];
  const cert = await readPem('certFile', files.certFile, options, paths);
  if (cert.error !== undefined) return { error: cert.error, warnings: [], paths };
  const key = await readPem('keyFile', files.keyFile, options, paths);
  if (key.error !== undefined) return { error: key.error, warnings: [], paths };

  const checked = checkCertificatePair(cert.text, key.text, options.now ?? new Date());
  if (checked.error !== undefined) return { error: checked.error, warnings: [], paths };
  return { entry: { certPem: cert.text, keyPem: key.text, source: options.source }, warnings: checked.warnings, paths };
}

/**
 * Checks a PEM chain (leaf first) and a PEM private key: every certificate parses, the key parses
 * and is unencrypted, and the key belongs to the leaf. Expiry and a leaf without DNS names are
 * warnings, because serving such a certificate is still what was configured.
 */
export function checkCertificatePair(certPem: string, keyPem: string, now: Date): { error?: string; warnings: string[] } {
  const blocks = pemBlocks(certPem);
  const certificates = blocks.filter((block) => block.label === 'CERTIFICATE');
  if (certificates.length === 0) return { error: 'certFile contains no PEM CERTIFICATE block', warnings: [] };

  const chain: X509Certificate[] = [];
  for (const [index, block] of certificates.entries()) {
    try {
      chain.push(new X509Certificate(block.text));
    } catch (error) {
      return { error: `certificate ${index + 1} of the chain in certFile is invalid: ${(error as Error).message}`, warnings: [] };
    }
  }

  const keyBlock = pemBlocks(keyPem).find((block) => block.label.endsWith('PRIVATE KEY'));
  if (keyBlock === undefined) return { error: 'keyFile contains no PEM PRIVATE KEY block', warnings: [] };
  if (keyBlock.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(keyBlock.text)) {
    return { error: 'keyFile holds an encrypted private key, which Berth cannot use; store the key unencrypted with mode 0600', warnings: [] };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyBlock.text);
  } catch (error) {
    return { error: `keyFile is not a valid private key: ${(error as Error).message}`, warnings: [] };
  }

  const leaf = chain[0] as X509Certificate;
  if (!keyMatches(leaf, key)) {
    return { error: 'the private key in keyFile does not belong to the first certificate in certFile; check that the files are a pair and that the chain starts with the server certificate', warnings: [] };
  }

  const warnings: string[] = [];
  const notAfter = new Date(leaf.validTo);
  const notBefore = new Date(leaf.validFrom);
  if (notAfter.getTime() < now.getTime()) warnings.push(`the certificate expired on ${notAfter.toISOString()}; clients will reject it`);
  if (notBefore.getTime() > now.getTime()) warnings.push(`the certificate is not valid before ${notBefore.toISOString()}; clients will reject it until then`);
  if (dnsNames(leaf).length === 0) warnings.push('the certificate names no DNS name in subjectAltName, and browsers reject a certificate that names its host only in the common name');
  return { warnings };
}

/** Returns true when `key` is the private key of `certificate`; a key of another algorithm never is. */
function keyMatches(certificate: X509Certificate, key: KeyObject): boolean {
  try {
    return certificate.checkPrivateKey(key);
  } catch {
    return false;
  }
}

/** Returns the DNS names of a certificate's subjectAltName, in lower case. */
export function dnsNames(certificate: X509Certificate): string[] {
  const names: string[] = [];
  for (const part of (certificate.subjectAltName ?? '').split(/,\s*/)) {
    if (part.startsWith('DNS:')) names.push(part.slice(4).trim().toLowerCase());
  }
  return names;
}

async function readPem(option: string, value: string, options: LoadOptions, paths: string[]): Promise<{ text: string; error?: undefined } | { text?: undefined; error: string }> {
  if (value.trim() === '') return { error: `${option} is missing; set it to a file path or to the PEM text` };
  if (isInlinePem(value)) return { text: value.trim() + '\n' };

  const path = resolve(options.baseDirectory ?? process.cwd(), value.trim());
  paths.push(path);
  try {
    return { text: await readFile(path, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by Berth' : `cannot be read (${(error as Error).message})`;
    return { error: `${option} ${path} ${reason}` };
  }
}

function pemBlocks(text: string): Array<{ label: string; text: string }> {
  return [...text.matchAll(PEM_BLOCK)].map((match) => ({ label: match[1] ?? '', text: match[0] }));
}
