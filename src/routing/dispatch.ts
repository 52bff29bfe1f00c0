// Serves one request of a user entry point: picks the router, runs its middlewares and forwards
// to a server of its service. Holds the current runtime, which `swap` replaces atomically.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.js';
import { Fields } from '../observability/fields.js';
import { redactServerUrl } from '../observability/redact.js';
import { ClientClosedError } from '../errors.js';
import { abortResponse } from '../proxy/abort-response.js';
import type { TunnelingForwarder } from '../proxy/forwarder.js';
import { removeHopByHopHeaders } from '../proxy/headers.js';
import { failureLogFields } from '../proxy/status.js';
import { hasRequestBody } from '../proxy/upstream-request.js';
import type { Middleware, RequestContext } from '../middlewares/types.js';
import { normalizeRequestTarget, requestFacts } from './facts.js';
import { normalizeServerName } from '../tls/options-by-host.js';
import { routeTableFor, type Runtime, type RuntimeService } from './runtime.js';
import { callService } from './service-call.js';
import type { Route } from './table.js';
import { createUpgradeResponse } from '../proxy/upgrade-response.js';

/** Retry-After value, in seconds, for a service that has no server. */
const RETRY_AFTER_SECONDS = '5';

export interface DispatchOptions {
  entryPoint: string;
  scheme: 'http' | 'https';
  serverName: string;
}

export class Dispatcher {
  #runtime: Runtime;
  readonly #forwarder: TunnelingForwarder;
  readonly #logger: Logger;

  constructor(runtime: Runtime, forwarder: TunnelingForwarder, logger: Logger) {
    this.#runtime = runtime;
    this.#forwarder = forwarder;
    this.#logger = logger;
  }

  get runtime(): Runtime {
    return this.#runtime;
  }

  /** Replaces the runtime; requests already running keep the one they started with. */
  swap(runtime: Runtime): void {
    this.#runtime = runtime;
  }

  async handle(request: IncomingMessage, response: ServerResponse, options: DispatchOptions): Promise<void> {
    // Hop-by-hop fields go before any middleware runs, so a client cannot name in `Connection` a
    // header that a middleware adds and have it stripped later (RFC 9110 §7.6.1). Trailer stays for the forwarder.
    removeHopByHopHeaders(request.headers, { keepTrailer: true });
    normalizeRequestTarget(request);
    await this.#serve(request, response, options, (context, route, service) => this.#forwardToService(context, route, service, options));
  }

  /**
   * Serves a request for a protocol upgrade such as WebSocket. Middlewares see a normal response
   * object bound to the socket, so one can still respond (a 401, say) before the tunnel. The
   * server's response goes through it too, and after a 101 only the head does.
   */
  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, options: DispatchOptions): Promise<void> {
    // RFC 9110 section 7.8: a server ignores Upgrade in an HTTP/1.0 request.
    const http10 = request.httpVersionMajor === 1 && request.httpVersionMinor === 0;
    removeHopByHopHeaders(request.headers, { keepUpgrade: !http10 });
    normalizeRequestTarget(request);
    const response = createUpgradeResponse(request, socket);

    if (request.headers.upgrade === undefined) {
      // The upgrade was to h2c only, which Berth never passes on (see `passedUpgrade`), or the request is
      // HTTP/1.0, so this is an ordinary request on a connection that closes after the response. node:http
      // leaves the body of an upgrade request unparsed, so one that has a body cannot be forwarded.
      if (hasRequestBody(request)) {
        sendText(response, 400, '400 Bad Request: this upgrade request cannot have a body; send it without the Upgrade field');
        return;
      }
      await this.#serve(request, response, options, (context, route, service) => this.#forwardToService(context, route, service, options));
      return;
    }

    await this.#serve(request, response, options, async (_context, route, service) => {
      const server = service?.balancer.pick(service.balancer.requestedValue(request.headers.cookie))?.server;
      if (!service || !server) {
        response.setHeader('retry-after', RETRY_AFTER_SECONDS);
        sendText(response, 503, '503 Service Unavailable: no server is available');
        return;
      }
      this.#logger.debug({ [Fields.router]: route.name, [Fields.service]: service.name, [Fields.server]: redactServerUrl(server.url) }, 'forwarding upgrade request');
      const forwardContext = { entryPoint: options.entryPoint, scheme: options.scheme, serverName: options.serverName };
      // A tunnel counts as a request in flight for as long as it is open.
      const end = server.health.begin();
      const outcome = await this.#forwarder
        .forwardUpgrade(request, response, socket, head, { url: server.target, passHostHeader: service.passHostHeader }, forwardContext)
        .finally(end);
      if (outcome.error && outcome.status >= 500) {
        this.#logger.warn({ ...failureLogFields(outcome.error), [Fields.router]: route.name, [Fields.server]: redactServerUrl(server.url), [Fields.status]: outcome.status }, 'upgrade request failed');
      }
    });
  }

  async #serve(
    request: IncomingMessage,
    response: ServerResponse,
    options: DispatchOptions,
    last: (context: RequestContext, route: Route, service: RuntimeService | undefined) => Promise<void>,
  ): Promise<void> {
    const runtime = this.#runtime;
    const facts = requestFacts(request);
    if (options.scheme === 'https' && isMisdirected(runtime, options.entryPoint, request, facts.host)) {
      sendText(response, 421, '421 Misdirected Request');
      return;
    }
    const route = routeTableFor(runtime, options.entryPoint, options.scheme)?.match(facts);
    if (!route) {
      sendText(response, 404, '404 page not found');
      return;
    }

    const context: RequestContext = { request, response, facts, entryPoint: options.entryPoint, scheme: options.scheme, router: route.name };
    const service = runtime.services.get(route.service);

    try {
      if (route.middlewares.length === 0) {
        await last(context, route, service);
      } else {
        const chain = route.middlewares.map((name) => runtime.middlewares.get(name)).filter((item): item is Middleware => item !== undefined);
        context.callService = (name, serviceContext) => this.#callNamedService(runtime, route, name, serviceContext, options);
        await runChain(chain, context, () => last(context, route, service));
      }
    } catch (error) {
      // A middleware that stopped because the client left (forwardAuth) has no client to respond to.
      if (error instanceof ClientClosedError) {
        this.#logger.debug({ err: error, [Fields.router]: route.name, [Fields.status]: error.status }, 'client closed the connection in a middleware');
        abortResponse(response);
        return;
      }
      this.#logger.error({ err: error, [Fields.router]: route.name, [Fields.entryPoint]: options.entryPoint }, 'request failed in a middleware');
      if (!response.headersSent) sendText(response, 500, '500 Internal Server Error');
      else abortResponse(response);
    }
  }

  /** Forwards `context` to the service `name` of `runtime` for a middleware, such as the page service of `errors`. */
  async #callNamedService(runtime: Runtime, route: Route, name: string, context: RequestContext, options: DispatchOptions): Promise<boolean> {
    const service = runtime.services.get(name);
    const currentService = () => this.#runtime.services.get(name);
    const served = service !== undefined && (await callService(context, route, service, { forwarder: this.#forwarder, logger: this.#logger, forwardContext: options, currentService }));
    // At debug: a client can cause this on every request, and the calling middleware logs its own
    // throttled warning (`errors`: "calling the error page service failed").
    if (!served) this.#logger.debug({ [Fields.router]: route.name, [Fields.service]: name }, 'no server is available for the service a middleware called');
    return served;
  }

  async #forwardToService(context: RequestContext, route: Route, service: RuntimeService | undefined, options: DispatchOptions): Promise<void> {
    const { response } = context;
    const currentService = () => this.#runtime.services.get(route.service);
    const served = service !== undefined && (await callService(context, route, service, { forwarder: this.#forwarder, logger: this.#logger, forwardContext: options, currentService }));
    if (!served) {
      // The router exists but no server can take the request: all are down, draining or absent.
      response.setHeader('retry-after', RETRY_AFTER_SECONDS);
      sendText(response, 503, '503 Service Unavailable: no server is available');
    }
  }
}

/**
 * Returns true when an HTTPS request names a host whose TLS options differ from those of the
 * server name its connection was set up for. Without this check a client could complete the
 * handshake under weaker options (or without the SNI check) and then ask for a stricter host in
 * the Host header. Status 421 (RFC 9110 section 15.5.20) makes the client connect again for that host.
 */
function isMisdirected(runtime: Runtime, entryPoint: string, request: IncomingMessage, host: string): boolean {
  const socket: unknown = request.socket;
  const serverName = typeof socket === 'object' && socket !== null && 'servername' in socket ? socket.servername : undefined;
  if (typeof serverName !== 'string' || serverName === '' || host === '' || host === normalizeServerName(serverName)) return false;
  const selector = runtime.tlsOptionsSelectors.get(entryPoint);
  if (!selector) return false;
  return selector.optionsNameFor(host) !== selector.optionsNameFor(serverName);
}

async function runChain(chain: Middleware[], context: RequestContext, last: () => Promise<void>): Promise<void> {
  const step = async (index: number): Promise<void> => {
    const middleware = chain[index];
    if (!middleware) return last();
    return middleware(context, () => step(index + 1));
  };
  await step(0);
}

export function sendText(response: ServerResponse, status: number, text: string): void {
  if (response.headersSent) {
    abortResponse(response);
    return;
  }
  const body = `${text}\n`;
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
