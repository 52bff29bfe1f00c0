// Serves one request of a user entry point: picks the router, runs its middlewares and forwards
// to a server of its service. Holds the current runtime, which `swap` replaces atomically.
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.js';
import { Fields } from '../observability/fields.js';
import type { TunnelingForwarder } from '../proxy/forwarder.js';
import { removeHopByHopHeaders } from '../proxy/headers.js';
import type { Middleware, RequestContext } from '../middlewares/types.js';
import { requestFacts } from './facts.js';
import type { Runtime, RuntimeServer, RuntimeService } from './runtime.js';
import type { Route } from './table.js';

/** Seconds a client is told to wait before retrying a service that has no server. */
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
    // header that a middleware adds and have it stripped later (RFC 9110 §7.6.1).
    removeHopByHopHeaders(request.headers);
    await this.#serve(request, response, options, (context, route, service) => this.#forwardToService(context, route, service, options));
  }

  /**
   * Serves a request that asks for a protocol upgrade such as WebSocket. Middlewares see a normal
   * response object bound to the socket, so one can still answer (a 401, say) before the tunnel.
   */
  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, options: DispatchOptions): Promise<void> {
    removeHopByHopHeaders(request.headers, { keepUpgrade: true });
    const response = new ServerResponse(request);
    response.assignSocket(socket as Socket);
    response.on('finish', () => socket.end());

    await this.#serve(request, response, options, async (_context, route, service) => {
      const server = service?.balancer.next();
      if (!service || !server) {
        response.setHeader('retry-after', RETRY_AFTER_SECONDS);
        sendText(response, 503, '503 Service Unavailable: no server is available');
        return;
      }
      response.detachSocket(socket as Socket);
      this.#logger.debug({ [Fields.router]: route.name, [Fields.service]: service.name, [Fields.server]: server.url }, 'forwarding upgrade request');
      const forwardContext = { entryPoint: options.entryPoint, scheme: options.scheme, serverName: options.serverName };
      const outcome = await this.#forwarder.forwardUpgrade(request, socket, head, { url: server.target, passHostHeader: service.passHostHeader }, forwardContext);
      if (outcome.error && outcome.status >= 500) {
        this.#logger.warn({ err: outcome.error, [Fields.router]: route.name, [Fields.server]: server.url, [Fields.status]: outcome.status }, 'upgrade request failed');
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
    const route = runtime.tables.get(options.entryPoint)?.match(facts);
    if (!route) {
      sendText(response, 404, '404 page not found');
      return;
    }

    const context: RequestContext = { request, response, facts, entryPoint: options.entryPoint, scheme: options.scheme };
    const chain = route.middlewares.map((name) => runtime.middlewares.get(name)).filter((item): item is Middleware => item !== undefined);
    const service = runtime.services.get(route.service);

    try {
      await runChain(chain, context, () => last(context, route, service));
    } catch (error) {
      this.#logger.error({ err: error, [Fields.router]: route.name, [Fields.entryPoint]: options.entryPoint }, 'request failed in a middleware');
      if (!response.headersSent) sendText(response, 500, '500 Internal Server Error');
      else response.destroy();
    }
  }

  async #forwardToService(context: RequestContext, route: Route, service: RuntimeService | undefined, options: DispatchOptions): Promise<void> {
    const { request, response } = context;
    const forwardContext = { entryPoint: options.entryPoint, scheme: options.scheme, serverName: options.serverName };
    const first = service?.balancer.next();
    if (!service || !first) {
      response.setHeader('retry-after', RETRY_AFTER_SECONDS);
      sendText(response, 503, '503 Service Unavailable: no server is available');
      return;
    }

    // A failure before any byte of the request reached the server (such as a refused connection to
    // a container that just went away) is tried once more on another server. The forwarder leaves
    // the body unread in that case, so this holds for requests with a body too.
    let server = first;
    for (let attempt = 1; ; attempt++) {
      const mayRetry = attempt === 1 && service.servers.length > 1;
      this.#logger.debug({ [Fields.router]: route.name, [Fields.service]: service.name, [Fields.server]: server.url, [Fields.attempt]: attempt }, 'forwarding request');
      const outcome = await this.#forwarder.forward(request, response, { url: server.target, passHostHeader: service.passHostHeader }, forwardContext, {
        writeRetryableError: !mayRetry,
      });
      if (outcome.status < 500 || !outcome.error) return;

      const failed: RuntimeServer = server;
      const retry = mayRetry && outcome.safeToRetry ? service.balancer.next((candidate) => candidate !== failed) : undefined;
      this.#logger.warn(
        { err: outcome.error, [Fields.router]: route.name, [Fields.service]: service.name, [Fields.server]: failed.url, [Fields.status]: outcome.status },
        retry ? 'forwarding failed; trying another server' : 'forwarding failed',
      );
      if (!retry) {
        // The forwarder left the response unwritten for a retry that no other server can take.
        if (!response.headersSent && !response.writableEnded) sendText(response, outcome.status, outcome.status === 504 ? '504 Gateway Timeout' : '502 Bad Gateway');
        return;
      }
      server = retry;
    }
  }
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
    response.destroy();
    return;
  }
  const body = `${text}\n`;
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
