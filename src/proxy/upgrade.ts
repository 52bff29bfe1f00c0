// Protocol upgrades such as WebSocket (RFC 9110 §7.8): the request goes out through undici with
// `Connection: upgrade`, and after the server's 101 the two sockets are joined into a byte tunnel.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';

import { Fields } from '../observability/fields.js';
import { clientResponseHeaders } from './headers.js';
import { ResponseRelay } from './response-relay.js';
import type { ForwardOutcome } from './types.js';
import { sendSwitchingProtocols, settleUpgradeResponse } from './upgrade-response.js';

export interface UpgradeRelayOptions {
  request: IncomingMessage;
  /** The stand-in response bound to `socket`, as `createUpgradeResponse` makes it. */
  response: ServerResponse;
  /** The client's socket, as Node.js passes it to the server's 'upgrade' event. */
  socket: Duplex;
  /** Bytes the client sent after the request head, which belong to the upgraded protocol. */
  head: Buffer;
  /** The server's URL for log lines, with any password already replaced by `redactUrl`. */
  serverUrl: string;
  /** Time allowed between sending the request and the server's response header, in ms. 0 waits forever. */
  responseHeaderTimeoutMs: number;
  logger: Logger;
}

/**
 * Relays one upgrade request. On 101 the client receives the server's response head, and the sockets are
 * piped both ways until either closes. Any other response, and the 502 or 504 of a failure before the
 * response, is written through the stand-in response by a ResponseRelay, so the middlewares that wrap it
 * apply and the body is streamed with backpressure. `outcome` settles when the tunnel closes, or when the
 * exchange ends without one.
 */
export class UpgradeRelay implements Dispatcher.DispatchHandler {
  readonly outcome: Promise<ForwardOutcome>;

  readonly #options: UpgradeRelayOptions;
  /** Handles everything up to a 101, and every response that is not a 101. */
  readonly #exchange: ResponseRelay;
  #resolveTunnel: (outcome: ForwardOutcome) => void = () => {};
  #tunnelClosed = false;

  constructor(options: UpgradeRelayOptions) {
    this.#options = options;
    const { request, response, serverUrl, responseHeaderTimeoutMs, logger } = options;
    // No retry: an upgrade request is forwarded once, so a failure is always written to the client.
    this.#exchange = new ResponseRelay({ request, response, body: null, serverUrl, responseHeaderTimeoutMs, logger, writeRetryableError: true, retryIdempotent: false, replayAfterReset: false });
    const tunnelOutcome = new Promise<ForwardOutcome>((resolve) => {
      this.#resolveTunnel = resolve;
    });
    this.outcome = Promise.race([this.#exchange.outcome, tunnelOutcome]);

    // node:http removes its own 'error' listener from an upgraded socket, and an 'error' without one would crash.
    // NOTE: a client that closes its connection before the response is noticed (as 499) only once a write to
    // it fails, because nothing reads the socket before the tunnel starts. The bytes behind the request belong to the tunnel.
    options.socket.on('error', this.#onClientError);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#exchange.onRequestStart(controller);
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, _statusCode: number, _headers: IncomingHttpHeaders, upstream: Duplex): void {
    // The exchange already ended, as when the client left before the 101.
    if (!this.#exchange.handOver()) {
      upstream.destroy();
      return;
    }

    const { response, socket, head } = this.#options;
    const raw = controller.rawHeaders;
    sendSwitchingProtocols(response, socket, clientResponseHeaders(Array.isArray(raw) ? raw : [], { keepUpgrade: true }));
    if (head.length > 0) {
      upstream.write(head);
    }
    this.#tunnel(upstream);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    this.#exchange.onResponseStart(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#exchange.onResponseData(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.#exchange.onResponseEnd(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#exchange.onResponseError(controller, error);
  }

  /**
   * Ends the exchange with a failure. It sends an error response if nothing was sent yet, and otherwise
   * closes the connection. Logged at debug level only, because the caller logs the outcome's error.
   */
  fail(error: unknown): void {
    this.#exchange.fail(error);
  }

  /**
   * Joins the two sockets. pipe() passes an end of either side on, but the tunnel does not stay half-open:
   * a socket without allowHalfOpen closes once its peer ended, and when either socket closes the other is destroyed.
   */
  #tunnel(upstream: Duplex): void {
    const { response, socket, logger, serverUrl } = this.#options;

    const onUpstreamError = (error: Error): void => {
      logger.debug({ [Fields.server]: serverUrl, err: error }, 'upgraded connection to the server failed');
    };
    upstream.on('error', onUpstreamError);
    upstream.on('close', () => {
      socket.destroy();
      if (this.#tunnelClosed) return;
      this.#tunnelClosed = true;
      this.#resolveTunnel({ status: 101, safeToRetry: false });
      settleUpgradeResponse(response, 101);
    });
    socket.on('close', () => {
      upstream.destroy();
    });

    upstream.pipe(socket);
    socket.pipe(upstream);
  }

  #onClientError = (error: Error): void => {
    this.#options.logger.debug({ [Fields.server]: this.#options.serverUrl, err: error }, 'client connection of an upgrade request failed');
  };
}
