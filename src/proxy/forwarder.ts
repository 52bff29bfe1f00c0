// The forwarding engine: undici connection pools, one per server origin, reused across requests.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { Agent, H2CClient, type Client, type Dispatcher } from 'undici';

import { BadRequestError, ClientClosedError } from '../errors.js';
import { Fields } from '../observability/fields.js';
import { silentLogger } from '../observability/logger.js';
import { redactServerUrl } from '../observability/redact.js';
import { isClientGone } from './client-gone.js';
import { sendErrorResponse } from './error-response.js';
import { ExpectContinueClient } from './expect-continue.js';
import { FreshConnections } from './fresh-connection.js';
import { isUpgradeRequest, upstreamRequestHeaders } from './headers.js';
import { requestTrailers } from './request-trailers.js';
import { ResponseRelay } from './response-relay.js';
import type { ForwardContext, ForwardOptions, ForwardOutcome, Forwarder, Upstream } from './types.js';
import { UpgradeRelay } from './upgrade.js';
import { splitUpgradeRequest, UpgradeBodyStream, type UpgradeRequestParts } from './upgrade-body.js';
import { hasRequestBody, MAX_RESPONSE_HEAD_BYTES, RequestBodyStream, upstreamPath } from './upstream-request.js';
import { timerMs } from '../config/timer-limit.js';

export interface ForwarderOptions {
  logger?: Logger;
  /** Time allowed between the end of the request and the server's response header, in ms. 0 (the default) waits forever. */
  responseHeaderTimeoutMs?: number;
  /** Time allowed to open a connection to a server, in ms. The default is 30000, and 0 waits forever. */
  dialTimeoutMs?: number;
  /**
   * Time an idle keep-alive connection to a server is kept, in ms, 900 by default. It is short so that Berth
   * closes idle connections before the server does (Node.js servers default to 5 s), because a request
   * written just as the server closes the connection fails and cannot be replayed safely. It is below 1 s,
   * so that a server that closes idle connections after 1 s still closes last, with a margin for transit.
   */
  idleTimeoutMs?: number;
  /**
   * Time to wait for a server's `100 Continue` to a request with `Expect: 100-continue` before its body is
   * sent anyway, in ms, 1000 by default as in Go's http.DefaultTransport (ExpectContinueTimeout).
   */
  expectContinueTimeoutMs?: number;
  /**
   * Keeps the X-Forwarded-*, X-Real-Ip and Forwarded fields the request carries, appending the peer to
   * X-Forwarded-For, instead of replacing them all. Berth's entry points set it, because they remove
   * those fields from untrusted peers when the request arrives, so the values left came from a trusted
   * proxy or a middleware. False by default, which trusts no client.
   */
  keepForwardedHeaders?: boolean;
}

/** A forwarder that also tunnels protocol upgrades such as WebSocket. */
export interface TunnelingForwarder extends Forwarder {
  /**
   * Forwards an upgrade request from the server's 'upgrade' event. `response` is the stand-in response bound
   * to `socket` (see `createUpgradeResponse`). After a 101 the sockets are joined and the outcome settles when
   * the tunnel closes. Any other response, and the error response of a failure before it, goes through `response`.
   */
  forwardUpgrade(request: IncomingMessage, response: ServerResponse, socket: Duplex, head: Buffer, upstream: Upstream, context: ForwardContext): Promise<ForwardOutcome>;
}

const DEFAULT_DIAL_TIMEOUT_MS = 30_000;
const DEFAULT_IDLE_TIMEOUT_MS = 900;
const DEFAULT_EXPECT_CONTINUE_TIMEOUT_MS = 1_000;
/** Requests one h2c connection to a server carries at once; undici's default for HTTP/2. */
const H2C_STREAMS = 100;

/** Creates a forwarder that streams requests to servers over pooled HTTP/1.1 connections. */
export function createForwarder(options: ForwarderOptions = {}): TunnelingForwarder {
  const logger = options.logger ?? silentLogger();
  const responseHeaderTimeoutMs = checkedMilliseconds('responseHeaderTimeoutMs', options.responseHeaderTimeoutMs ?? 0, true);
  const dialTimeoutMs = checkedMilliseconds('dialTimeoutMs', options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS, true);
  const idleTimeoutMs = checkedMilliseconds('idleTimeoutMs', options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, false);
  const expectContinueTimeoutMs = checkedMilliseconds('expectContinueTimeoutMs', options.expectContinueTimeoutMs ?? DEFAULT_EXPECT_CONTINUE_TIMEOUT_MS, false);
  const forwarded = { trusted: options.keepForwardedHeaders === true };

  const http1Options = {
    pipelining: 1,
    connectTimeout: dialTimeoutMs,
    keepAliveTimeout: idleTimeoutMs,
    // A server's `Keep-Alive: timeout=N` hint may shorten the idle time but never lengthen it.
    keepAliveMaxTimeout: idleTimeoutMs,
    // undici's header timer starts before the request body is sent, so the relay runs its own from the
    // end of the body. The body timeout is off so that quiet streams such as server-sent events survive.
    headersTimeout: 0,
    bodyTimeout: 0,
    maxHeaderSize: MAX_RESPONSE_HEAD_BYTES,
  } satisfies Client.Options;
  // The Agent keeps one Pool per origin and drops a Pool once its last connection closes.
  const agent = new Agent(http1Options);

  // Servers whose URL scheme is h2c get HTTP/2 without TLS, with prior knowledge (RFC 9113 section 3.3):
  // one connection per server that carries up to 100 requests at once.
  const h2cOptions = {
    connectTimeout: dialTimeoutMs,
    keepAliveTimeout: idleTimeoutMs,
    keepAliveMaxTimeout: idleTimeoutMs,
    headersTimeout: 0,
    bodyTimeout: 0,
    maxHeaderSize: MAX_RESPONSE_HEAD_BYTES,
    pipelining: H2C_STREAMS,
    maxConcurrentStreams: H2C_STREAMS,
  } satisfies H2CClient.Options;
  const h2cAgent = new Agent({ factory: (origin, clientOptions) => new H2CClient(origin, { ...clientOptions, ...h2cOptions }) });
  // Requests with `newConnection` bypass both pools.
  const freshConnections = new FreshConnections({ http1: http1Options, h2c: h2cOptions });
  const dispatcherFor = (upstream: Upstream): Dispatcher => (upstream.url.protocol === 'h2c:' ? h2cAgent : agent);

  // Requests with a body and `Expect: 100-continue` or trailer fields go through node:http, which passes the
  // expectation and the trailer fields on.
  const continueClient = new ExpectContinueClient({ dialTimeoutMs, idleTimeoutMs, expectContinueTimeoutMs, logger });

  async function forward(request: IncomingMessage, response: ServerResponse, upstream: Upstream, context: ForwardContext, options: ForwardOptions = {}): Promise<ForwardOutcome> {
    const withoutClient = clientGoneOutcome(response, upstream);
    if (withoutClient !== undefined) {
      return withoutClient;
    }

    const path = upstreamPath(request.url, upstream.url);
    if (path === undefined) {
      const error = new BadRequestError(`the request target ${JSON.stringify(request.url)} has no path to forward`);
      sendErrorResponse(response, error.status, false);
      return { status: error.status, safeToRetry: false, error };
    }

    const expectsContinue = expectsContinueFrom(request);
    const withBody = hasRequestBody(request);
    // NOTE: h2c servers never receive Expect, because undici 7's HTTP/2 client, asked to send it, waits for
    // `100 Continue` with no timeout and so stalls on servers that ignore Expect. Berth instead sends
    // `100 Continue` itself once undici has a connection to the server.
    const relayExpectation = expectsContinue && withBody && upstream.url.protocol !== 'h2c:';
    const gate = expectsContinue && !relayExpectation ? (open: () => void) => relay.expectContinue(open) : undefined;
    const body = withBody ? new RequestBodyStream(request, gate) : null;
    const relay = new ResponseRelay({ request, response, body, serverUrl: redactServerUrl(upstream.url.href), responseHeaderTimeoutMs, logger, writeRetryableError: options.writeRetryableError ?? true, retryIdempotent: options.retryIdempotent ?? false, replayAfterReset: options.replayAfterReset ?? false, upstreamPath: path, h2c: upstream.url.protocol === 'h2c:' });

    try {
      const headers = upstreamRequestHeaders(request, upstream, context, forwarded);
      // NOTE: h2c servers never receive request trailers, because undici 7's HTTP/2 client cannot send them.
      const trailers = withBody && upstream.url.protocol !== 'h2c:' ? requestTrailers(request, headers) : undefined;
      if ((relayExpectation || trailers !== undefined) && body !== null) {
        continueClient.send({ upstream, method: request.method ?? 'GET', path, headers, body, expectContinue: relayExpectation, trailers }, relay);
      } else {
        const dispatch = dispatchOptions(request, upstream, path, headers, body);
        if (options.newConnection === true) {
          freshConnections.dispatch(dispatch, relay, upstream.url.protocol === 'h2c:', relay.outcome);
        } else {
          dispatcherFor(upstream).dispatch(dispatch, relay);
        }
      }
    } catch (error) {
      relay.fail(error);
    }
    return counted(relay.outcome);
  }

  async function forwardUpgrade(
    request: IncomingMessage,
    response: ServerResponse,
    socket: Duplex,
    head: Buffer,
    upstream: Upstream,
    context: ForwardContext,
  ): Promise<ForwardOutcome> {
    const withoutClient = clientGoneOutcome(response, upstream);
    if (withoutClient !== undefined) {
      return withoutClient;
    }

    const path = upstreamPath(request.url, upstream.url);
    const protocol = request.headers.upgrade;
    if (path === undefined || protocol === undefined || !isUpgradeRequest(request.headers)) {
      const error = new BadRequestError('the upgrade request has no path to forward or no Upgrade field');
      sendErrorResponse(response, error.status, false);
      return { status: error.status, safeToRetry: false, error };
    }

    let parts: UpgradeRequestParts;
    try {
      parts = splitUpgradeRequest(request, socket, head);
    } catch (error) {
      if (!(error instanceof BadRequestError)) throw error;
      sendErrorResponse(response, error.status, false);
      return { status: error.status, safeToRetry: false, error };
    }
    const { body, tunnelHead } = parts;
    const pendingBody = body instanceof UpgradeBodyStream ? body : undefined;
    // NOTE: the response header timeout of an upgrade request counts from the start of the request, not from
    // the end of its body, and no read timeout bounds that body.
    const relay = new UpgradeRelay({ request, response, socket, head: tunnelHead, pendingBody, requestedProtocols: protocol, serverUrl: redactServerUrl(upstream.url.href), responseHeaderTimeoutMs, logger });
    try {
      const headers = upstreamRequestHeaders(request, upstream, context, forwarded);
      const dispatch: Dispatcher.DispatchOptions = {
        ...dispatchOptions(request, upstream, path, headers, body),
        // undici writes `connection: upgrade` and this `upgrade` field itself (RFC 9110 §7.8).
        upgrade: protocol,
      };
      // NOTE: upgrades go over HTTP/1.1 even to an h2c server, because HTTP/2 has no Upgrade (RFC 9113
      // section 8.6), so a server that speaks only h2c responds to them with an error.
      agent.dispatch(dispatch, relay);
    } catch (error) {
      relay.fail(error);
    }
    return counted(relay.outcome);
  }

  /**
   * Returns the outcome of a request whose client left before forwarding started, as when forwardAuth or the
   * retry middleware was still waiting, or undefined when the client is still there. Nothing is sent for it.
   */
  function clientGoneOutcome(response: ServerResponse, upstream: Upstream): ForwardOutcome | undefined {
    if (!isClientGone(response)) {
      return undefined;
    }
    const error = new ClientClosedError('the client closed the connection before the request was forwarded');
    logger.debug({ [Fields.server]: redactServerUrl(upstream.url.href), [Fields.status]: error.status, err: error }, 'client closed the connection before the request was forwarded');
    return { status: error.status, safeToRetry: false, error };
  }

  // Exchanges whose outcome has not settled. A count, not a set, so that nothing of a finished exchange stays reachable.
  let inFlight = 0;
  const idleWaiters: Array<() => void> = [];
  function counted(outcome: Promise<ForwardOutcome>): Promise<ForwardOutcome> {
    inFlight++;
    return outcome.finally(() => {
      inFlight--;
      if (inFlight > 0) return;
      for (const resolve of idleWaiters.splice(0)) resolve();
    });
  }
  function idle(): Promise<void> {
    return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
  }

  // Waits for requests in flight, so a long stream such as server-sent events delays it until it ends. With
  // `timeoutMs`, the connections of requests still in flight after that time are destroyed, which fails them.
  // undici's Agent removes its pools from its list once close() starts, so destroy() must come first to reach them.
  async function close(timeoutMs?: number): Promise<void> {
    if (timeoutMs !== undefined && !(await settlesWithin(idle(), timerMs(timeoutMs)))) {
      logger.warn({ [Fields.durationMs]: timeoutMs, [Fields.counts]: { requests: inFlight } }, 'requests to servers were still in flight when the forwarder closed, so their connections are closed');
      continueClient.destroy();
      await Promise.all([agent.destroy(), h2cAgent.destroy(), freshConnections.destroy(), continueClient.close()]);
      return;
    }
    await Promise.all([agent.close(), h2cAgent.close(), freshConnections.close(), continueClient.close()]);
  }

  return { forward, forwardUpgrade, close };
}

function dispatchOptions(
  request: IncomingMessage,
  upstream: Upstream,
  path: string,
  headers: string[],
  body: RequestBodyStream | UpgradeBodyStream | Buffer | null,
): Dispatcher.DispatchOptions {
  // NOTE: for an https server, undici takes the TLS server name (SNI and certificate check) from the Host
  // field, which is the client's Host when passHostHeader is true, not the host of the server URL. It also
  // closes a pooled TLS connection when the next request carries another Host.
  // NOTE: undici 7 sends a HEAD with `connection: close` and opens a new connection for the next request
  // (lib/dispatcher/client-h1.js, `method === 'HEAD'`). Its `reset: false` option would keep the connection.
  // But a server that wrongly sends a body after a HEAD response would then have those bytes read as the
  // response to the next request on that connection, which may be another client's.
  return {
    // The origin of an `h2c://` URL is opaque in WHATWG URLs, and undici connects to h2c servers by their http:// origin.
    origin: upstream.url.protocol === 'h2c:' ? `http://${upstream.url.host}` : upstream.url.origin,
    path,
    method: request.method ?? 'GET',
    headers,
    body,
  };
}

/**
 * Returns whether the client waits for `100 Continue` before sending its body. The entry points' 'checkContinue'
 * listeners leave that response to Berth. An HTTP/1.0 request's expectation is ignored, as RFC 9110 section
 * 10.1.1 requires, and a 1xx response to it is forbidden (RFC 9110 section 15.2).
 */
function expectsContinueFrom(request: IncomingMessage): boolean {
  const http11OrLater = request.httpVersionMajor >= 2 || (request.httpVersionMajor === 1 && request.httpVersionMinor >= 1);
  return http11OrLater && /(?:^|\W)100-continue(?:$|\W)/i.test(request.headers.expect ?? '');
}

/** Returns whether `promise` settles within `timeoutMs`. */
async function settlesWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function checkedMilliseconds(name: string, value: number, zeroAllowed: boolean): number {
  const valid = Number.isFinite(value) && (zeroAllowed ? value >= 0 : value > 0);
  if (!valid) {
    const expected = zeroAllowed ? 'a number of milliseconds >= 0' : 'a number of milliseconds > 0';
    throw new RangeError(`invalid forwarder option ${name}: ${String(value)}, expected ${expected}`);
  }
  return timerMs(value);
}
