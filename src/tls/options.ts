// TLS options: Traefik's `tls.options.<name>` checked and translated into the settings of Node's
// TLS server, and the choice of options for the server name of each handshake.
import { constants } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

import type { TlsOptionsConfig } from '../dynamic/model.js';
import { DEFAULT_TLS12_CIPHERS, lookupCipherSuite, lookupCurve, supportedCipherSuites, supportedCurves } from './cipher-suites.js';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** TLS options ready for Node's TLS server. */
export interface TlsOptions {
  /** `default`, or a qualified name such as `modern@file`. */
  name: string;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  /** OpenSSL cipher list of the TLS 1.2 suites. The TLS 1.3 suites are always OpenSSL's defaults. */
  ciphers: string;
  /** OpenSSL group list in order of preference, or undefined for OpenSSL's default list. */
  ecdhCurve?: string;
  /** ALPN protocol names offered, in order of preference. */
  alpnProtocols: string[];
  /** Whether a handshake whose server name no certificate covers is rejected instead of getting the default certificate. */
  sniStrict: boolean;
  /** Whether the server's cipher order wins over the client's. */
  honorCipherOrder: boolean;
  disableSessionTickets: boolean;
}

/** ALPN protocols of Traefik's default options: HTTP/2, HTTP/1.1 and the TLS-ALPN-01 challenge (RFC 8737). */
export const DEFAULT_ALPN_PROTOCOLS: readonly string[] = ['h2', 'http/1.1', 'acme-tls/1'];

/** The options of handshakes that no configured options apply to, as long as no provider defines `default`. */
export const DEFAULT_TLS_OPTIONS: Readonly<TlsOptions> = Object.freeze({
  name: 'default',
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: DEFAULT_TLS12_CIPHERS,
  alpnProtocols: [...DEFAULT_ALPN_PROTOCOLS],
  sniStrict: false,
  honorCipherOrder: false,
  disableSessionTickets: false,
});

/** The outcome of checking one options item: the options, unless an error made them unusable. */
export interface ResolvedTlsOptions {
  options?: TlsOptions;
  errors: string[];
  warnings: string[];
}

type TlsOptionsFields = Omit<TlsOptionsConfig, 'errors' | 'warnings' | 'sources'>;

const VERSIONS: Record<string, TlsVersion | 'old'> = {
  versiontls10: 'old',
  versiontls11: 'old',
  versiontls12: 'TLSv1.2',
  versiontls13: 'TLSv1.3',
};

/** Client authentication types that request no client certificate, so ignoring them changes nothing. */
const NO_CLIENT_AUTH = new Set(['', 'noclientcert']);

/**
 * Checks the options `name` and translates them for Node. Every problem is collected, so one
 * pass shows them all. Options with an error are unusable, and a handshake that would use them
 * must be rejected, because serving weaker settings than configured is worse than serving none.
 */
export function resolveTlsOptions(name: string, config: TlsOptionsFields): ResolvedTlsOptions {
  const errors: string[] = [];
  const warnings: string[] = [];

  const minVersion = parseVersion('minVersion', config.minVersion, 'TLSv1.2', errors);
  const maxVersion = parseVersion('maxVersion', config.maxVersion, 'TLSv1.3', errors);
  if (minVersion === 'TLSv1.3' && maxVersion === 'TLSv1.2') {
    errors.push('minVersion VersionTLS13 is above maxVersion VersionTLS12; raise maxVersion or lower minVersion');
  }

  const ciphers = config.cipherSuites === undefined ? DEFAULT_TLS12_CIPHERS : translateCipherSuites(config.cipherSuites, minVersion, errors, warnings);
  const ecdhCurve = config.curvePreferences === undefined ? undefined : translateCurves(config.curvePreferences, errors);
  const alpnProtocols = checkAlpnProtocols(config.alpnProtocols, errors);
  checkClientAuth(config.clientAuth, errors);

  if (config.preferServerCipherSuites !== undefined) {
    warnings.push('preferServerCipherSuites is deprecated in Traefik; Berth still applies it as the server cipher order');
  }
  if (errors.length > 0) return { errors, warnings };

  const options: TlsOptions = {
    name,
    minVersion,
    maxVersion,
    ciphers,
    alpnProtocols,
    sniStrict: config.sniStrict ?? false,
    honorCipherOrder: config.preferServerCipherSuites ?? false,
    disableSessionTickets: config.disableSessionTickets ?? false,
    ...(ecdhCurve === undefined ? {} : { ecdhCurve }),
  };

  // OpenSSL is the final judge: a suite or group that this Node's OpenSSL lacks fails here, at
  // configuration time, instead of at the first handshake.
  try {
    createSecureContext(secureContextOptions(options));
  } catch (error) {
    return { errors: [`OpenSSL rejected these options (${(error as Error).message}); remove the cipher suite or curve that this Node.js version lacks`], warnings };
  }
  return { options, errors, warnings };
}

/**
 * Returns the settings of `createSecureContext` that carry `options`; the caller adds the key and
 * certificate. NOTE: Node.js copies only the certificate and key from a context that SNICallback
 * returns, so these settings take effect only as options of the TLS server itself.
 */
export function secureContextOptions(options: TlsOptions): SecureContextOptions {
  const settings: SecureContextOptions = {
    minVersion: options.minVersion,
    maxVersion: options.maxVersion,
    ciphers: options.ciphers,
    honorCipherOrder: options.honorCipherOrder,
  };
  if (options.ecdhCurve !== undefined) settings.ecdhCurve = options.ecdhCurve;
  if (options.disableSessionTickets) settings.secureOptions = constants.SSL_OP_NO_TICKET;
  return settings;
}

function parseVersion(option: string, written: string | undefined, fallback: TlsVersion, errors: string[]): TlsVersion {
  if (written === undefined || written.trim() === '') return fallback;
  const version = VERSIONS[written.trim().toLowerCase()];
  if (version === undefined) {
    errors.push(`${option} "${written}" is invalid: use VersionTLS12 or VersionTLS13`);
    return fallback;
  }
  if (version === 'old') {
    errors.push(`${option} "${written}" is not supported: TLS 1.0 and 1.1 are deprecated (RFC 8996), so Berth requires TLS 1.2 at least; use VersionTLS12 or VersionTLS13`);
    return fallback;
  }
  return version;
}

function translateCipherSuites(names: string[], minVersion: TlsVersion, errors: string[], warnings: string[]): string {
  const errorsBefore = errors.length;
  const openssl: string[] = [];
  const tls13: string[] = [];
  for (const name of names) {
    const mapping = lookupCipherSuite(name);
    if (mapping === undefined) {
      errors.push(`cipher suite "${name}" is unknown; use Go's names, such as ${supportedCipherSuites().slice(0, 3).join(', ')}`);
    } else if (mapping.kind === 'rejected') {
      errors.push(`cipher suite "${name}" is not supported: ${mapping.reason}`);
    } else if (mapping.kind === 'tls13') {
      tls13.push(name);
    } else if (!openssl.includes(mapping.openssl)) {
      openssl.push(mapping.openssl);
    }
  }

  // Go ignores TLS 1.3 suites in this list too, so a list written for Traefik behaves the same.
  if (tls13.length > 0) {
    warnings.push(`cipher suites ${tls13.join(', ')} are TLS 1.3 suites, which are not configurable and always enabled; remove them from cipherSuites`);
  }
  if (openssl.length === 0 && minVersion === 'TLSv1.2' && names.length > 0 && errors.length === errorsBefore) {
    errors.push('cipherSuites lists no TLS 1.2 suite, so no TLS 1.2 client could connect; add TLS 1.2 suites or set minVersion to VersionTLS13');
  }
  // With only TLS 1.3 allowed, the TLS 1.2 list is never used but must not be empty for OpenSSL.
  return openssl.length > 0 ? openssl.join(':') : DEFAULT_TLS12_CIPHERS;
}

function translateCurves(names: string[], errors: string[]): string | undefined {
  const groups: string[] = [];
  for (const name of names) {
    const group = lookupCurve(name);
    if (group === undefined) errors.push(`curve "${name}" is unknown; use one of ${supportedCurves().join(', ')}`);
    else if (!groups.includes(group)) groups.push(group);
  }
  return groups.length > 0 ? groups.join(':') : undefined;
}

function checkAlpnProtocols(protocols: string[] | undefined, errors: string[]): string[] {
  if (protocols === undefined) return [...DEFAULT_ALPN_PROTOCOLS];
  const checked = protocols.map((protocol) => protocol.trim()).filter((protocol) => protocol !== '');
  for (const protocol of checked) {
    // RFC 7301 section 3.1: a protocol name is 1 to 255 bytes.
    if (Buffer.byteLength(protocol) > 255) errors.push(`ALPN protocol "${protocol.slice(0, 20)}..." is longer than 255 bytes`);
  }
  if (checked.length === 0) errors.push('alpnProtocols is empty; remove it to offer h2, http/1.1 and acme-tls/1, or list the protocols to offer');
  return checked;
}

function checkClientAuth(clientAuth: TlsOptionsFields['clientAuth'], errors: string[]): void {
  if (clientAuth === undefined) return;
  const type = (clientAuth.clientAuthType ?? '').trim().toLowerCase();
  const caFiles = clientAuth.caFiles ?? [];
  if (NO_CLIENT_AUTH.has(type) && caFiles.length === 0) return;
  // Node's TLS server requests client certificates per server, not per server name, so per-options
  // client authentication cannot be applied faithfully. Rejecting keeps routers that expect it closed.
  errors.push('clientAuth (client certificate authentication) is not supported yet; routers using these options stay disabled until clientAuth is removed');
}
