// Test certificates made with the openssl command line tool, so tests use real PEM files as a
// user would write them, including chains, RSA and EC keys, and encrypted keys.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface CertificateRequest {
  /** Subject common name; also the first DNS name unless `dnsNames` is given. */
  commonName: string;
  /** DNS names of subjectAltName; an empty list makes a certificate without one. */
  dnsNames?: string[];
  /** `ec` (P-256, the default) or `rsa` (2048 bits). */
  keyType?: 'ec' | 'rsa';
  /** Encrypt the key with this passphrase. */
  passphrase?: string;
  days?: number;
}

/** A temporary directory for certificate files; `remove()` deletes it. */
export class CertificateDirectory {
  readonly path = mkdtempSync(join(tmpdir(), 'berth-tls-test-'));
  #count = 0;

  /** Creates a self-signed certificate and its key as files in the directory. */
  create(request: CertificateRequest): TestCertificate {
    const name = `cert-${++this.#count}`;
    const certFile = join(this.path, `${name}.crt`);
    const keyFile = join(this.path, `${name}.key`);
    const keyArgs = request.keyType === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    const dnsNames = request.dnsNames ?? [request.commonName];
    const extensions = dnsNames.length > 0 ? ['-addext', `subjectAltName=${dnsNames.map((dns) => `DNS:${dns}`).join(',')}`] : [];
    const encryption = request.passphrase === undefined ? ['-noenc'] : ['-passout', `pass:${request.passphrase}`];

    execFileSync(
      'openssl',
      ['req', '-x509', ...keyArgs, ...encryption, '-keyout', keyFile, '-out', certFile, '-days', String(request.days ?? 30), '-subj', `/CN=${request.commonName}`, ...extensions],
      { stdio: 'pipe' },
    );
    return { certFile, keyFile, certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
