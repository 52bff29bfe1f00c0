// Forwards one request to a server of its service and tries again when that is safe. It picks the
// server (sticky cookie first, then the strategy among available servers), counts the request in
// flight, reports each result to the passive health check and decides each retry.
//
// Without the `retry` middleware, a request that never reached its server (a refused connection to
// a container that just went away) is tried on up to two other servers at once. Servers also close
// idle keep-alive connections just as a request arrives. So an idempotent request without a body
// whose connection was closed or reset before any response byte is sent again once, as Go's
// Transport does: to the same server, or to another when that one left, and on a new connection
// rather than a pooled one. Only a connection that served an earlier request counts, and only
// when nothing came back. A request that an h2c server did not process (a refused stream, or a
// GOAWAY below its stream) is sent again once the same way, whatever its method, and may then go
// to other servers like a request that never reached one. With it, the
// middleware's budget applies, idempotent requests without a body that got no response are
// retried too, and a retry waits a little longer each time and may return to a server already
// tried when no other is available. The forwarder leaves the body unread when nothing reached the
// server, so a request with a body can be retried in that case.
//
// A retry picks from the newest runtime's service. A request can outlive the runtime it started
// with: a connection attempt whose SYN was dropped by a busy server is sent again by the kernel
// a second later, by which time that server may have left the configuration and exited.
import type { ServerResponse } from 'node:http';

import { attachStickyCookie } from '../balancer/sticky.js';
import type { RequestContext, RetryPolicy } from '../middlewares/types.js';
import { retryDelayMs } from '../middlewares/retry.js';
import type { Logger } from '../observability/logger.js';
import { Fields } from '../observability/fields.js';
import { redactServerUrl } from '../observability/redact.js';
import { sleepUnlessClientGone } from '../proxy/client-gone.js';
import { sendErrorResponse } from '../proxy/error-response.js';
import { failureLogFields } from '../proxy/status.js';
import type { ForwardContext, ForwardOptions, ForwardOutcome, Forwarder } from '../proxy/types.js';
import type { RuntimeServer, RuntimeService } from './services.js';
import type { Route } from './table.js';

/** Attempts of a request without the `retry` middleware: the first one and up to two other servers. */
const DEFAULT_ATTEMPTS = 3;

export interface ServiceCallOptions {
  forwarder: Forwarder;
  logger: Logger;
  forwardContext: ForwardContext;
  /** Returns the service of the same name in the newest runtime, for retries. */
  currentService?: () => RuntimeService | undefined;
}

/** The server of one attempt and the service (of the runtime it came from) that it belongs to. */
interface Target {
  server: RuntimeServer;
  service: RuntimeService;
}

/**
 * Forwards the request of `context` to `service`. Returns false, having written nothing, when no
 * server of the service is available, so the caller can send 503.
 */
export async function callService(context: RequestContext, route: Route, service: RuntimeService, options: ServiceCallOptions): Promise<boolean> {
  const { request, response } = context;
  const { balancer } = service;
  const requestedValue = balancer.requestedValue(request.headers.cookie);
  const first = balancer.pick(requestedValue);
  if (first === undefined) return false;

  // This runs for every request. The set of tried servers and the log fields are built only when
  // an attempt fails or debug logging is on, because building them cost more than the rest of the call.
  const policy = context.retry;
  const attempts = policy?.attempts ?? DEFAULT_ATTEMPTS;
  const pin = balancer.sticky ? attachStickyCookie(response, balancer.sticky, requestedValue) : undefined;
  const debug = options.logger.isLevelEnabled('debug');
  // Server URLs, because a retry may pick from a newer runtime with other server objects.
  let tried: Set<string> | undefined;

  let target: Target = { server: first.server, service };
  // Whether an idempotent request was already sent again after a closed connection.
  let replayed = false;
  // Whether the previous attempt failed on a stale connection, so this one needs a new connection.
  let afterStale = false;
  for (let attempt = 1; ; attempt++) {
    const { server } = target;
    pin?.(server.stickyValue);
    const mayRetry = attempt < attempts;
    if (debug) options.logger.debug(logFields(route, service, server, attempt), 'forwarding request');

    const outcome = await forwardCounted(target, context, options, attemptOptions(mayRetry, policy, afterStale));
    if (outcome.status < 500 || !outcome.error) return true;

    tried ??= new Set();
    tried.add(server.url);
    const stale = outcome.staleConnection === true || outcome.notProcessed === true;
    // The first stale connection of this request, whose replay is routine.
    const firstStale = stale && !replayed;
    let retry: Target | undefined;
    if (mayRetry && retryAllowed(outcome, policy, replayed)) {
      const current = options.currentService?.() ?? target.service;
      // A stale connection is no sign of a fault in the server, so the request goes to it again, as
      // Go's Transport replays it, and a sticky client keeps its server. Only once: a server that
      // refuses the replay on a new connection too is left for the others.
      retry = firstStale && policy === undefined ? sameServer(current, server.url) : undefined;
      retry ??= pickRetry(current, tried, policy !== undefined || firstStale);
    }
    if (stale) replayed = true;
    afterStale = stale;
    // A server closing a keep-alive connection as a request arrives is routine, so its replay is logged at debug.
    const level = retry !== undefined && firstStale ? 'debug' : 'warn';
    options.logger[level](
      { ...logFields(route, service, server, attempt), ...failureLogFields(outcome.error), [Fields.status]: outcome.status },
      retry ? 'forwarding failed; trying again' : 'forwarding failed',
    );
    if (retry === undefined) {
      pin?.(undefined);
      writeFailure(response, outcome.status, !request.complete);
      return true;
    }

    // A client that left before or during the wait gets no retry, and the wait ends when it leaves.
    // Without the middleware the retry follows at once, and the forwarder sends nothing for a client that left.
    if (policy !== undefined && !(await sleepUnlessClientGone(response, retryDelayMs(policy, attempt)))) {
      options.logger.debug({ ...logFields(route, retry.service, retry.server, attempt + 1), [Fields.status]: 499 }, 'client closed the connection before the retry');
      return true;
    }
    target = retry;
  }
}

const LAST_ATTEMPT: ForwardOptions = { writeRetryableError: true, retryIdempotent: false, replayAfterReset: false };
const EARLIER_ATTEMPT: ForwardOptions = { writeRetryableError: false, retryIdempotent: false, replayAfterReset: true };
const EARLIER_ATTEMPT_WITH_RETRY_POLICY: ForwardOptions = { writeRetryableError: false, retryIdempotent: true, replayAfterReset: true };

/**
 * Returns the forward options of an attempt. The last attempt writes its error. An earlier one
 * leaves a retryable error unwritten. An idempotent request that got no response counts as
 * retryable after a closed or reset connection, and with the `retry` middleware after any failure.
 * An attempt after a stale connection goes out on a new connection, because the pool may hold
 * other idle connections that the server has closed too.
 */
function attemptOptions(mayRetry: boolean, policy: RetryPolicy | undefined, afterStale: boolean): ForwardOptions {
  let chosen = LAST_ATTEMPT;
  if (mayRetry) chosen = policy === undefined ? EARLIER_ATTEMPT : EARLIER_ATTEMPT_WITH_RETRY_POLICY;
  return afterStale ? { ...chosen, newConnection: true } : chosen;
}

function logFields(route: Route, service: RuntimeService, server: RuntimeServer, attempt: number): Record<string, unknown> {
  return { [Fields.router]: route.name, [Fields.service]: service.name, [Fields.server]: redactServerUrl(server.url), [Fields.attempt]: attempt };
}

/** Forwards one attempt, counting it in flight on the server and reporting its result to the passive health check. */
async function forwardCounted(
  { server, service }: Target,
  context: RequestContext,
  options: ServiceCallOptions,
  forwardOptions: ForwardOptions,
): Promise<ForwardOutcome> {
  const end = server.health.begin();
  let outcome: ForwardOutcome;
  try {
    outcome = await options.forwarder.forward(context.request, context.response, { url: server.target, passHostHeader: service.passHostHeader }, options.forwardContext, forwardOptions);
  } finally {
    end();
  }

  // A client that went away (499) is no sign of the server's health, so it counts neither way, and
  // neither does a stale keep-alive connection, whose request is sent again on a new one. Nor does a
  // request an h2c server did not process on a pooled connection, most often one it was closing.
  // Refused again on a new connection, it counts as a failure.
  if (outcome.staleConnection === true) return outcome;
  if (outcome.notProcessed === true && forwardOptions.newConnection !== true) return outcome;
  if (outcome.status >= 500) server.health.recordFailure();
  else if (outcome.status !== 499) server.health.recordSuccess();
  return outcome;
}

/**
 * Returns whether a failed attempt may be retried. Without the `retry` middleware, a request sent on
 * a connection that the server then closed is sent again once only.
 */
function retryAllowed(outcome: ForwardOutcome, policy: RetryPolicy | undefined, replayed: boolean): boolean {
  if (!outcome.safeToRetry) return false;
  return policy !== undefined || outcome.staleConnection !== true || !replayed;
}

/** Returns the server with `url` in `service` when it can take requests. */
function sameServer(service: RuntimeService, url: string): Target | undefined {
  const server = service.servers.find((item) => item.url === url && item.weight > 0 && item.health.isAvailable());
  return server === undefined ? undefined : { server, service };
}

/** Returns the server for the next attempt: one not tried yet, else, when `anyServer` is true, any available one. */
function pickRetry(service: RuntimeService, tried: ReadonlySet<string>, anyServer: boolean): Target | undefined {
  const fresh = service.balancer.pick(undefined, (server) => tried.has(server.url));
  if (fresh !== undefined) return { server: fresh.server, service };
  if (!anyServer) return undefined;
  const again = service.balancer.pick(undefined);
  return again === undefined ? undefined : { server: again.server, service };
}

/** Writes the error of the last attempt, which the forwarder left unwritten for a retry that did not happen. */
function writeFailure(response: ServerResponse, status: number, bodyUnread: boolean): void {
  if (response.headersSent || response.writableEnded) return;
  sendErrorResponse(response, status, bodyUnread);
}
