// The undici dispatch handler for one forwarded request, which streams the server's response to the client
// with backpressure, watches the client, enforces the response header timeout and settles the outcome.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';

import { BadGatewayError, ClientClosedError, UpstreamTimeoutError } from '../errors.js';
import { Fields } from '../observability/fields.js';
import { sendErrorResponse } from './error-response.js';
import { clientResponseHeaders } from './headers.js';
import { classifyUpstreamError } from './status.js';
import type { ForwardOutcome } from './types.js';
import type { RequestBodyStream } from './upstream-request.js';

export interface ResponseRelayOptions {
  request: IncomingMessage;
  response: ServerResponse;
  /** The request body as undici reads it, or null when the request has none. */
  body: RequestBodyStream | null;
  /** The server's URL, for log lines. */
  serverUrl: string;
  /** Time allowed between the end of the request and the response header, in ms. 0 waits forever. */
  responseHeaderTimeoutMs: number;
  logger: Logger;
  /** When false, a failure before any request byte was sent leaves the response untouched for a retry. */
  writeRetryableError: boolean;
}

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
  /** Status of the response whose header was sent to the client, 0 before. */
  #status = 0;
  #settled = false;
  #clientGone = false;
  #headerTimer: NodeJS.Timeout | undefined;

  constructor(options: ResponseRelayOptions) {
    this.#options = options;
    this.outcome = new Promise((resolve) => {
      this.#resolve = resolve;
    });

    options.response.on('close', this.#onClientClose);
    options.response.on('drain', this.#onDrain);
    // The response header timeout counts from the end of the request, so a slow upload never trips it.
    options.body?.once('end', this.#startHeaderTimer);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    this.#requestStarted = true;

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
    const list = clientResponseHeaders(Array.isArray(raw) ? raw : flattenHeaders(headers));
    try {
      // HTTP/2 has no reason phrase (RFC 9113 §8.3.2), and an empty one is replaced by Node.js's default.
      if (request.httpVersionMajor >= 2 || statusMessage === undefined || statusMessage === '') {
        response.writeHead(statusCode, list);
      } else {
        response.writeHead(statusCode, statusMessage, list);
      }
    } catch (error) {
      controller.abort(new BadGatewayError('the server sent a response header that cannot be forwarded', { cause: error }));
      return;
    }
    this.#status = statusCode;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#options.response.write(chunk)) {
      controller.pause();
    }
  }

  onResponseEnd(): void {
    // NOTE: trailer fields are dropped, because `Trailer` is removed as hop-by-hop and Node.js sends
    // trailers only when they were announced.
    this.#options.response.end();
    this.#settle({ status: this.#status, safeToRetry: false });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
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
      logger.debug({ [Fields.server]: serverUrl, err: failure }, 'client closed the connection before the response ended');
      response.destroy();
      this.#settle({ status: failure.status, safeToRetry: false, error: failure });
      return;
    }

    if (response.headersSent) {
      // The status line is gone already. Closing the connection without the end of the body signals to the
      // client that the response is incomplete (RFC 9112 §6.3 and §7.1). No error is passed to destroy(),
      // because Node.js would report it as the client's fault through the server's 'clientError' event.
      logger.debug({ [Fields.server]: serverUrl, [Fields.status]: this.#status, err: failure }, 'the server failed during the response body');
      response.destroy();
      this.#settle({ status: this.#status === 0 ? failure.status : this.#status, safeToRetry: false, error: failure });
      return;
    }

    logger.debug({ [Fields.server]: serverUrl, [Fields.status]: failure.status, err: failure }, 'forwarding to the server failed');
    const safeToRetry = !this.#requestStarted;
    if (!safeToRetry || this.#options.writeRetryableError) {
      const bodyUnread = body !== null && body.started && !body.sourceEnded;
      sendErrorResponse(response, failure.status, bodyUnread);
    }
    this.#settle({ status: failure.status, safeToRetry, error: failure });
  }

  #settle(outcome: ForwardOutcome): void {
    if (this.#settled) {
      return;
    }
    this.#settled = true;
    this.#clearHeaderTimer();
    this.#resolve(outcome);
  }

  #onClientClose = (): void => {
    if (this.#settled || this.#options.response.writableFinished) {
      return;
    }
    this.#clientGone = true;

    const error = new ClientClosedError();
    this.#options.logger.debug({ [Fields.server]: this.#options.serverUrl }, 'client closed the connection before the response ended');
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

/** Turns parsed headers into a flat list, for the case where undici gives no raw header lines. */
function flattenHeaders(headers: IncomingHttpHeaders): string[] {
  const list: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) {
      continue;
    }
    for (const item of typeof value === 'string' ? [value] : value) {
      list.push(name, item);
    }
  }
  return list;
}
