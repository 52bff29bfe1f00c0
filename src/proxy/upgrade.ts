// Protocol upgrades such as WebSocket (RFC 9110 §7.8): the request goes out through undici with
// `Connection: upgrade`, and after the server's 101 the two sockets are joined into a byte tunnel.
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';

import { ClientClosedError, UpstreamTimeoutError } from '../errors.js';
import { Fields } from '../observability/fields.js';
import { sendRawErrorResponse } from './error-response.js';
import { clientResponseHeaders } from './headers.js';
import { classifyUpstreamError } from './status.js';
import type { ForwardOutcome } from './types.js';

export interface UpgradeRelayOptions {
  /** The client's socket, as Node.js passes it to the server's 'upgrade' event. */
  socket: Duplex;
  /** Bytes the client sent after the request head, which belong to the upgraded protocol. */
  head: Buffer;
  serverUrl: string;
  /** Time allowed between sending the request and the server's response header, in ms. 0 waits forever. */
  responseHeaderTimeoutMs: number;
  logger: Logger;
}

/**
 * Relays one upgrade request. On 101 the client receives the server's response head, and the sockets are
 * piped both ways until either closes. Any other response is passed on, and then the connection is closed.
 * `outcome` settles when the tunnel closes, or when the exchange ends without one.
 */
export class UpgradeRelay implements Dispatcher.DispatchHandler {
  readonly outcome: Promise<ForwardOutcome>;

  readonly #options: UpgradeRelayOptions;
  #resolve: (outcome: ForwardOutcome) => void = () => {};
  #controller: Dispatcher.DispatchController | undefined;
  #requestStarted = false;
  #status = 0;
  #settled = false;
  #clientGone = false;
  #headerTimer: NodeJS.Timeout | undefined;

  constructor(options: UpgradeRelayOptions) {
    this.#options = options;
    this.outcome = new Promise((resolve) => {
      this.#resolve = resolve;
    });

    options.socket.on('error', this.#onClientError);
    options.socket.on('close', this.#onClientClose);
    options.socket.on('drain', this.#onDrain);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    this.#requestStarted = true;
    if (this.#clientGone) {
      controller.abort(new ClientClosedError());
      return;
    }

    const timeoutMs = this.#options.responseHeaderTimeoutMs;
    if (timeoutMs > 0) {
      this.#headerTimer = setTimeout(() => {
        controller.abort(new UpstreamTimeoutError(`the server sent no response header within ${timeoutMs} ms`));
      }, timeoutMs);
    }
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, upstream: Duplex): void {
    this.#clearHeaderTimer();
    const { socket, head } = this.#options;
    if (this.#clientGone) {
      upstream.destroy();
      return;
    }

    this.#status = statusCode;
    const raw = controller.rawHeaders;
    const list = clientResponseHeaders(Array.isArray(raw) ? raw : [], { keepUpgrade: true });
    socket.write(responseHead(statusCode, STATUS_CODES[statusCode] ?? '', list), 'latin1');
    if (head.length > 0) {
      upstream.write(head);
    }

    this.#tunnel(upstream);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (statusCode < 200) {
      return;
    }
    this.#clearHeaderTimer();

    // The server declined the upgrade. Its response is passed on with `Connection: close`, and the body
    // is delimited by closing the connection (RFC 9112 §6.3), because undici has removed any chunked coding.
    this.#status = statusCode;
    const raw = controller.rawHeaders;
    const list = clientResponseHeaders(Array.isArray(raw) ? raw : []);
    list.push('Connection', 'close');
    this.#options.socket.write(responseHead(statusCode, statusMessage ?? STATUS_CODES[statusCode] ?? '', list), 'latin1');
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#options.socket.write(chunk)) {
      controller.pause();
    }
  }

  onResponseEnd(): void {
    this.#options.socket.end();
    this.#settle({ status: this.#status, safeToRetry: false });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.fail(error);
  }

  /**
   * Ends the exchange with a failure. It sends an error response if nothing was sent yet, and otherwise
   * closes the connection. Logged at debug level only, because the caller logs the outcome's error.
   */
  fail(error: unknown): void {
    this.#clearHeaderTimer();
    if (this.#settled) {
      return;
    }

    const { socket, logger, serverUrl } = this.#options;
    const failure = classifyUpstreamError(error);
    if (this.#clientGone || failure instanceof ClientClosedError) {
      socket.destroy();
      this.#settle({ status: failure.status, safeToRetry: false, error: failure });
      return;
    }

    logger.debug({ [Fields.server]: serverUrl, [Fields.status]: failure.status, err: failure }, 'forwarding an upgrade request failed');
    if (this.#status === 0) {
      sendRawErrorResponse(socket, failure.status);
    } else {
      socket.destroy();
    }
    this.#settle({ status: this.#status === 0 ? failure.status : this.#status, safeToRetry: !this.#requestStarted, error: failure });
  }

  /**
   * Joins the two sockets. pipe() passes an end of either side on, but the tunnel does not stay half-open:
   * a socket without allowHalfOpen closes once its peer ended, and when either socket closes the other is destroyed.
   */
  #tunnel(upstream: Duplex): void {
    const { socket, logger, serverUrl } = this.#options;
    socket.off('drain', this.#onDrain);

    const onUpstreamError = (error: Error): void => {
      logger.debug({ [Fields.server]: serverUrl, err: error }, 'upgraded connection to the server failed');
    };
    upstream.on('error', onUpstreamError);
    upstream.on('close', () => {
      socket.destroy();
      this.#settle({ status: this.#status, safeToRetry: false });
    });
    socket.on('close', () => {
      upstream.destroy();
    });

    upstream.pipe(socket);
    socket.pipe(upstream);
  }

  #settle(outcome: ForwardOutcome): void {
    if (this.#settled) {
      return;
    }
    this.#settled = true;
    this.#clearHeaderTimer();
    this.#resolve(outcome);
  }

  #onClientError = (error: Error): void => {
    this.#options.logger.debug({ [Fields.server]: this.#options.serverUrl, err: error }, 'client connection of an upgrade request failed');
  };

  #onClientClose = (): void => {
    if (this.#settled || this.#status === 101) {
      return;
    }
    this.#clientGone = true;
    const error = new ClientClosedError();
    this.#controller?.abort(error);
    this.#settle({ status: error.status, safeToRetry: false, error });
  };

  #onDrain = (): void => {
    this.#controller?.resume();
  };

  #clearHeaderTimer(): void {
    if (this.#headerTimer !== undefined) {
      clearTimeout(this.#headerTimer);
      this.#headerTimer = undefined;
    }
  }
}

/** Serializes an HTTP/1.1 status line and header fields, ending with the empty line. */
function responseHead(statusCode: number, reason: string, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${statusCode} ${reason}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  }
  return `${head}\r\n`;
}
