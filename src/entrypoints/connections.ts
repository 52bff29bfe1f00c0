// The connections of one entry point, tracked so that a graceful shutdown can close each kind at the right
// time: connections without a request at once, HTTP/1.1 connections after their response in flight, HTTP/2
// sessions after their last stream, and whatever is left at the end of the grace period.
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse, Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

import { InFlightResponses } from './in-flight.js';

/** A connection on which no request has started, reduced to what closing it needs. */
type Closable = { destroy(): void };

/** Traefik's `transport.keepAliveMaxRequests` and `keepAliveMaxTime`, where 0 sets no limit. */
export interface KeepAliveLimits {
  /** Requests a connection carries; the last gets `Connection: close` on HTTP/1.1, or a GOAWAY on HTTP/2. */
  maxRequests: number;
  /** Age of a connection in ms after which its next request is its last. */
  maxTimeMs: number;
}

export const NO_KEEP_ALIVE_LIMITS: KeepAliveLimits = { maxRequests: 0, maxTimeMs: 0 };

/** The requests started on one connection so far, and when the connection was set up. */
interface ConnectionUse {
  startedAt: number;
  requests: number;
}

/** The open connections and HTTP/1.1 responses in flight of one entry point. */
export class EntryPointConnections {
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<Http2Session>();
  /**
   * Connections on which no request has started: sockets whose protocol is not known yet, TLS sockets
   * for HTTP/1.1 before their first request, and HTTP/2 sessions before their first stream.
   */
  readonly #silent = new Set<Closable>();
  /** Use of each connection (socket or HTTP/2 session), kept only when a keep-alive limit is set. */
  readonly #uses = new WeakMap<object, ConnectionUse>();
  /** HTTP/1.1 responses not finished yet, which shutdown makes the last of their connection. */
  readonly #inFlight = new InFlightResponses();
  readonly #limits: KeepAliveLimits;
  readonly #closeIdle: () => void;
  #closing = false;

  /** `closeIdle` closes the HTTP/1.1 connections of the entry point that wait for a request. */
  constructor(limits: KeepAliveLimits, closeIdle: () => void) {
    this.#limits = limits;
    this.#closeIdle = closeIdle;
  }

  /** True once `shutdown` was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Tracks a connection the listener accepted, until it closes. */
  addSocket(socket: Socket): void {
    this.#sockets.add(socket);
    this.#silent.add(socket);
    this.#recordStart(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#silent.delete(socket);
    });
  }

  /** Tracks a TLS connection after its handshake, until its first HTTP/1.1 request starts. */
  addTlsSocket(tlsSocket: TLSSocket): void {
    tlsSocket.once('close', () => this.#silent.delete(tlsSocket));
    this.#recordStart(tlsSocket);
    // An HTTP/2 connection is tracked by its session instead.
    if (tlsSocket.alpnProtocol === 'h2') return;
    // A handshake that ends after shutdown began leaves a connection that can have no request yet.
    if (this.#closing) tlsSocket.destroy();
    else this.#silent.add(tlsSocket);
  }

  /** Tracks an HTTP/2 session until it closes, and closes it at once during shutdown. */
  addSession(session: Http2Session): void {
    this.#sessions.add(session);
    this.#silent.add(session);
    this.#recordStart(session);
    session.once('stream', () => this.#silent.delete(session));
    session.once('close', () => {
      this.#sessions.delete(session);
      this.#silent.delete(session);
    });
    if (this.#closing) session.close();
  }

  /** Stops closing `connection` at once on shutdown: a request started on it, or a protocol server took it over. */
  markActive(connection: Closable): void {
    this.#silent.delete(connection);
  }

  /**
   * Tracks a request being served. An HTTP/1.1 response becomes the last on its connection when it started
   * during shutdown or reached a keep-alive limit. On HTTP/2, reaching a limit sends a GOAWAY, so the session
   * closes once its open streams, this one included, have ended.
   */
  beginResponse(response: ServerResponse): void {
    if (this.#closing) {
      this.#closeAfter(response);
      return;
    }
    if (response.req.httpVersionMajor === 1) {
      this.#inFlight.track(response);
      if (this.#reachedLimit(response.req.socket)) lastOnConnection(response);
      return;
    }
    const session = (response as unknown as Http2ServerResponse).stream.session;
    if (session === undefined || !this.#reachedLimit(session)) return;
    // The GOAWAY names the last stream read so far. Sent at once, it would refuse the streams whose frames
    // arrived with this one but are not read yet (over TLS, one record at a time), so it waits a turn.
    // Go's HTTP/2 server sends it later still, when it writes a response header with `Connection: close`.
    setImmediate(() => session.close());
  }

  /**
   * Starts a graceful shutdown: idle HTTP/1.1 connections and connections without a request close now,
   * busy HTTP/1.1 connections after their response, and HTTP/2 sessions get a GOAWAY.
   */
  shutdown(): void {
    this.#closing = true;
    this.#inFlight.forEach((response) => this.#closeAfter(response));
    this.#closeIdle();
    for (const session of this.#sessions) session.close();
    // No request has started on these, so closing them loses nothing. Go's server waits until such a
    // connection has been quiet for 5 s, which only delays the stop.
    for (const connection of this.#silent) connection.destroy();
  }

  /** Closes every connection still open, WebSocket tunnels included. */
  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Makes an HTTP/1.1 response that started during shutdown the last one on its connection. */
  #closeAfter(response: ServerResponse): void {
    if (response.req.httpVersionMajor >= 2) return;
    lastOnConnection(response);
    response.once('finish', () => setImmediate(() => this.#closeIdle()));
  }

  #recordStart(connection: object): void {
    if (this.#limits.maxRequests > 0 || this.#limits.maxTimeMs > 0) this.#uses.set(connection, { startedAt: performance.now(), requests: 0 });
  }

  /**
   * Counts a request on `connection` and returns true when the connection is to close after it: the request
   * is the last that `maxRequests` allows, or the connection is older than `maxTimeMs`, checked as the request
   * starts, as Traefik does. Node's own maxRequestsPerSocket is not used, because it sends `Connection: close`
   * but keeps the connection open, where Traefik closes it.
   */
  #reachedLimit(connection: object): boolean {
    const use = this.#uses.get(connection);
    if (use === undefined) return false;
    use.requests += 1;
    const { maxRequests, maxTimeMs } = this.#limits;
    if (maxRequests > 0 && use.requests >= maxRequests) return true;
    return maxTimeMs > 0 && performance.now() - use.startedAt > maxTimeMs;
  }
}

/** Makes node:http send `Connection: close` with `response` and close the connection after it. */
function lastOnConnection(response: ServerResponse): void {
  // `shouldKeepAlive` is how node:http decides to send `Connection: close`. Setting a
  // `Connection` header instead would make Node.js 20 merge repeated fields such as Set-Cookie.
  if (!response.headersSent) (response as { shouldKeepAlive?: boolean }).shouldKeepAlive = false;
}
