// The undici dispatch handler for one forwarded request, which streams the server's response to the client
// with backpressure, watches the client, enforces the response header timeout and settles the outcome.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';

import { BadGatewayError, ClientClosedError, UpstreamResetError, UpstreamTimeoutError } from '../errors.js';
import { Fields } from '../observability/fields.js';
import { abortResponse } from './abort-response.js';
import { watchClientGone } from './client-gone.js';
import { sendErrorResponse } from './error-response.js';
import {
  carriesTrailers,
  clearRejectedHead,
  clientResponseHeaders,
  connectionOptions,
  flattenHeaders,
  headerListSize,
  MAX_HTTP2_RESPONSE_HEADER_LIST,
  relayedReason,
  unsupportedTransferCoding,
  withoutContentLength,
} from './headers.js';
import { awaitRequestConnection, nothingReceived, type RequestConnection } from './connection-reuse.js';
import { classifyUpstreamError } from './status.js';
import { announcedTrailers, forwardedTrailers, serverTrailers } from './trailers.js';
import type { ForwardOutcome } from './types.js';
import { requestNotProcessed } from './unprocessed-stream.js';
import type { RequestBodyStream } from './upstream-request.js';

export interface ResponseRelayOptions {
  request: IncomingMessage;
  response: ServerResponse;
  /** The request body as undici reads it, or null when the request has none. */
  body: RequestBodyStream | null;
  /** The server's URL for log lines, with any password already replaced by `redactServerUrl`. */
  serverUrl: string;
  /** Time allowed between the end of the request and the response header, in ms. 0 waits forever. */
  responseHeaderTimeoutMs: number;
  logger: Logger;
  /** When false, a failure before any request byte was sent leaves the response untouched for a retry. */
  writeRetryableError: boolean;
  /** When true, an idempotent request without a body that got no response is also safe to retry. */
  retryIdempotent: boolean;
  /**
   * When true, an idempotent request without a body is safe to retry when the server closed or reset
   * a reused connection before any response byte, but not after a timeout. An h2c request that the
   * server did not process is then recognized too, and is safe to retry whatever its method.
   */
  replayAfterReset: boolean;
  /** The request target as sent to the server, to find the request's connection; requests through undici only. */
  upstreamPath?: string;
  /** True for a server with scheme h2c, whose stream Berth resets when the client leaves or the body is left unfinished. */
  h2c?: boolean;
}

/** Methods whose repetition has the same effect as one request (RFC 9110 §9.2.2). */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * Relays one exchange between the client's ServerResponse and undici. `outcome` settles once: when the
 * response ended, when forwarding failed, or as soon as the client went away.
 */
export class ResponseRelay implements Dispatcher.DispatchHandler {
  readonly outcome: Promise<ForwardOutcome>;

  readonly #options: ResponseRelayOptions;
  #resolve: (outcome: ForwardOutcome) => void = () => {};
  #controller: Dispatcher.DispatchController | undefined;
  /** Set when undici starts writing the request to a connection, after which it may have reached the server. */
  #requestStarted = false;
  /** The connection the request went out on, known only when a replay after a reset may be allowed. */
  #connection: RequestConnection | undefined;
  /** Status of the response whose header was sent to the client, 0 before. */
  #status = 0;
  /** Fields named in the `Connection` field of the server's response, which are dropped from its trailers too. */
  #connectionOptions: ReadonlySet<string> = new Set();
  #settled = false;
  #clientGone = false;
  #headerTimer: NodeJS.Timeout | undefined;
  #stopWatchingClient: () => void = () => {};

  constructor(options: ResponseRelayOptions) {
    this.#options = options;
    this.outcome = new Promise((resolve) => {
      this.#resolve = resolve;
    });

    // The client may have left already, while a middleware such as forwardAuth was still working. Then
    // #onClientClose runs at once, and onRequestStart aborts the request before undici writes it.
    this.#stopWatchingClient = watchClientGone(options.response, this.#onClientClose);
    options.response.on('drain', this.#onDrain);
    // The response header timeout counts from the end of the request, so a slow upload never trips it.
    options.body?.once('end', this.#startHeaderTimer);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    this.#requestStarted = true;
    const { request, upstreamPath, replayAfterReset, h2c } = this.#options;
    if ((replayAfterReset || h2c === true) && upstreamPath !== undefined) {
      awaitRequestConnection(request.method ?? 'GET', upstreamPath, (connection) => (this.#connection = connection));
    }

    // The client may have left while undici was still connecting, before there was anything to abort.
    if (this.#clientGone) {
      controller.abort(new ClientClosedError());
      return;
    }
    if (this.#options.body === null) {
      this.#startHeaderTimer();
    }
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    // NOTE: an unsolicited `100 Continue` never gets here. undici 7.30.3 fails it in Parser.onHeadersComplete
    // (lib/dispatcher/client-h1.js, `if (statusCode === 100)`) with UND_ERR_SOCKET `bad response` and has no
    // option to skip it, so Berth responds 502 where RFC 9110 §15.2 expects the 1xx to be ignored.
    // RFC 9110 §15 makes codes outside 100..599 invalid and directs clients to treat them as a 5xx. Node.js
    // would write 600..999 as they are, so they end as a 502.
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
      controller.abort(new BadGatewayError(`the server sent the invalid status code ${statusCode}`));
      return;
    }
    if (statusCode < 200) {
      this.#forwardInformational(statusCode, headers);
      return;
    }
    this.#clearHeaderTimer();

    const { request, response } = this.#options;
    if (response.headersSent) {
      controller.abort(new BadGatewayError('the response header was already sent by another handler'));
      return;
    }

    const raw = controller.rawHeaders;
    const rawList = Array.isArray(raw) ? raw : flattenHeaders(headers);
    // Aborting the request also closes the connection to the server, whose framing Berth cannot trust.
    const coding = unsupportedTransferCoding(rawList);
    if (coding !== undefined) {
      controller.abort(new BadGatewayError(`the server sent a response with the unsupported Transfer-Encoding ${JSON.stringify(coding)}`));
      return;
    }

    let list = clientResponseHeaders(rawList);
    // A 204 has no content (RFC 9110 §15.3.5) and must not carry Content-Length (§8.6). Go's server drops
    // it too; an HTTP/2 client would otherwise reset the stream for a length that no DATA frame matches.
    if (statusCode === 204) list = withoutContentLength(list);
    // `Trailer` is removed with the hop-by-hop fields, as Go's proxy does, and announced again here
    // because the trailer fields it names are passed on at the end (RFC 9110 section 6.6.2).
    this.#connectionOptions = connectionOptions(headers.connection);
    const announced = typeof headers.trailer === 'string' ? announcedTrailers(headers.trailer, this.#connectionOptions) : undefined;
    if (announced !== undefined && carriesTrailers(request, statusCode, headers)) {
      list.push('Trailer', announced);
    }
    if (request.httpVersionMajor >= 2 && headerListSize(list) > MAX_HTTP2_RESPONSE_HEADER_LIST) {
      controller.abort(new BadGatewayError(`the server sent a response header list of ${headerListSize(list)} bytes, more than the ${MAX_HTTP2_RESPONSE_HEADER_LIST} that Berth sends to an HTTP/2 client`));
      return;
    }
    try {
      const reason = relayedReason(request, statusMessage);
      if (reason === undefined) {
        response.writeHead(statusCode, list);
      } else {
        response.writeHead(statusCode, reason, list);
      }
    } catch (error) {
      // Node.js stores the status message and, on HTTP/2, the fields before it validates them, so they are
      // cleared to let the 502 that follows be written.
      clearRejectedHead(response, list);
      controller.abort(new BadGatewayError('the server sent a response header that cannot be forwarded', { cause: error }));
      return;
    }
    this.#status = statusCode;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#rejectsWithoutStatus(controller)) {
      return;
    }
    // Each chunk goes to the client socket as it arrives, with no buffer in between, which is what
    // Traefik's `responseForwarding.flushInterval=-1` sets and is never later than its 100 ms default.
    if (!this.#options.response.write(chunk)) {
      controller.pause();
    }
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders = {}): void {
    if (this.#rejectsWithoutStatus(controller)) {
      return;
    }
    // Node.js sends trailer fields only in a chunked HTTP/1.1 response or on HTTP/2, and drops them
    // otherwise, as when the client spoke HTTP/1.0.
    const { request, response } = this.#options;
    const fields = forwardedTrailers(serverTrailers(controller, trailers), this.#connectionOptions, request.httpVersionMajor >= 2);
    if (fields !== undefined) {
      try {
        response.addTrailers(fields);
      } catch (error) {
        // Node.js checks names and values here, and HTTP/1.1 may have kept part of the trailer section,
        // so the response is cut off rather than ended without the fields the server sent.
        this.fail(new BadGatewayError('the server sent a trailer field that cannot be forwarded', { cause: error }));
        return;
      }
    }
    response.end();
    // An h2c server that responded before the whole request body keeps its stream open when the rest never comes,
    // as when the client's connection closes after the response, because undici 7.30.3 neither ends nor resets it.
    const body = this.#options.body;
    if (body !== null && !body.sourceEnded) {
      this.#connection?.stream?.reset(new BadGatewayError('the server responded before the request body ended'));
    }
    this.#settle({ status: this.#status, safeToRetry: false });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.#endsBodilessResponse(error)) {
      this.#options.response.end();
      this.#settle({ status: this.#status, safeToRetry: false });
      return;
    }
    this.fail(error);
  }

  /**
   * Ends the exchange with a failure. It writes the mapped status if nothing was sent yet, and otherwise cuts
   * the client's connection. Failures are logged at debug level only, because the caller receives the error
   * in the outcome and logs it once with the router and service names.
   */
  fail(error: unknown): void {
    this.#clearHeaderTimer();
    if (this.#settled) {
      return;
    }

    const { response, body, logger, serverUrl } = this.#options;
    const failure = classifyUpstreamError(error);

    if (this.#clientGone || failure instanceof ClientClosedError) {
      this.#clientGone = true;
      this.#connection?.stream?.reset(failure);
      logger.debug({ [Fields.server]: serverUrl, [Fields.status]: failure.status, err: failure }, 'client closed the connection before the response ended');
      abortResponse(response);
      this.#settle({ status: failure.status, safeToRetry: false, error: failure });
      return;
    }

    if (response.headersSent) {
      // The status line is gone already, so the client learns that the response is incomplete from a closed
      // connection or, on HTTP/2, a stream reset with INTERNAL_ERROR. No error is passed, because Node.js
      // would report it as the client's fault through the server's 'clientError' event.
      logger.debug({ [Fields.server]: serverUrl, [Fields.status]: this.#status, err: failure }, 'the server failed during the response body');
      abortResponse(response);
      this.#settle({ status: this.#status === 0 ? failure.status : this.#status, safeToRetry: false, error: failure });
      return;
    }

    logger.debug({ [Fields.server]: serverUrl, [Fields.status]: failure.status, err: failure }, 'forwarding to the server failed');
    // As in Go's Transport: the server closed a connection that had served an earlier request, and sent
    // nothing for this one. A failure on a new connection, or after some bytes, is not a stale connection.
    const connection = this.#connection;
    const stale = this.#requestStarted && failure instanceof UpstreamResetError && connection !== undefined && connection.reused && nothingReceived(connection);
    const replayable = (this.#options.retryIdempotent || (this.#options.replayAfterReset && stale)) && body === null && IDEMPOTENT_METHODS.has(this.#options.request.method ?? '');
    // RFC 9113 §8.7: an h2c request the server did not process, as if it had never reached the server.
    const notProcessed = this.#requestStarted && this.#options.replayAfterReset && (body === null || !body.started) && requestNotProcessed(connection?.stream, error);
    const safeToRetry = !this.#requestStarted || replayable || notProcessed;
    if (!safeToRetry || this.#options.writeRetryableError) {
      const bodyUnread = body !== null && body.started && !body.sourceEnded;
      try {
        sendErrorResponse(response, failure.status, bodyUnread);
      } catch (error) {
        // The client is never left waiting, even when Node.js rejects the error response itself.
        logger.warn({ [Fields.server]: serverUrl, [Fields.status]: failure.status, err: error }, 'sending the error response to the client failed, so its connection is closed');
        abortResponse(response);
      }
    }
    this.#settle({ status: failure.status, safeToRetry, staleConnection: stale && replayable, notProcessed, error: failure });
  }

  /**
   * Sends `100 Continue` to the client of a request with `Expect: 100-continue` and calls `open` to start its
   * body (RFC 9110 section 10.1.1), unless a final response was already started. The node:http path calls it
   * when the server sent `100 Continue` or stayed silent for the expect timeout. The undici path, used for h2c
   * servers, calls it once undici has a connection and requests the body. Until then the client keeps its
   * body, so a response Berth or the server makes without it (no route, a 401, a 413, a refused connection)
   * reaches the client first, and another server can still be tried.
   */
  expectContinue(open: () => void): void {
    if (this.#settled || this.#status !== 0 || this.#options.response.headersSent) {
      return;
    }
    this.#options.response.writeContinue();
    open();
  }

  /**
   * Stops the response header timer and stops watching the response, because after a 101 the connection
   * belongs to a tunnel. `outcome` then never settles. Returns false when the exchange had already ended,
   * as when the client left first.
   */
  handOver(): boolean {
    if (this.#settled) {
      return false;
    }
    this.#settled = true;
    this.#clearHeaderTimer();
    this.#stopWatchingClient();
    this.#options.response.off('drain', this.#onDrain);
    return true;
  }

  /**
   * Returns whether `error` is undici's Content-Length mismatch at the end of a 204 or 304 response whose
   * header was already sent. Those responses never have a body (RFC 9110 §6.4.1), and a 304 may carry the
   * Content-Length of the representation (RFC 9110 §8.6). undici 7 checks Content-Length against the body
   * of every response except to HEAD, raises UND_ERR_RES_CONTENT_LENGTH_MISMATCH, and closes the connection
   * to the server. The client's response is complete all the same.
   */
  #endsBodilessResponse(error: Error): boolean {
    if (this.#settled || (this.#status !== 204 && this.#status !== 304) || !this.#options.response.headersSent) {
      return false;
    }
    return (error as { code?: unknown }).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
  }

  /**
   * Aborts the exchange when body or end arrive before any final status was relayed, as after a 1xx that
   * the caller took for a final response. Writing them would make Node.js send an implicit 200 instead.
   */
  #rejectsWithoutStatus(controller: Dispatcher.DispatchController): boolean {
    if (this.#status !== 0 || this.#settled) {
      return false;
    }
    controller.abort(new BadGatewayError('the server sent a response body without a final status'));
    return true;
  }

  #settle(outcome: ForwardOutcome): void {
    if (this.#settled) {
      return;
    }
    this.#settled = true;
    this.#clearHeaderTimer();
    this.#stopWatchingClient();
    this.#resolve(outcome);
  }

  // `writableEnded` and not `writableFinished`: Node.js 20 and 24 report an HTTP/2 response whose stream the
  // client reset as finished, because the stream has nothing left to write, even though Berth never ended it.
  #onClientClose = (): void => {
    if (this.#settled || this.#options.response.writableEnded) {
      return;
    }
    this.#clientGone = true;

    const error = new ClientClosedError();
    this.#options.logger.debug({ [Fields.server]: this.#options.serverUrl, [Fields.status]: error.status }, 'client closed the connection before the response ended');
    this.#connection?.stream?.reset(error);
    this.#controller?.abort(error);
    this.#settle({ status: error.status, safeToRetry: false, error });
  };

  #onDrain = (): void => {
    this.#controller?.resume();
  };

  #startHeaderTimer = (): void => {
    const timeoutMs = this.#options.responseHeaderTimeoutMs;
    if (timeoutMs <= 0 || this.#settled || this.#status !== 0 || this.#headerTimer !== undefined) {
      return;
    }
    this.#headerTimer = setTimeout(() => {
      this.#controller?.abort(new UpstreamTimeoutError(`the server sent no response header within ${timeoutMs} ms`));
    }, timeoutMs);
  };

  #clearHeaderTimer(): void {
    if (this.#headerTimer !== undefined) {
      clearTimeout(this.#headerTimer);
      this.#headerTimer = undefined;
    }
  }

  /**
   * Forwards the interim responses Node.js can send: 103 Early Hints with its Link field. RFC 9110 §15.2
   * forbids sending any 1xx to an HTTP/1.0 client. NOTE: other 1xx statuses, such as 102, are dropped.
   */
  #forwardInformational(statusCode: number, headers: IncomingHttpHeaders): void {
    const { request, response } = this.#options;
    if (statusCode !== 103 || headers.link === undefined || response.headersSent) {
      return;
    }
    if (request.httpVersionMajor === 1 && request.httpVersionMinor === 0) {
      return;
    }
    response.writeEarlyHints({ link: headers.link });
  }
}
