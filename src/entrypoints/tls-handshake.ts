// The TLS side of an entry point: which certificate and which TLS options a handshake gets, from
// the server name (SNI) the client sent, and which application protocol (ALPN) it agrees on.
import type { Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type SecureContext, type Server as TlsServer, type TLSSocket, type TlsOptions as NodeTlsServerOptions } from 'node:tls';

import { ACME_TLS_ALPN_PROTOCOL, tlsAlpnChallengeCertificate, type ChallengeCertificate } from '../tls/acme/tlsalpn01.js';
import type { ClientHelloInfo } from './protocol-sniffer.js';

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

type SniCallback = NonNullable<NodeTlsServerOptions['SNICallback']>;

/** The SNI and ALPN callbacks of a handshake, shared by every TLS server of one entry point. */
interface HandshakeCallbacks {
  SNICallback: SniCallback;
  ALPNCallback: AlpnCallback;
}

/**
 * Builds the SNI and ALPN callbacks. Secure contexts are cached per certificate and options
 * object, and a runtime or certificate change brings new objects, so stale contexts are never
 * served and the cache empties itself.
 */
function handshakeCallbacks(source: TlsHandshakeSource): HandshakeCallbacks {
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

  return {
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
      // Node.js passes `false` when the ClientHello has no server name, as from clients that connect to an IP address.
      const serverName = typeof servername === 'string' && servername !== '' ? servername : undefined;
      const offered = source.optionsFor(serverName)?.alpnProtocols ?? DEFAULT_TLS_OPTIONS.alpnProtocols;
      return chooseProtocol(offered, protocols);
    },
  };
}

/**
 * Builds the TLS settings of an entry point's secure server, which serves the connections whose
 * ClientHello could not be read before the handshake (see `TlsOptionsServers`).
 */
export function tlsServerOptions(source: TlsHandshakeSource): NodeTlsServerOptions & HandshakeCallbacks {
  const defaultCertificate = source.store.defaultCertificate;
  const callbacks = handshakeCallbacks(source);
  return {
    // A client that sends no server name gets the default certificate with the default options,
    // because Node.js calls SNICallback only when a name was sent.
    ...secureContextOptions(DEFAULT_TLS_OPTIONS),
    cert: defaultCertificate.entry.certPem,
    key: defaultCertificate.entry.keyPem,
    ...callbacks,
    // This server runs with the built-in versions and ciphers, and a context from SNICallback cannot
    // change them. A host whose options set others is rejected here, so a client cannot escape its
    // minVersion by sending a ClientHello that is too slow or too large to read in advance.
    SNICallback(serverName, callback) {
      const options = source.optionsFor(serverName);
      if (options !== undefined && !sameProtocolSettings(options, DEFAULT_TLS_OPTIONS)) {
        callback(new Error(`the TLS options of server name ${serverName} cannot be applied to a ClientHello that was not read in advance`), undefined);
        return;
      }
      callbacks.SNICallback(serverName, callback);
    },
  };
}

/** Returns whether two options agree on everything a handshake fixes before SNICallback runs. */
function sameProtocolSettings(a: Readonly<TlsOptions>, b: Readonly<TlsOptions>): boolean {
  return a.minVersion === b.minVersion && a.maxVersion === b.maxVersion && a.ciphers === b.ciphers && a.ecdhCurve === b.ecdhCurve;
}

/** TLS alert descriptions sent when a handshake is rejected before any TLS server reads it (RFC 8446 section 6). */
const ALERT_HANDSHAKE_FAILURE = 40;
const ALERT_MISSING_EXTENSION = 109;

/**
 * The TLS servers of one entry point, one per TLS options object, to which connections are handed
 * once their ClientHello was read. Node.js applies the TLS versions, ciphers and curves of the
 * server that runs the handshake, never those of a context returned by SNICallback, so each set
 * of options needs its own server. The servers never listen, and each secure connection goes on
 * to `target`, which serves HTTP/2 or HTTP/1.1 on it.
 */
export class TlsOptionsServers {
  readonly #source: TlsHandshakeSource;
  readonly #target: TlsServer;
  readonly #handshakeTimeoutMs: number;
  readonly #callbacks: HandshakeCallbacks;
  /** Servers by options object. A new runtime brings new objects, so servers of old ones are collected. */
  readonly #servers = new WeakMap<TlsOptions, { defaultCertificate: StoredCertificate; server: TlsServer }>();
  /** Servers of pending TLS-ALPN-01 challenges, collected once the challenge is withdrawn. */
  readonly #challengeServers = new WeakMap<ChallengeCertificate, TlsServer>();

  constructor(source: TlsHandshakeSource, target: TlsServer, handshakeTimeoutMs: number) {
    this.#source = source;
    this.#target = target;
    this.#handshakeTimeoutMs = handshakeTimeoutMs;
    this.#callbacks = handshakeCallbacks(source);
  }

  /**
   * Starts the handshake of `socket`, which must be paused with its ClientHello put back, with the
   * TLS options of the server name in `hello`, or the `default` options when the client sent no
   * name. Rejects the handshake with a TLS alert when those options are invalid, or when the
   * client sent no name and the options set sniStrict. A TLS-ALPN-01 validation connection for a
   * pending challenge gets the challenge certificate instead, whatever the options set.
   */
  handOver(socket: Socket, hello: ClientHelloInfo): void {
    const challenge = tlsAlpnChallengeCertificate(hello.serverName, hello.alpnProtocols);
    if (challenge !== undefined) {
      this.#challengeServerFor(challenge).emit('connection', socket);
      return;
    }

    const options = this.#source.optionsFor(hello.serverName);
    if (options === undefined) {
      rejectHandshake(socket, ALERT_HANDSHAKE_FAILURE);
      return;
    }
    // RFC 8446 section 9.2: a server that requires the server_name extension ends a ClientHello without it with a missing_extension alert.
    if (hello.serverName === undefined && options.sniStrict) {
      rejectHandshake(socket, ALERT_MISSING_EXTENSION);
      return;
    }
    this.#serverFor(options).emit('connection', socket);
  }

  /**
   * Returns a server that completes a TLS-ALPN-01 validation handshake with the challenge
   * certificate and the ALPN protocol `acme-tls/1`, and then closes the connection, because it
   * carries no application data (RFC 8737).
   */
  #challengeServerFor(challenge: ChallengeCertificate): TlsServer {
    const cached = this.#challengeServers.get(challenge);
    if (cached !== undefined) return cached;

    const server = createTlsServer({
      ...secureContextOptions(DEFAULT_TLS_OPTIONS),
      cert: challenge.certPem,
      key: challenge.keyPem,
      ALPNProtocols: [ACME_TLS_ALPN_PROTOCOL],
      handshakeTimeout: this.#handshakeTimeoutMs,
    });
    server.on('secureConnection', (tlsSocket: TLSSocket) => {
      tlsSocket.on('error', () => undefined);
      tlsSocket.end();
    });
    server.on('tlsClientError', (error: Error, tlsSocket: TLSSocket) => this.#target.emit('tlsClientError', error, tlsSocket));
    this.#challengeServers.set(challenge, server);
    return server;
  }

  #serverFor(options: TlsOptions): TlsServer {
    const defaultCertificate = this.#source.store.defaultCertificate;
    const cached = this.#servers.get(options);
    if (cached !== undefined && cached.defaultCertificate === defaultCertificate) return cached.server;

    const server = createTlsServer({
      ...secureContextOptions(options),
      // Clients without a server name get this certificate, because SNICallback runs only for a name.
      cert: defaultCertificate.entry.certPem,
      key: defaultCertificate.entry.keyPem,
      ...this.#callbacks,
      handshakeTimeout: this.#handshakeTimeoutMs,
    });
    server.on('secureConnection', (tlsSocket: TLSSocket) => {
      // The HTTP/2 server reads settings of its HTTP/1.1 fallback through `socket.server`, which
      // Node.js set to the server that ran the handshake, so it must name the target instead.
      (tlsSocket as TLSSocket & { server: TlsServer }).server = this.#target;
      this.#target.emit('secureConnection', tlsSocket);
    });
    server.on('tlsClientError', (error: Error, tlsSocket: TLSSocket) => this.#target.emit('tlsClientError', error, tlsSocket));
    this.#servers.set(options, { defaultCertificate, server });
    return server;
  }
}

/** Ends a connection with a fatal alert record in place of a ServerHello (RFC 8446 sections 5.1 and 6). */
function rejectHandshake(socket: Socket, description: number): void {
  // Record type alert (21), legacy version TLS 1.2, length 2, level fatal (2), description.
  socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description]));
  socket.resume();
}

type AlpnCallback = (details: { servername: string | false; protocols: string[] }) => string | undefined;

/**
 * Picks the first protocol of the server's list that the client offered. Protocols Berth does not
 * serve are skipped even when configured, such as `acme-tls/1`, which only
 * `TlsOptionsServers` serves, with the certificate of a pending challenge. Returning undefined makes Node.js end the handshake with a
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
