// The contract between the request pipeline and each middleware type.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.js';
import type { RequestFacts } from '../rules/types.js';

/** One request on its way through a router's middleware chain. */
export interface RequestContext {
  request: IncomingMessage;
  response: ServerResponse;
  facts: RequestFacts;
  entryPoint: string;
  scheme: 'http' | 'https';
  /** Name of the router that matched, for middlewares that keep state per router. */
  router?: string;
  /** Set by the `retry` middleware; the service call then retries failed attempts within it. */
  retry?: RetryPolicy;
  /** Set by the dispatcher for a router with middlewares, so a middleware such as `errors` can call another service. */
  callService?: ServiceCaller;
}

/**
 * Forwards the request of `context` to the service with the qualified name `service` and writes the
 * server's response to `context.response`. Returns false, having written nothing, when the service
 * does not exist or has no available server.
 */
export type ServiceCaller = (service: string, context: RequestContext) => Promise<boolean>;

/** Lookups in the configuration being built, and the logger, for middleware factories. */
export interface MiddlewareBuildContext {
  /**
   * Logger for the middleware's runtime events, such as a circuit breaker that trips. Its lines
   * carry the middleware's qualified name (`middlewareName`) and type (`middlewareType`).
   */
  logger: Logger;
  /**
   * Returns the qualified name (`name@provider`) of the usable service `name`. A name without
   * `@provider` refers to the middleware's own provider. Throws an Error naming the service when it
   * does not exist or is disabled.
   */
  resolveService(name: string): string;
}

/** Retry budget of one request: the number of attempts and the wait before each retry. */
export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  attempts: number;
  /** Wait before the first retry, in milliseconds; later waits grow but stay below twice this. */
  initialIntervalMs: number;
}

/** Calls the rest of the chain (the next middleware, then the service). */
export type Next = () => Promise<void>;

/**
 * The effect a middleware would have on a request, worked out without side effects for explain:
 * - `passes`: it calls `next` for this request.
 * - `responds`: it sends `status` itself for this request, whatever the state of Berth.
 * - `may-respond`: it may send one of `statuses` instead of calling `next`, depending on what
 *   explain cannot know in advance (a password check, an authentication server, recent traffic).
 *   `statuses` is empty when another server chooses the status.
 */
export type MiddlewarePreview =
  | { effect: 'passes' }
  | { effect: 'responds'; status: number; reason: string; location?: string }
  | { effect: 'may-respond'; statuses: number[]; reason: string };

/** A middleware instance: responds to the request itself or calls `next`. */
export interface Middleware {
  (context: RequestContext, next: Next): Promise<void>;
  /**
   * Returns what the middleware would do with `context` without doing it: no state changes, no
   * network calls. Absent on middlewares that always call `next`.
   */
  preview?: (context: RequestContext) => MiddlewarePreview;
}

/** Attaches `preview` to `middleware`, for explain, and returns the middleware. */
export function withPreview(middleware: (context: RequestContext, next: Next) => Promise<void>, preview: (context: RequestContext) => MiddlewarePreview): Middleware {
  return Object.assign(middleware, { preview });
}

/**
 * Builds a middleware from decoded label options; throws an Error whose message names the bad
 * option. `warn` records a problem that does not stop the middleware, such as a deprecated option.
 * `build` resolves the names of other configuration items, such as the service of `errors`, and
 * contains the logger for events while the middleware serves requests.
 */
export type MiddlewareFactory = (options: Record<string, unknown>, warn: (message: string) => void, build: MiddlewareBuildContext) => Middleware;
