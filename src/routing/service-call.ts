// Forwards one request to a server of its service and tries again when that is safe. It picks the
// server (sticky cookie first, then the strategy among available servers), counts the request in
// flight, reports each result to the passive health check and decides each retry.
//
// Without the `retry` middleware, a request that never reached its server (a refused connection to
// a container that just went away) is tried on up to two other servers at once. With it, the
// middleware's budget applies, idempotent requests without a body that got no response are
// retried too, and a retry waits a little longer each time and may return to a server already
// tried when no other is available. The forwarder leaves the body unread when nothing reached the
// server, so a request with a body can be retried in that case.
//
// A retry picks from the newest runtime's service. A request can outlive the runtime it started
// with: a connection attempt whose SYN was dropped by a busy server is sent again by the kernel
// a second later, by which time that server may have left the configuration and exited.
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import { attachStickyCookie } from '../balancer/sticky.js';
import type { RequestContext, RetryPolicy } from '../middlewares/types.js';
import { retryDelayMs } from '../middlewares/retry.js';
import type { Logger } from '../observability/logger.js';
import { Fields } from '../observability/fields.js';
import { sendErrorResponse } from '../proxy/error-response.js';
import type { ForwardContext, ForwardOutcome, Forwarder } from '../proxy/types.js';
import type { RuntimeServer, RuntimeService } from './services.js';
import type { Route } from './table.js';

/** Attempts of a request without the `retry` middleware: the first one and up to two other servers. */
const DEFAULT_ATTEMPTS = 3;

interface AttemptPlan {
  attempts: number;
  /** Set by the `retry` middleware. */
  policy?: RetryPolicy;
}

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

  const plan: AttemptPlan = context.retry ? { attempts: context.retry.attempts, policy: context.retry } : { attempts: DEFAULT_ATTEMPTS };
  const pin = balancer.sticky ? attachStickyCookie(response, balancer.sticky, requestedValue) : undefined;
  // Server URLs, because a retry may pick from a newer runtime with other server objects.
  const tried = new Set<string>();
  const log = { [Fields.router]: route.name, [Fields.service]: service.name };

  let target: Target = { server: first.server, service };
  for (let attempt = 1; ; attempt++) {
    const { server } = target;
    tried.add(server.url);
    pin?.(server.stickyValue);
    const mayRetry = attempt < plan.attempts;
    options.logger.debug({ ...log, [Fields.server]: server.url, [Fields.attempt]: attempt }, 'forwarding request');

    const outcome = await forwardCounted(target, context, options, {
      writeRetryableError: !mayRetry,
      retryIdempotent: mayRetry && plan.policy !== undefined,
    });
    if (outcome.status < 500 || !outcome.error) return true;

    const retry = mayRetry && outcome.safeToRetry ? pickRetry(options.currentService?.() ?? target.service, tried, plan) : undefined;
    options.logger.warn(
      { ...log, err: outcome.error, [Fields.server]: server.url, [Fields.status]: outcome.status, [Fields.attempt]: attempt },
      retry ? 'forwarding failed; trying again' : 'forwarding failed',
    );
    if (retry === undefined) {
      pin?.(undefined);
      writeFailure(response, outcome.status, !request.complete);
      return true;
    }

    if (plan.policy !== undefined) {
      await sleep(retryDelayMs(plan.policy, attempt));
      // The client may have left during the wait; nothing more is sent for it.
      if (response.destroyed) return true;
    }
    target = retry;
  }
}

/** Forwards one attempt, counting it in flight on the server and reporting its result to the passive health check. */
async function forwardCounted(
  { server, service }: Target,
  context: RequestContext,
  options: ServiceCallOptions,
  forwardOptions: { writeRetryableError: boolean; retryIdempotent: boolean },
): Promise<ForwardOutcome> {
  const end = server.health.begin();
  let outcome: ForwardOutcome;
  try {
    outcome = await options.forwarder.forward(context.request, context.response, { url: server.target, passHostHeader: service.passHostHeader }, options.forwardContext, forwardOptions);
  } finally {
    end();
  }

  // A client that went away (499) is no sign of the server's health, so it counts neither way.
  if (outcome.status >= 500) server.health.recordFailure();
  else if (outcome.status !== 499) server.health.recordSuccess();
  return outcome;
}

/** Returns the server for the next attempt: one not tried yet, else, with the `retry` middleware, any available one. */
function pickRetry(service: RuntimeService, tried: ReadonlySet<string>, plan: AttemptPlan): Target | undefined {
  const fresh = service.balancer.pick(undefined, (server) => tried.has(server.url));
  if (fresh !== undefined) return { server: fresh.server, service };
  if (plan.policy === undefined) return undefined;
  const again = service.balancer.pick(undefined);
  return again === undefined ? undefined : { server: again.server, service };
}

/** Writes the error of the last attempt, which the forwarder left unwritten for a retry that did not happen. */
function writeFailure(response: ServerResponse, status: number, bodyUnread: boolean): void {
  if (response.headersSent || response.writableEnded) return;
  sendErrorResponse(response, status, bodyUnread);
}
