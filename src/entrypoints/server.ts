// One listener per entry point. Each connection is handed, by its first bytes, to the HTTP/1.1,
// TLS (HTTP/2 or HTTP/1.1 by ALPN) or h2c server. The request handler is fixed at start, and dynamic
// changes reach it through the dispatcher's runtime reference, so no listener is closed or
// reopened for them.
import { STATUS_CODES, type IncomingMessage, type Server as Http1Server, type ServerResponse } from 'node:http';
import type { Http2SecureServer, Http2Server, Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2';
import { createServer as createListener, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

import type { Logger } from '../observability/logger.js';
import { Fields } from '../observability/fields.js';
import { abortResponse } from '../proxy/abort-response.js';
import { hasRequestBody } from '../proxy/upstream-request.js';
import { parseListenAddress } from './address.js';
import { ForwardedHeadersTrust, type ForwardedHeadersOptions } from './forwarded-trust.js';
import { DEFAULT_MAX_HEADER_BYTES } from '../config/types.js';
import { createPlainServer, createPriorKnowledgeServer, createTlsServer, handshakeTimeoutMs } from './protocol-servers.js';
import { sniffProtocol, type ClientHelloInfo, type ConnectionProtocol } from './protocol-sniffer.js';
import { closeWhenIdle, recordParsedRequest, startRequestTimers } from './timeouts.js';
import { TlsOptionsServers, defaultContextOptions, type TlsHandshakeSource } from './tls-handshake.js';
import { answerClientError } from './client-error.js';
import { foldSingleValueFieldsOnWrite } from './http2-single-value.js';
import { guardTrailerSend } from './http2-trailer-send.js';
import { EntryPointConnections, NO_KEEP_ALIVE_LIMITS, type KeepAliveLimits } from './connections.js';
import { MAX_WAITING_REQUESTS, servePipelined, type PipelineTurn } from './pipeline.js';
import { dropRedundantHost, isHttp2Stream, isServerWideOptions, rejectRequest, type RequestRejection } from './request-validation.js';
import { DEFAULT_SESSION_LIVENESS, watchSessionLiveness, type SessionLivenessOptions } from './session-liveness.js';
import { timerMs } from '../config/timer-limit.js';

export type Scheme = 'http' | 'https';
export type RequestHandler = (request: IncomingMessage, response: ServerResponse, scheme: Scheme) => void | Promise<void>;
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer, scheme: Scheme) => void | Promise<void>;

/** Traefik's `transport.respondingTimeouts` and `lifeCycle`, in ms. 0 disables a timeout. */
export interface EntryPointTimeouts {
  readTimeoutMs: number;
  writeTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface EntryPointOptions {
  name: string;
  address: string;
  handler: RequestHandler;
  /** Handles HTTP/1.1 requests with `Connection: upgrade`. Without one, they get a 404. */
  upgradeHandler?: UpgradeHandler;
  logger: Logger;
  /** Peers whose X-Forwarded-* fields are kept. By default no peer is trusted. */
  forwardedHeaders?: ForwardedHeadersOptions;
  /** Traefik's defaults (60 s, 0, 180 s) where not given. */
  timeouts?: Partial<EntryPointTimeouts>;
  http2?: { maxConcurrentStreams: number; h2c: boolean };
  /** Certificates and TLS options. Without them the entry point closes TLS connections. */
  tls?: TlsHandshakeSource;
  /** Limit of a request head in bytes, 16 KiB by default. A larger head gets 431. */
  maxHeaderSize?: number;
  /** Traefik's `keepAliveMaxRequests` and `keepAliveMaxTime`; no limit by default. */
  keepAlive?: KeepAliveLimits;
  /** Time requests in flight get at shutdown when `close` is given none, in ms, 10 s by default. */
  graceTimeOutMs?: number;
  /** PING check of HTTP/2 sessions with open streams. Not a Traefik option, and tests shorten it. */
  sessionLiveness?: SessionLivenessOptions;
}

const DEFAULT_TIMEOUTS: EntryPointTimeouts = { readTimeoutMs: 60_000, writeTimeoutMs: 0, idleTimeoutMs: 180_000 };
const DEFAULT_GRACE_TIMEOUT_MS = 10_000;

export class EntryPoint {
  readonly name: string;
  readonly #options: EntryPointOptions;
  readonly #logger: Logger;
  readonly #timeouts: EntryPointTimeouts;
  readonly #trust: ForwardedHeadersTrust;
  readonly #listener: NetServer;
  readonly #plain: Http1Server;
  readonly #secure: Http2SecureServer | undefined;
  /** Handshakes with the TLS options of their server name, which then go on to #secure. */
  readonly #tlsServers: TlsOptionsServers | undefined;
  readonly #h2c: Http2Server | undefined;
  readonly #connections: EntryPointConnections;

  constructor(options: EntryPointOptions) {
    this.name = options.name;
    this.#options = options;
    this.#logger = options.logger.child({ [Fields.entryPoint]: options.name });
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#timeouts = { readTimeoutMs: timerMs(timeouts.readTimeoutMs), writeTimeoutMs: timerMs(timeouts.writeTimeoutMs), idleTimeoutMs: timerMs(timeouts.idleTimeoutMs) };
    this.#trust = new ForwardedHeadersTrust(options.forwardedHeaders ?? { trustedIPs: [], insecure: false });
    this.#connections = new EntryPointConnections(options.keepAlive ?? NO_KEEP_ALIVE_LIMITS, () => this.#closeIdle());

    const serverOptions = {
      headersTimeoutMs: this.#timeouts.readTimeoutMs,
      keepAliveTimeoutMs: this.#timeouts.idleTimeoutMs,
      maxHeaderSize: options.maxHeaderSize ?? DEFAULT_MAX_HEADER_BYTES,
      maxConcurrentStreams: options.http2?.maxConcurrentStreams ?? 250,
      onSessionSetupError: (error: unknown) => this.#logger.error({ err: error }, 'setting up an HTTP/2 session failed, so the connection was closed'),
    };
    // Connections reach the protocol servers through 'connection' events, so the listener alone
    // sets TCP_NODELAY, as a node:http server does for the connections it accepts.
    this.#listener = createListener({ noDelay: true }, (socket) => this.#accept(socket));

    this.#plain = createPlainServer(serverOptions);
    this.#serveHttp1(this.#plain, 'http');

    if (options.tls !== undefined) {
      const tls = options.tls;
      const secure = createTlsServer(serverOptions, tls);
      this.#serveHttp1(secure, 'https');
      this.#serveHttp2(secure, 'https');
      secure.on('tlsClientError', (error: Error) => this.#logger.debug({ err: error }, 'TLS handshake failed'));
      secure.on('secureConnection', (tlsSocket: TLSSocket) => this.#connections.addTlsSocket(tlsSocket));
      tls.store.onChange(() => secure.setSecureContext(defaultContextOptions(tls.store)));
      this.#secure = secure;
      this.#tlsServers = new TlsOptionsServers(tls, secure, handshakeTimeoutMs(serverOptions));
    }
    if (options.http2?.h2c === true) {
      this.#h2c = createPriorKnowledgeServer(serverOptions);
      this.#serveHttp2(this.#h2c, 'http');
    }
  }

  /** Starts listening; rejects with a message naming the entry point and address on failure. */
  async listen(): Promise<AddressInfo> {
    const { host, port } = parseListenAddress(this.#options.address);
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(new Error(`entry point "${this.name}" cannot listen on ${this.#options.address}: ${error.code ?? error.message}`, { cause: error }));
      };
      this.#listener.once('error', onError);
      this.#listener.listen({ port, ...(host ? { host } : {}) }, () => {
        this.#listener.off('error', onError);
        resolve();
      });
    });

    // The protocol servers never listen themselves, but Node.js starts their headers-timeout
    // checks and connection tracking on 'listening'.
    for (const server of [this.#plain, this.#secure, this.#h2c]) server?.emit('listening');
    const address = this.#listener.address() as AddressInfo;
    this.#logger.info({ [Fields.address]: `${address.address}:${address.port}` }, 'entry point listening');
    return address;
  }

  /**
   * Stops accepting connections and lets requests in flight finish for up to `graceMs`: idle
   * HTTP/1.1 connections close now and busy ones after their response, HTTP/2 sessions get a
   * GOAWAY and close after their last stream. Whatever is still open at the deadline, WebSocket
   * tunnels included, is closed.
   */
  async close(grace: number = this.#options.graceTimeOutMs ?? DEFAULT_GRACE_TIMEOUT_MS): Promise<void> {
    const graceMs = timerMs(grace);
    const closed = new Promise<void>((resolve) => this.#listener.close(() => resolve()));
    this.#connections.shutdown();
    const timer = setTimeout(() => this.#connections.destroyAll(), graceMs);
    await closed;
    clearTimeout(timer);

    // Stops the connection checks that 'listening' started. The servers report that they were not listening, which is expected.
    for (const server of [this.#plain, this.#secure, this.#h2c]) server?.close(() => undefined);
  }

  #accept(socket: Socket): void {
    this.#connections.addSocket(socket);
    // Errors of the raw socket, such as a reset during the TLS handshake, need a listener, while
    // the protocol servers report what matters for requests.
    socket.on('error', (error) => this.#logger.debug({ err: error }, 'client connection failed'));
    sniffProtocol(socket, {
      h2c: this.#h2c !== undefined,
      timeoutMs: this.#timeouts.readTimeoutMs,
      readClientHello: this.#tlsServers !== undefined,
      onProtocol: (sniffed, protocol, hello) => this.#handOver(sniffed, protocol, hello),
    });
  }

  #handOver(socket: Socket, protocol: ConnectionProtocol, hello: ClientHelloInfo | undefined): void {
    this.#connections.markActive(socket);
    if (protocol === 'tls') {
      if (this.#secure === undefined) socket.destroy();
      else if (hello !== undefined && this.#tlsServers !== undefined) this.#tlsServers.handOver(socket, hello);
      // Without a readable ClientHello the handshake runs with the built-in default options, and
      // hosts whose options set other versions, ciphers or curves are rejected there.
      else this.#secure.emit('connection', socket);
      return;
    }
    if (protocol === 'h2c' && this.#h2c !== undefined) {
      this.#h2c.emit('connection', socket);
      return;
    }
    this.#plain.emit('connection', socket);
    // The TLS and HTTP/2 servers read the bytes put back themselves, but the HTTP/1.1 parser needs the stream flowing.
    socket.resume();
  }

  #serveHttp1(server: Http1Server | Http2SecureServer, scheme: Scheme): void {
    server.on('request', (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) => {
      // The TLS server emits HTTP/2 streams through the same event, and #serveHttp2 serves them. The
      // version number cannot tell them apart, because an HTTP/1 request line may contain `HTTP/2.0`.
      if (isHttp2Stream(request)) return;
      this.#onRequest(request, response as ServerResponse, scheme);
    });
    // With this listener node:http sends no `100 Continue` by itself, and the forwarder sends it once the
    // server sent its own or had a chance to respond early. #serveHttp2 serves HTTP/2 streams of the TLS server.
    server.on('checkContinue', (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) => {
      if (isHttp2Stream(request)) return;
      this.#onRequest(request, response as ServerResponse, scheme);
    });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(request, socket, head, scheme));
    // Berth tunnels no CONNECT requests. node:http would destroy the connection without a response, even
    // with an earlier pipelined response unwritten, so the 405 takes its turn like an upgrade.
    server.on('connect', (request: IncomingMessage | Http2ServerRequest, socket: Duplex | Http2ServerResponse) => {
      // With a 'connect' listener, the TLS server emits HTTP/2 CONNECT streams here too, with a response.
      if (isHttp2Stream(request)) {
        const response = socket as Http2ServerResponse;
        response.writeHead(405, { 'content-length': 0 });
        response.end();
        return;
      }
      const tunnel = socket as Duplex;
      recordParsedRequest(request);
      this.#connections.markActive(request.socket);
      this.#logTurn(servePipelined(request.socket, undefined, () => {
        this.#logger.debug({ [Fields.status]: 405, [Fields.reason]: 'CONNECT is not supported' }, 'rejected a request');
        tunnel.on('error', () => undefined);
        tunnel.end('HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      }));
    });
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, this.#logger));
  }

  #serveHttp2(server: Http2SecureServer | Http2Server, scheme: Scheme): void {
    server.on('session', (session: Http2Session) => {
      this.#connections.addSession(session);
      session.on('error', (error) => this.#logger.debug({ err: error }, 'HTTP/2 session failed'));
      closeWhenIdle(session, this.#timeouts.idleTimeoutMs);
      watchSessionLiveness(session, this.#options.sessionLiveness ?? DEFAULT_SESSION_LIVENESS, (waitedMs) => {
        this.#logger.debug({ [Fields.durationMs]: Math.round(waitedMs), [Fields.reason]: 'PING not acknowledged' }, 'closing unresponsive HTTP/2 session');
        session.destroy();
      });
    });
    const onRequest = (request: Http2ServerRequest | IncomingMessage, response: Http2ServerResponse | ServerResponse): void => {
      if (!isHttp2Stream(request)) return;
      foldSingleValueFieldsOnWrite(response as unknown as ServerResponse);
      guardTrailerSend(response as Http2ServerResponse, (error) => {
        this.#logger.warn({ [Fields.path]: request.url, err: error }, 'sending the trailer fields of an HTTP/2 response failed, so its stream was reset');
      });
      // The compatibility API offers the members of IncomingMessage and ServerResponse that the
      // dispatcher and the forwarder use, including `socket.remoteAddress`, `req` and `writeContinue()`.
      this.#onRequest(request as unknown as IncomingMessage, response as unknown as ServerResponse, scheme);
    };
    server.on('request', onRequest);
    // As on HTTP/1.1, the forwarder sends `100 Continue` to a stream with `Expect: 100-continue`.
    server.on('checkContinue', onRequest);
  }

  #onRequest(request: IncomingMessage, response: ServerResponse, scheme: Scheme): void {
    this.#connections.markActive(request.socket);
    const rejection = rejectRequest(request, this.#options.maxHeaderSize ?? DEFAULT_MAX_HEADER_BYTES);
    if (isHttp2Stream(request)) {
      if (rejection !== undefined) {
        this.#reject(response, rejection);
        return;
      }
      dropRedundantHost(request);
      this.#begin(request, response, scheme);
      return;
    }
    recordParsedRequest(request);
    // A rejection takes its turn too: it closes the connection, so no request after it is forwarded.
    const start = rejection === undefined ? () => this.#begin(request, response, scheme) : () => this.#reject(response, rejection);
    this.#logTurn(servePipelined(request.socket, response, start));
  }

  /** Logs a request that the pipeline dropped because too many requests were waiting on its connection. */
  #logTurn(turn: PipelineTurn): void {
    if (turn === 'rejected') {
      this.#logger.debug({ [Fields.reason]: `more than ${MAX_WAITING_REQUESTS} pipelined requests waiting` }, 'dropped a pipelined request unsent; the connection closes after the response before it');
    }
  }

  /** Serves a request that passed the checks and whose turn on its connection has come. */
  #begin(request: IncomingMessage, response: ServerResponse, scheme: Scheme): void {
    this.#trust.apply(request.headers, request.socket?.remoteAddress);
    startRequestTimers(request, response, hasRequestBody(request), this.#timeouts);
    this.#connections.beginResponse(response);
    if (isServerWideOptions(request)) {
      response.writeHead(200, { 'content-length': '0' });
      response.end();
      return;
    }

    let handled: unknown;
    try {
      handled = this.#options.handler(request, response, scheme);
    } catch (error) {
      this.#failRequest(response, error);
      return;
    }
    Promise.resolve(handled).catch((error: unknown) => this.#failRequest(response, error));
  }

  /** Logs a failed handler, then sends 500, or closes the response once its headers were sent. */
  #failRequest(response: ServerResponse, error: unknown): void {
    this.#logger.error({ err: error }, 'request handler failed');
    if (response.writableEnded) return;
    if (response.headersSent) {
      abortResponse(response);
      return;
    }
    try {
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('500 Internal Server Error\n');
    } catch (writeError) {
      // A middleware that wrapped writeHead can fail again here, for example on a header value that Node.js rejects.
      this.#logger.error({ err: writeError }, 'sending the 500 response failed');
      abortResponse(response);
    }
  }

  #onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, scheme: Scheme): void {
    recordParsedRequest(request);
    this.#connections.markActive(request.socket);
    // node:http emits an upgrade request as soon as it is parsed, even while the response to an earlier
    // request on the connection is still being written.
    this.#logTurn(servePipelined(request.socket, undefined, () => this.#upgrade(request, socket, head, scheme)));
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, scheme: Scheme): void {
    const upgradeHandler = this.#options.upgradeHandler;
    if (upgradeHandler === undefined || this.#connections.closing) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    // `OPTIONS *` names no resource that could be upgraded.
    const rejection = isServerWideOptions(request) ? { status: 400, reason: 'upgrade of OPTIONS *' } : rejectRequest(request);
    if (rejection !== undefined) {
      this.#logger.debug({ [Fields.status]: rejection.status, [Fields.reason]: rejection.reason }, 'rejected a request');
      socket.end(`HTTP/1.1 ${rejection.status} ${STATUS_CODES[rejection.status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    this.#trust.apply(request.headers, request.socket?.remoteAddress);
    Promise.resolve(upgradeHandler(request, socket, head, scheme)).catch((error: unknown) => {
      this.#logger.error({ err: error }, 'upgrade handler failed');
      socket.destroy();
    });
  }

  /** Sends the error response of a rejected request, and closes an HTTP/1 connection after it. */
  #reject(response: ServerResponse, rejection: RequestRejection): void {
    this.#logger.debug({ [Fields.status]: rejection.status, [Fields.reason]: rejection.reason }, 'rejected a request');
    const text = `${rejection.status} ${STATUS_CODES[rejection.status]}\n`;
    if (!isHttp2Stream(response.req)) (response as { shouldKeepAlive?: boolean }).shouldKeepAlive = false;
    response.writeHead(rejection.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  }

  #closeIdle(): void {
    this.#plain.closeIdleConnections();
    // Node.js has this method on HTTP/2 secure servers with allowHTTP1 (20.x and later), but its types lack it.
    (this.#secure as { closeIdleConnections?: () => void } | undefined)?.closeIdleConnections?.();
  }
}
