// Forwarding of requests that carry `Expect: 100-continue` or trailer fields. undici 7 rejects that field over
// HTTP/1.1 and cannot send request trailers, so these requests go through node:http, whose client sends Expect,
// reports the server's `100 Continue`, and ends a chunked body with trailer fields (`addTrailers`).
// The server's response still goes through ResponseRelay, driven through undici's DispatchController
// interface, so statuses, hop-by-hop removal, trailers and retries behave as on the undici path.
import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';

import { BadGatewayError, UpstreamResetError, UpstreamTimeoutError } from '../errors.js';
import { Fields } from '../observability/fields.js';
import { redactServerUrl } from '../observability/redact.js';
import { pipeWithTrailers, type RequestTrailers } from './request-trailers.js';
import type { ResponseRelay } from './response-relay.js';
import type { Upstream } from './types.js';
import { MAX_RESPONSE_HEAD_BYTES, type RequestBodyStream } from './upstream-request.js';

export interface ExpectContinueClientOptions {
  /** Time allowed to open a connection, TLS handshake included, in ms. 0 waits forever. */
  dialTimeoutMs: number;
  /** Time an idle keep-alive connection to a server is kept, in ms. */
  idleTimeoutMs: number;
  /** Time to wait for the server's `100 Continue` or final response before sending the body anyway, in ms. */
  expectContinueTimeoutMs: number;
  logger: Logger;
}

/** One request with a body, as the forwarder prepared it. */
export interface ExpectContinueRequest {
  upstream: Upstream;
  method: string;
  path: string;
  /** The flat header list from `upstreamRequestHeaders`, which never contains Expect or Trailer. */
  headers: string[];
  body: RequestBodyStream;
  /** Whether to send `Expect: 100-continue` and keep the body unread until the server's `100 Continue`. */
  expectContinue: boolean;
  /** The trailer section to announce and to send after the body, which is then chunked. */
  trailers?: RequestTrailers;
}

/** A node:http client with its own keep-alive pools that forwards `Expect: 100-continue` and request trailers to servers. */
export class ExpectContinueClient {
  readonly #options: ExpectContinueClientOptions;
  readonly #agent: http.Agent;
  readonly #tlsAgent: https.Agent;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(options: ExpectContinueClientOptions) {
    this.#options = options;
    // `timeout` is the idle time of a pooled connection. The Agent of Node.js 20 and 24 shortens it, and never
    // lengthens it, to a server's `Keep-Alive: timeout=N` hint less a margin, as keepAliveMaxTimeout does in undici.
    this.#agent = new http.Agent({ keepAlive: true, timeout: options.idleTimeoutMs });
    this.#tlsAgent = new https.Agent({ keepAlive: true, timeout: options.idleTimeoutMs });
  }

  /** Sends the request, with `Expect: 100-continue` when `expectContinue` is set, and reports the exchange to `relay`. */
  send(request: ExpectContinueRequest, relay: ResponseRelay): void {
    const exchange = new ContinueExchange(request, relay, this.#options);
    exchange.start(request.upstream.url.protocol === 'https:' ? this.#tlsAgent : this.#agent);

    const done = relay.outcome.finally(() => this.#inFlight.delete(done));
    this.#inFlight.add(done);
  }

  /** Waits for the exchanges in flight, then closes every pooled connection. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
    this.#agent.destroy();
    this.#tlsAgent.destroy();
  }

  /** Closes every connection now, including those of exchanges in flight, which then fail. */
  destroy(): void {
    this.#agent.destroy();
    this.#tlsAgent.destroy();
  }
}

/**
 * One request on a node:http ClientRequest. With Expect, the body stays unread until the server sends
 * `100 Continue` or the expect timeout passes. RFC 9110 section 10.1.1 lets a client send the body after
 * waiting, for servers that ignore Expect. A final response that comes first means the body is never sent.
 * Without Expect, the body is sent as soon as the connection is open.
 */
class ContinueExchange implements Dispatcher.DispatchController {
  rawHeaders: string[] | null = null;

  readonly #request: ExpectContinueRequest;
  readonly #relay: ResponseRelay;
  readonly #options: ExpectContinueClientOptions;
  #clientRequest: http.ClientRequest | undefined;
  #response: http.IncomingMessage | undefined;
  #aborted = false;
  #paused = false;
  #reason: Error | null = null;
  #bodyOpened = false;
  #dialTimer: NodeJS.Timeout | undefined;
  #continueTimer: NodeJS.Timeout | undefined;

  constructor(request: ExpectContinueRequest, relay: ResponseRelay, options: ExpectContinueClientOptions) {
    this.#request = request;
    this.#relay = relay;
    this.#options = options;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  start(agent: http.Agent): void {
    const { upstream, method, path, headers, body, expectContinue, trailers } = this.#request;
    const url = upstream.url;
    const tls = url.protocol === 'https:';
    const defaultPort = tls ? 443 : 80;
    const list = [...headers];
    if (expectContinue) list.push('expect', '100-continue');
    // requestTrailers returns none for a body with a Content-Length, so this body is chunked.
    if (trailers !== undefined) list.push('trailer', trailers.announced);
    // node:http adds no Host to an array of headers, and undici sends the server's authority then.
    let host = headerValue(list, 'host');
    if (host === undefined) {
      host = url.host;
      list.push('host', host);
    }
    // A body of unknown length, such as a chunked upload, is sent chunked even with GET or DELETE, for
    // which node:http would otherwise send it without any framing.
    if (headerValue(list, 'content-length') === undefined) list.push('transfer-encoding', 'chunked');

    body.on('error', (error: Error) => this.abort(error));

    try {
      const options: https.RequestOptions = {
        agent,
        // URL.hostname keeps the brackets of an IPv6 address, which net.connect rejects.
        host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port === '' ? defaultPort : Number(url.port),
        method,
        path,
        headers: list,
        maxHeaderSize: MAX_RESPONSE_HEAD_BYTES,
      };
      // NOTE: as on the undici path, the TLS server name (SNI and certificate check) comes from the Host
      // field, which is the client's Host when passHostHeader is true.
      const serverName = tls ? serverNameOf(host) : undefined;
      if (serverName !== undefined) options.servername = serverName;

      const clientRequest = (tls ? https : http).request(options);
      this.#clientRequest = clientRequest;
      clientRequest.on('socket', (socket: Socket) => this.#onSocket(socket, clientRequest.reusedSocket, tls));
      clientRequest.on('continue', () => this.#openBody());
      clientRequest.on('information', (info: http.InformationEvent) => this.#relay.onResponseStart(this, info.statusCode, info.headers, info.statusMessage));
      clientRequest.on('response', (response: http.IncomingMessage) => this.#onResponse(response));
      clientRequest.on('upgrade', (_response: http.IncomingMessage, socket: Socket) => this.#onUpgrade(socket));
      clientRequest.on('error', (error: Error) => this.#onRequestError(error));
      clientRequest.on('close', () => this.#onRequestClose());
    } catch (error) {
      this.#releaseBody();
      this.#relay.fail(error);
    }
  }

  abort(reason: Error): void {
    if (this.#aborted) {
      return;
    }
    this.#aborted = true;
    this.#reason = reason;
    this.#clientRequest?.destroy();
    this.#fail(reason);
  }

  pause(): void {
    this.#paused = true;
    this.#response?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#response?.resume();
  }

  #onSocket(socket: Socket, reused: boolean, tls: boolean): void {
    if (reused) {
      this.#onConnected();
      return;
    }

    const dialTimeoutMs = this.#options.dialTimeoutMs;
    if (dialTimeoutMs > 0) {
      this.#dialTimer = setTimeout(() => {
        this.abort(new UpstreamTimeoutError(`connecting to the server timed out after ${dialTimeoutMs} ms`));
      }, dialTimeoutMs);
    }
    socket.once(tls ? 'secureConnect' : 'connect', () => this.#onConnected());
  }

  /** Runs once the connection is open, when node:http writes the request head. */
  #onConnected(): void {
    clearTimeout(this.#dialTimer);
    if (this.#aborted) {
      return;
    }
    this.#relay.onRequestStart(this);
    if (this.#aborted || this.#bodyOpened || this.#response !== undefined) {
      return;
    }
    if (!this.#request.expectContinue) {
      this.#openBody();
      return;
    }

    const timeoutMs = this.#options.expectContinueTimeoutMs;
    this.#continueTimer = setTimeout(() => {
      this.#options.logger.debug({ [Fields.server]: redactServerUrl(this.#request.upstream.url.href) }, `the server sent no 100 Continue within ${timeoutMs} ms, so the request body is sent anyway`);
      this.#openBody();
    }, timeoutMs);
  }

  /**
   * Streams the client's body to the server, unless a final response arrived, after `100 Continue` to a client
   * that expects it. Without Expect the head is flushed at once, as undici does, so a server can respond first.
   */
  #openBody(): void {
    clearTimeout(this.#continueTimer);
    const clientRequest = this.#clientRequest;
    if (this.#bodyOpened || this.#aborted || this.#response !== undefined || clientRequest === undefined || clientRequest.destroyed) {
      return;
    }
    this.#bodyOpened = true;
    if (this.#request.expectContinue) {
      this.#relay.expectContinue(() => this.#pipeBody(clientRequest));
    } else {
      clientRequest.flushHeaders();
      this.#pipeBody(clientRequest);
    }
  }

  /** Pipes the body into the request, and ends it with the client's trailer fields when the request announced some. */
  #pipeBody(clientRequest: http.ClientRequest): void {
    const { body, trailers, upstream } = this.#request;
    if (trailers === undefined) {
      body.pipe(clientRequest);
    } else {
      pipeWithTrailers(body, clientRequest, trailers, (error) => {
        this.#options.logger.debug({ [Fields.server]: redactServerUrl(upstream.url.href), err: error }, 'the client sent a trailer field that cannot be forwarded, so its trailer fields are dropped');
      });
    }
  }

  #onResponse(response: http.IncomingMessage): void {
    // A final response before the body was opened means the server never gets the body.
    clearTimeout(this.#continueTimer);
    this.#response = response;
    this.rawHeaders = response.rawHeaders;

    // node:http emits a 101 without Upgrade and Connection fields, and any status below 100, as a final
    // response, which the undici path rejects, so both end as a 502 here instead of reaching the relay.
    const status = response.statusCode ?? 0;
    if (status === 101) {
      this.abort(unrequestedUpgradeError());
      return;
    }
    if (status < 100) {
      this.abort(new BadGatewayError(`the server sent the invalid status code ${status}`));
      return;
    }

    this.#relay.onResponseStart(this, response.statusCode ?? 0, response.headers, response.statusMessage);
    if (this.#aborted) {
      return;
    }
    if (this.#paused) {
      response.pause();
    }

    response.on('data', (chunk: Buffer) => this.#relay.onResponseData(this, chunk));
    response.on('end', () => {
      this.#relay.onResponseEnd(this, response.trailers);
      this.#finish();
    });
    response.on('error', (error: Error) => this.#fail(error));
    response.on('close', () => {
      if (!response.complete) {
        this.#fail(new UpstreamResetError('the server closed the connection before the response ended'));
      }
    });
  }

  /**
   * Fails a 101 with Upgrade and Connection fields, which node:http hands over with the socket. The request
   * had no Upgrade field, so the server switched protocols without a request for it (RFC 9110 §15.2.2).
   */
  #onUpgrade(socket: Socket): void {
    socket.destroy();
    this.abort(unrequestedUpgradeError());
  }

  /**
   * Fails the exchange, unless the whole response was already read. node:http then reports bytes after it,
   * such as the body of a 204, as a parse error and closes the connection, but the response's 'end' still
   * completes the exchange, as undici does with those bytes.
   */
  #onRequestError(error: Error): void {
    if (this.#response?.complete === true) {
      this.#options.logger.debug({ [Fields.server]: redactServerUrl(this.#request.upstream.url.href), err: error }, 'the server sent bytes after a complete response, so its connection is closed');
      return;
    }
    this.#fail(error);
  }

  /**
   * Fails an exchange whose request closed before any final response, with no 'error' or 'upgrade' event.
   * node:http does that when it destroys the socket of an unhandled upgrade, so this is the last guard
   * against a request that waits forever for a response that cannot come.
   */
  #onRequestClose(): void {
    if (this.#aborted || this.#response !== undefined) {
      return;
    }
    this.#fail(new UpstreamResetError('the server connection closed before a response'));
  }

  /**
   * Cleans up after a complete response. A request whose body was not completely handed to the socket (the
   * server responded early) leaves its connection in an unknown state, so that connection is closed instead
   * of going back to the pool. A request that was sent completely goes back to the pool through node:http.
   */
  #finish(): void {
    this.#clearTimers();
    if (this.#clientRequest?.writableEnded !== true) {
      this.#releaseBody();
      this.#clientRequest?.destroy();
    }
  }

  /** Ends the exchange with a failure. ResponseRelay ignores every failure after the first, and after the response ended. */
  #fail(error: Error): void {
    this.#clearTimers();
    this.#releaseBody();
    this.#relay.onResponseError(this, error);
  }

  /** Stops reading the client's body. RequestBodyStream then discards the rest of a body it started to read. */
  #releaseBody(): void {
    const body = this.#request.body;
    if (this.#clientRequest !== undefined) {
      body.unpipe(this.#clientRequest);
    }
    body.destroy();
  }

  #clearTimers(): void {
    clearTimeout(this.#dialTimer);
    clearTimeout(this.#continueTimer);
  }
}

function unrequestedUpgradeError(): BadGatewayError {
  return new BadGatewayError('the server sent 101 Switching Protocols in response to a request without an Upgrade field');
}

function headerValue(list: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < list.length; i += 2) {
    if (list[i]?.toLowerCase() === name) {
      return list[i + 1];
    }
  }
  return undefined;
}

/** Returns the host name of a Host field value for TLS SNI, or undefined for an IP address, which SNI never carries. */
function serverNameOf(host: string): string | undefined {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return name === '' || isIP(name) !== 0 ? undefined : name;
}
