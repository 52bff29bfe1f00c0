// Protocol upgrades such as WebSocket (RFC 9110 §7.8): the request goes out through undici with
// `Connection: upgrade`, and after the server's 101 the two sockets are joined into a byte tunnel.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';

import { BadGatewayError } from '../errors.js';
import { Fields } from '../observability/fields.js';
import { clientResponseHeaders } from './headers.js';
import { ResponseRelay } from './response-relay.js';
import { isUnrequestedUpgrade } from './status.js';
import type { ForwardOutcome } from './types.js';
import type { UpgradeBodyStream } from './upgrade-body.js';
import { sendSwitchingProtocols, settleUpgradeResponse } from './upgrade-response.js';

/** Bytes a client may send after its upgrade request before the server's 101, beyond which it is no longer read. */
const MAX_EARLY_BYTES = 64 * 1024;

export interface UpgradeRelayOptions {
  request: IncomingMessage;
  /** The stand-in response bound to `socket`, as `createUpgradeResponse` makes it. */
  response: ServerResponse;
  /** The client's socket, as Node.js passes it to the server's 'upgrade' event. */
  socket: Duplex;
  /** Bytes the client sent after the request head and its body, which belong to the upgraded protocol. */
  head: Buffer;
  /** The rest of the request body, still to be read from `socket`, which the server must read before it switches. */
  pendingBody?: UpgradeBodyStream;
  /** The Upgrade field sent to the server: the protocols the server may switch to. */
  requestedProtocols: string;
  /** The server's URL for log lines, with any password already replaced by `redactServerUrl`. */
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
  /** Bytes the client sent after the request head and before the server's 101, which belong to the tunnel. */
  readonly #early: Buffer[] = [];
  #earlyBytes = 0;
  #tunnelStarted = false;

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
    options.socket.on('error', this.#onClientError);
    if (options.head.length > 0) this.#keepEarly(options.head);
    // The body stream reads the socket until the body ends, and notices a client that leaves meanwhile.
    if (options.pendingBody === undefined) this.#readEarly();
    else options.pendingBody.once('end', () => this.#readEarly());
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#exchange.onRequestStart(controller);
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, _statusCode: number, _headers: IncomingHttpHeaders, upstream: Duplex): void {
    const raw = Array.isArray(controller.rawHeaders) ? controller.rawHeaders : [];
    let protocol: string;
    try {
      protocol = switchedProtocol(this.#options.requestedProtocols, raw);
    } catch (error) {
      // A failure through the exchange is written as a 502 through the stand-in response, so the
      // middlewares that wrap it (circuitBreaker, errors) count it, and the caller logs it.
      upstream.destroy();
      this.#exchange.fail(error);
      return;
    }

    // The rest of the body is still to be read from the client's socket, which the tunnel would read too.
    if (this.#options.pendingBody !== undefined && !this.#options.pendingBody.complete) {
      upstream.destroy();
      this.#exchange.fail(new BadGatewayError('the server sent 101 Switching Protocols before it received the whole request body'));
      return;
    }

    // The exchange already ended, as when the client left before the 101.
    if (!this.#exchange.handOver()) {
      upstream.destroy();
      return;
    }

    const { response, socket } = this.#options;
    sendSwitchingProtocols(response, socket, clientResponseHeaders(raw, { keepUpgrade: true }), protocol);
    this.#tunnelStarted = true;
    this.#stopReadingEarly();
    for (const chunk of this.#early.splice(0)) upstream.write(chunk);
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
    // undici 7 fails a 101 that lacks `Connection: upgrade` or Upgrade as it fails a 101 to a request
    // without Upgrade (see isUnrequestedUpgrade). This request had Upgrade, so the message names the 101's fault.
    if (isUnrequestedUpgrade(error)) {
      const message = 'the server sent 101 Switching Protocols without `Connection: upgrade` or without an Upgrade field';
      this.#exchange.onResponseError(controller, new BadGatewayError(message, { cause: error }));
      return;
    }
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

  #keepEarly(chunk: Buffer): void {
    this.#early.push(chunk);
    this.#earlyBytes += chunk.length;
    // A client that sends this much before the 101 waits until the tunnel reads on.
    if (this.#earlyBytes >= MAX_EARLY_BYTES) this.#options.socket.pause();
  }

  /**
   * Reads the socket while the server prepares its response, so that a client that ends its side (FIN) is
   * noticed: its socket then closes, and the stand-in response's 'close' aborts the request.
   */
  #readEarly(): void {
    const { socket } = this.#options;
    if (this.#tunnelStarted) return;
    socket.on('data', this.#onEarlyData);
    socket.once('end', this.#onEarlyEnd);
    socket.resume();
  }

  #onEarlyData = (chunk: Buffer): void => {
    this.#keepEarly(chunk);
  };

  #onEarlyEnd = (): void => {
    this.#options.socket.destroy();
  };

  /** Leaves the client's socket paused, so that the tunnel's pipe() reads it on from the next byte. */
  #stopReadingEarly(): void {
    const { socket } = this.#options;
    socket.pause();
    socket.off('data', this.#onEarlyData);
    socket.off('end', this.#onEarlyEnd);
  }

  #onClientError = (error: Error): void => {
    this.#options.logger.debug({ [Fields.server]: this.#options.serverUrl, err: error }, 'client connection of an upgrade request failed');
  };
}

/**
 * Returns the Upgrade value of a server's 101, and throws BadGatewayError when that field is missing or
 * names a protocol that `requested` does not list, because RFC 9110 section 7.8 forbids switching to a
 * protocol the client did not offer. Names compare case-insensitively, as in Go's ReverseProxy
 * (strings.EqualFold). Go compares the first Upgrade line of each message whole, but here each protocol of
 * the 101 is looked up among the requested ones, so a client that offers several can get any of them.
 */
function switchedProtocol(requested: string, rawHeaders: readonly (Buffer | string)[]): string {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (latin1(rawHeaders[i]).toLowerCase() === 'upgrade') {
      values.push(latin1(rawHeaders[i + 1]));
    }
  }
  const switched = values.join(', ');
  const protocols = protocolList(switched);
  if (protocols.length === 0) {
    throw new BadGatewayError(`the server sent 101 Switching Protocols without an Upgrade field when ${JSON.stringify(requested)} was requested`);
  }

  const offered = new Set(protocolList(requested).map((protocol) => protocol.toLowerCase()));
  if (protocols.some((protocol) => !offered.has(protocol.toLowerCase()))) {
    throw new BadGatewayError(`the server tried to switch to the protocol ${JSON.stringify(switched)} when ${JSON.stringify(requested)} was requested`);
  }
  return switched;
}

/** Splits an Upgrade field value into its protocols, such as `websocket` or `HTTP/2.0`. */
function protocolList(value: string): string[] {
  return value
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== '');
}

/** Reads a raw header name or value as the Latin-1 bytes llhttp accepted. */
function latin1(value: Buffer | string | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : value.toString('latin1');
}
