// The TLS side of an entry point: which certificate and which TLS options a handshake gets, from
// the server name (SNI) the client sent, and which application protocol (ALPN) it agrees on.
import { createSecureContext, type SecureContext, type TlsOptions as NodeTlsServerOptions } from 'node:tls';

import { DEFAULT_TLS_OPTIONS, secureContextOptions, type TlsOptions } from '../tls/options.js';
import type { MemoryCertificateStore, StoredCertificate } from '../tls/store.js';

/** Application protocols the entry point serves, in its order of preference (RFC 7301). */
const SERVED_PROTOCOLS: readonly string[] = ['h2', 'http/1.1'];

export interface TlsHandshakeSource {
  store: MemoryCertificateStore;
  /**
   * Returns the TLS options for a server name, or undefined when the options that apply are
   * invalid, in which case the handshake is rejected rather than served with weaker settings.
   */
  optionsFor(serverName: string | undefined): TlsOptions | undefined;
}

/**
 * Builds the TLS settings of an entry point's secure server. Secure contexts are cached per
 * certificate and options object, and a runtime or certificate change brings new objects, so
 * stale contexts are never served and the cache empties itself.
 */
export function tlsServerOptions(source: TlsHandshakeSource): NodeTlsServerOptions & { ALPNCallback: AlpnCallback } {
  const contexts = new WeakMap<StoredCertificate, WeakMap<TlsOptions, SecureContext>>();
  const contextFor = (certificate: StoredCertificate, options: TlsOptions): SecureContext => {
    const byOptions = contexts.get(certificate) ?? new WeakMap<TlsOptions, SecureContext>();
    contexts.set(certificate, byOptions);
    let context = byOptions.get(options);
    if (context === undefined) {
      context = createSecureContext({ ...secureContextOptions(options), cert: certificate.entry.certPem, key: certificate.entry.keyPem });
      byOptions.set(options, context);
    }
    return context;
  };

  const defaultCertificate = source.store.defaultCertificate;
  return {
    // A client that sends no server name gets the default certificate with the default options,
    // because Node.js calls SNICallback only when a name was sent.
    ...secureContextOptions(DEFAULT_TLS_OPTIONS),
    cert: defaultCertificate.entry.certPem,
    key: defaultCertificate.entry.keyPem,
    SNICallback(serverName, callback) {
      const options = source.optionsFor(serverName);
      if (options === undefined) {
        callback(new Error(`the TLS options for server name ${serverName} are invalid`), undefined);
        return;
      }
      const certificate = source.store.lookup(serverName);
      if (certificate.isDefault && options.sniStrict) {
        callback(new Error(`no certificate covers server name ${serverName} and the TLS options set sniStrict`), undefined);
        return;
      }
      try {
        callback(null, contextFor(certificate, options));
      } catch (error) {
        callback(error as Error, undefined);
      }
    },
    ALPNCallback({ servername, protocols }) {
      const offered = source.optionsFor(servername)?.alpnProtocols ?? DEFAULT_TLS_OPTIONS.alpnProtocols;
      return chooseProtocol(offered, protocols);
    },
  };
}

type AlpnCallback = (details: { servername: string; protocols: string[] }) => string | undefined;

/**
 * Picks the first protocol of the server's list that the client offered. Protocols Berth does not
 * serve are skipped even when configured, such as `acme-tls/1`, which needs a challenge
 * certificate. Returning undefined makes Node.js end the handshake with a
 * `no_application_protocol` alert (RFC 7301 section 3.2).
 */
export function chooseProtocol(serverProtocols: readonly string[], clientProtocols: readonly string[]): string | undefined {
  return serverProtocols.find((protocol) => SERVED_PROTOCOLS.includes(protocol) && clientProtocols.includes(protocol));
}

/** Returns the settings that replace the default certificate of a running server after the store changed. */
export function defaultContextOptions(store: MemoryCertificateStore): NodeTlsServerOptions {
  const certificate = store.defaultCertificate;
  return { ...secureContextOptions(DEFAULT_TLS_OPTIONS), cert: certificate.entry.certPem, key: certificate.entry.keyPem };
}
