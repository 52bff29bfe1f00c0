// Serves one request of a user entry point: picks the router, runs its middlewares and forwards
// to a server of its service. Holds the current runtime, which `swap` replaces atomically.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.js';
import { Fields } from '../observability/fields.js';
import type { Forwarder } from '../proxy/types.js';
import type { Middleware, RequestContext } from '../middlewares/types.js';
import { requestFacts } from './facts.js';
import type { Runtime, RuntimeService } from './runtime.js';
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
  readonly #forwarder: Forwarder;
  readonly #logger: Logger;

  constructor(runtime: Runtime, forwarder: Forwarder, logger: Logger) {
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
      await runChain(chain, context, () => this.#forwardToService(context, route, service, options));
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
    // a container that just went away) is tried once more on another server; the forwarder leaves
    // the body unread in that case, so this holds for requests with a body too.
    const second = service.balancer.next((candidate) => candidate !== first);
    const attempts = second ? [first, second] : [first];
    for (const [index, server] of attempts.entries()) {
      const isLast = index === attempts.length - 1;
      this.#logger.debug({ [Fields.router]: route.name, [Fields.service]: service.name, [Fields.server]: server.url, [Fields.attempt]: index + 1 }, 'forwarding request');
      const outcome = await this.#forwarder.forward(request, response, { url: server.target, passHostHeader: service.passHostHeader }, forwardContext, {
        writeRetryableError: isLast,
      });

      if (outcome.error && outcome.status >= 500) {
        this.#logger.warn(
          { err: outcome.error, [Fields.router]: route.name, [Fields.service]: service.name, [Fields.server]: server.url, [Fields.status]: outcome.status },
          isLast || !outcome.safeToRetry ? 'forwarding failed' : 'forwarding failed; trying another server',
        );
      }
      if (!outcome.safeToRetry || outcome.status < 500) return;
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
