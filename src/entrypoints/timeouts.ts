// Traefik's `transport.respondingTimeouts` applied to one request or one HTTP/2 session. The
// request head is bounded by the protocol server's headers timeout, and this file covers the rest.
import type { Http2Session } from 'node:http2';

import { abortResponse, type AbortableResponse } from '../proxy/abort-response.js';

/** A request or response of either HTTP version, reduced to what the timers need. */
interface TimedRequest {
  readonly complete: boolean;
  readonly httpVersionMajor: number;
  /** On HTTP/1.1, `timeout` is the socket's inactivity timeout as last set, in ms. */
  readonly socket: { readonly timeout?: number } | null;
  setTimeout(ms: number, callback?: () => void): unknown;
  once(event: 'end', listener: () => void): unknown;
  destroy(): unknown;
}

type TimedResponse = AbortableResponse & {
  readonly writableFinished: boolean;
  once(event: 'close' | 'finish', listener: () => void): unknown;
};

export interface RequestTimeouts {
  /** Maximum pause while the request body is read, in ms, where 0 disables it. */
  readTimeoutMs: number;
  /** Time from the start of the request to the end of its response, in ms, where 0 disables it. */
  writeTimeoutMs: number;
}

/**
 * Starts the timers of one request. A pause in the request body longer than the read timeout, or
 * a response still unfinished at the write timeout, closes the connection (HTTP/1.1) or resets the
 * stream with INTERNAL_ERROR (HTTP/2). Go's server also cuts the exchange for Traefik, and the client
 * gets an incomplete exchange.
 *
 * The read timeout counts pauses rather than the whole body, unlike Go's ReadTimeout, so that an
 * upload that keeps moving is never cut, however long it takes.
 */
export function startRequestTimers(request: TimedRequest, response: TimedResponse, hasBody: boolean, timeouts: RequestTimeouts): void {
  // A request without a body is never read to its end, so a timer cleared on 'end' would stay.
  if (timeouts.readTimeoutMs > 0 && hasBody) startReadTimer(request, response, timeouts.readTimeoutMs);

  if (timeouts.writeTimeoutMs > 0) {
    const timer = setTimeout(() => {
      if (!response.writableFinished) abortResponse(response);
    }, timeouts.writeTimeoutMs);
    timer.unref();
    response.once('close', () => clearTimeout(timer));
  }
}

/**
 * Bounds each pause in the request body by `readTimeoutMs`, until the body ends.
 *
 * On HTTP/1.1 the request's timer is the socket's inactivity timer, which node:http also uses for
 * the keep-alive (idle) timeout, and node:http sets that one when a response finishes. A server may respond
 * before it read the body, such as with 413 or 401, and the rest of the body is then read and
 * discarded. The read timeout is therefore set again for that rest, and the keep-alive timeout is
 * restored once the body ends, so that neither is lost and an idle connection always closes.
 *
 * node:http clears the keep-alive timeout when it parses the next request on the connection, which
 * a pipelining client may send in the same write as the end of the body. The keep-alive timeout is
 * then not restored, because the newer request is in progress and must not be cut by it. node:http
 * sets it again when the last response on the connection finishes.
 */
function startReadTimer(request: TimedRequest, response: TimedResponse, readTimeoutMs: number): void {
  const http1 = request.httpVersionMajor < 2;
  let responseFinished = false;
  /** The keep-alive timeout that node:http set when the response finished before the body. */
  let keepAliveTimeoutMs: number | undefined;

  // NOTE: on HTTP/1.1 a response write also counts as activity, and a server that holds back the
  // body for longer than the timeout also trips it.
  request.setTimeout(readTimeoutMs, () => {
    // A finished HTTP/1.1 response has left its socket, so only destroying the unfinished request
    // still closes the connection.
    if (http1 && responseFinished) request.destroy();
    else abortResponse(response);
  });

  response.once('finish', () => {
    responseFinished = true;
    if (!http1 || request.complete) return;
    // node:http set the keep-alive timeout in its own 'finish' listener, which runs before this one.
    keepAliveTimeoutMs = request.socket?.timeout;
    request.setTimeout(readTimeoutMs);
  });
  request.once('end', () => {
    if (!responseFinished) request.setTimeout(0);
    else if (keepAliveTimeoutMs !== undefined && isNewestRequest(request)) request.setTimeout(keepAliveTimeoutMs);
  });
}

/** The HTTP/1.1 request that node:http parsed last on each connection, by socket. */
const newestRequests = new WeakMap<object, object>();

/**
 * Records `request` as the newest request on its HTTP/1.1 connection. Call it for every request,
 * upgrade and CONNECT request as node:http emits it, which is when node:http clears the keep-alive
 * timeout of the connection.
 */
export function recordParsedRequest(request: { readonly socket: object | null }): void {
  if (request.socket !== null) newestRequests.set(request.socket, request);
}

/** Returns false when a request newer than `request` was recorded on its connection. */
function isNewestRequest(request: TimedRequest): boolean {
  if (request.socket === null) return true;
  const newest = newestRequests.get(request.socket);
  return newest === undefined || newest === request;
}

/**
 * Closes an HTTP/2 session gracefully (GOAWAY, RFC 9113 section 6.8) once it has had no open
 * stream for `idleTimeoutMs`. Unlike a socket inactivity timer, a quiet but open stream, such as
 * server-sent events, keeps the session alive.
 */
export function closeWhenIdle(session: Http2Session, idleTimeoutMs: number): void {
  if (idleTimeoutMs <= 0) return;

  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer = setTimeout(() => {
      if (!session.closed && !session.destroyed) session.close();
    }, idleTimeoutMs);
    timer.unref();
  };

  session.on('stream', (stream) => {
    open += 1;
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    stream.once('close', () => {
      open -= 1;
      if (open === 0) arm();
    });
  });
  session.once('close', () => clearTimeout(timer));
  arm();
}
