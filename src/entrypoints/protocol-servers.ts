// The protocol servers behind one entry point's listener: HTTP/1.1 for plain connections, HTTPS
// with HTTP/2 or HTTP/1.1 by ALPN for TLS connections, and h2c when enabled. None of them listens
// itself: the entry point hands each connection to one of them once it has detected the protocol from the first bytes.
import type { EventEmitter } from 'node:events';
import { createServer as createHttp1Server, type Server as Http1Server } from 'node:http';
import { createSecureServer, createServer as createH2cServer, getPackedSettings, type Http2SecureServer, type Http2Server, type Settings } from 'node:http2';
import type { Duplex } from 'node:stream';

import { tlsServerOptions, type TlsHandshakeSource } from './tls-handshake.js';

/**
 * `maxHeadersCount` for the HTTP/1.1 parsers, where 0 means no limit. With Node's default of 2000,
 * the lines after the 2000th are dropped without an error, Content-Length and Transfer-Encoding
 * included, so the body would be misread. `maxHeaderSize` still bounds the request head.
 */
const UNLIMITED_HEADER_LINES = 0;

/** Properties of a node:http server that the HTTP/1.1 fallback of an HTTP/2 secure server reads. */
interface HttpFallbackSettings {
  requireHostHeader: boolean;
  maxHeaderSize: number;
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval: number;
  keepAliveTimeout: number;
  maxHeadersCount: number;
}

export interface ProtocolServerOptions {
  /** Time to receive a whole request head, in ms, where 0 disables it. Drops slow-header (slowloris) clients. */
  headersTimeoutMs: number;
  /** Time an idle HTTP/1.1 keep-alive connection stays open, in ms, where 0 disables it. */
  keepAliveTimeoutMs: number;
  /** Limit of an HTTP/1.1 request head, and of an HTTP/2 header list, in bytes. */
  maxHeaderSize: number;
  maxConcurrentStreams: number;
  /** Called when Node.js fails to set up the HTTP/2 session of a connection, which is then destroyed. */
  onSessionSetupError: (error: unknown) => void;
}

/** Builds the HTTP/1.1 server of plain connections. */
export function createPlainServer(options: ProtocolServerOptions): Http1Server {
  const server = createHttp1Server({
    // Node.js responds 400 to an HTTP/1.1 request without Host, as RFC 9112 section 3.2 requires and
    // Go's server does. It checks only HTTP/1.1, so HTTP/1.0 clients, which send no Host, still reach the routers.
    requireHostHeader: true,
    maxHeaderSize: options.maxHeaderSize,
    headersTimeout: options.headersTimeoutMs,
    // The whole-request timer stays off: the entry point bounds pauses in the body instead.
    requestTimeout: 0,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    connectionsCheckingInterval: checkingInterval(options.headersTimeoutMs),
  });
  server.maxHeadersCount = UNLIMITED_HEADER_LINES;
  return server;
}

/** Builds the server of TLS connections, which speaks HTTP/2 or HTTP/1.1 as ALPN decided. */
export function createTlsServer(options: ProtocolServerOptions, source: TlsHandshakeSource): Http2SecureServer {
  const server = createSecureServer({
    ...tlsServerOptions(source),
    allowHTTP1: true,
    // RFC 9113 section 6.5.2: the limits a client must respect on this connection.
    ...http2Limits(options),
    handshakeTimeout: handshakeTimeoutMs(options),
  } as Parameters<typeof createSecureServer>[0]);
  guardSessionSetup(server, 'secureConnection', options.onSessionSetupError);

  // The HTTP/1.1 fallback reads its settings from the server object, as a plain HTTP/1.1 server
  // does. Node.js 24.22 copies them from the options, but 20.20 ignores them there and keeps its
  // defaults (no Host check, a 300 s request timeout), so they are set on the object. The entry
  // point checks Host itself as well, because the fallback's check covers only a missing Host.
  const fallback = server as unknown as HttpFallbackSettings;
  fallback.requireHostHeader = true;
  fallback.maxHeaderSize = options.maxHeaderSize;
  fallback.headersTimeout = options.headersTimeoutMs;
  fallback.requestTimeout = 0;
  fallback.connectionsCheckingInterval = checkingInterval(options.headersTimeoutMs);
  fallback.keepAliveTimeout = options.keepAliveTimeoutMs;
  fallback.maxHeadersCount = UNLIMITED_HEADER_LINES;
  return server;
}

/** Returns the time a TLS handshake may take, in ms: the headers timeout, or Node's default of 120 s when that is disabled. */
export function handshakeTimeoutMs(options: ProtocolServerOptions): number {
  return options.headersTimeoutMs > 0 ? options.headersTimeoutMs : 120_000;
}

/** Builds the server of h2c connections: HTTP/2 without TLS, for clients that know the entry point speaks it. */
export function createPriorKnowledgeServer(options: ProtocolServerOptions): Http2Server {
  const server = createH2cServer(http2Limits(options));
  guardSessionSetup(server, 'connection', options.onSessionSetupError);
  return server;
}

/** Bytes that RFC 9113 §6.5.2 adds to each field's name and value when it sizes a header list. */
const HTTP2_FIELD_OVERHEAD = 32;

/**
 * Allowance in the HTTP/2 header list for `:method`, `:scheme`, `:path`, `:authority` and `:protocol`,
 * which count more there than in the entry point's count (`http1HeadSize`). It is an estimate: 1 KiB
 * covers their names, their overhead and any method or scheme that clients use.
 */
const PSEUDO_HEADER_ALLOWANCE = 1024;

/** Largest number of pseudo-header fields in a request: `:method`, `:scheme`, `:authority`, `:path` and `:protocol`. */
const MAX_PSEUDO_HEADER_FIELDS = 5;

/** Largest value of an HTTP/2 setting (RFC 9113 §6.5.1: 32 bits). */
const MAX_SETTING_VALUE = 2 ** 32 - 1;

/**
 * Returns the HTTP/2 SETTINGS and Node.js's limit on the number of fields in a request's header list.
 * Node.js resets a stream whose list passes either limit with ENHANCE_YOUR_CALM before JavaScript
 * receives the request, so HTTP/2 clients got no response where HTTP/1.1 clients got one, or a 431.
 * The entry point instead checks each list against `maxHeaderSize` as HTTP/1.1 counts it, where a
 * field adds its name and value and so at least one byte. Node.js counts 32 bytes more per field, so
 * a list the entry point accepts is at most 33 times `maxHeaderSize`, plus the pseudo-header fields.
 * Node.js's limits are set that high. Every list up to them reaches the entry point, which responds
 * 431 above its limit, the status RFC 9113 §10.5.1 suggests and Go's server sends.
 * The size is also what the SETTINGS frame advertises, which RFC 9113 §6.5.2 makes advisory.
 */
function http2Limits(options: ProtocolServerOptions): { settings: Settings; maxHeaderListPairs: number } {
  const settings = http2Settings(options);
  return { settings, maxHeaderListPairs: options.maxHeaderSize + MAX_PSEUDO_HEADER_FIELDS };
}

/**
 * Returns the SETTINGS that the HTTP/2 servers send, after checking them as Node.js does. Node.js
 * checks them only when it sets up a session, where an invalid value throws out of the connection
 * event, so the check here makes it fail when the entry point is built instead.
 */
function http2Settings(options: ProtocolServerOptions): Settings {
  const settings = { maxConcurrentStreams: options.maxConcurrentStreams, maxHeaderListSize: options.maxHeaderSize };
  try {
    getPackedSettings(settings);
    const listSize = options.maxHeaderSize * (1 + HTTP2_FIELD_OVERHEAD) + PSEUDO_HEADER_ALLOWANCE;
    settings.maxHeaderListSize = Math.min(listSize, MAX_SETTING_VALUE);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`invalid HTTP/2 settings ${JSON.stringify(settings)} (${detail}); set http2.maxConcurrentStreams and the header size limit to whole numbers from 1 to 4294967295`, { cause: error });
  }
  return settings;
}

/**
 * Wraps the listeners that node:http2 added for `event`, which set up a session for each
 * connection. An error they throw would escape from the TLS socket or from the entry point's
 * `emit('connection')` and end the process, so it is passed to `onError` and the connection closed.
 * Call it before adding other listeners for `event`, which stay unwrapped.
 */
export function guardSessionSetup(server: EventEmitter, event: 'connection' | 'secureConnection', onError: (error: unknown) => void): void {
  for (const listener of server.listeners(event) as Array<(socket: Duplex) => void>) {
    server.removeListener(event, listener);
    server.on(event, (socket: Duplex) => {
      try {
        listener.call(server, socket);
      } catch (error) {
        onError(error);
        socket.destroy();
      }
    });
  }
}

/**
 * Returns how often Node.js checks the headers timeout of open connections, in ms. The check
 * runs on a timer, so a finer interval makes a short timeout precise. A quarter of the timeout,
 * between 100 ms and 1 s, keeps the overshoot small without scanning connections too often.
 */
function checkingInterval(headersTimeoutMs: number): number {
  if (headersTimeoutMs <= 0) return 30_000;
  return Math.min(1_000, Math.max(100, Math.floor(headersTimeoutMs / 4)));
}
