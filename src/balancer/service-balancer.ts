// The balancer of one service as the request path uses it. It applies the service's strategy
// (weighted round robin or power of two choices) to the servers that are available now, and
// reads the sticky cookie that pins a client to one of them.
import { PowerOfTwoChoices } from './p2c.js';
import type { ServerHealth } from './server-health.js';
import { readCookie, type StickyCookie } from './sticky.js';
import type { AvailabilityCheck, Balancer, WeightedServer } from './types.js';
import { WeightedRoundRobin } from './wrr.js';

/** Strategies Berth implements; Traefik's `hrw` and `leasttime` are served by `wrr`. */
export type StrategyName = 'wrr' | 'p2c';

/** A server with the long-lived health state of its service and its sticky cookie value. */
export interface BalancedServer extends WeightedServer {
  health: ServerHealth;
  /** The sticky cookie value that names this server. */
  stickyValue: string;
}

export interface ServerPick<S> {
  server: S;
  /** True when the request's sticky cookie named this server. */
  pinned: boolean;
}

export class ServiceBalancer<S extends BalancedServer> implements Balancer<S> {
  readonly servers: readonly S[];
  readonly strategy: StrategyName;
  readonly sticky: StickyCookie | undefined;
  readonly #strategy: Balancer<S>;

  /** Throws a RangeError when a weight is negative or not a finite number. */
  constructor(servers: readonly S[], strategy: StrategyName, sticky?: StickyCookie) {
    this.servers = servers;
    this.strategy = strategy;
    this.sticky = sticky;
    this.#strategy = strategy === 'p2c' ? new PowerOfTwoChoices(servers, { load: (server) => server.health.inFlight }) : new WeightedRoundRobin(servers);
  }

  /** Picks among the available servers that `isAvailable` also accepts. */
  next(isAvailable?: AvailabilityCheck<S>): S | undefined {
    return this.#strategy.next(this.#availability(isAvailable));
  }

  peek(isAvailable?: AvailabilityCheck<S>): S | undefined {
    return this.#strategy.peek(this.#availability(isAvailable));
  }

  /** Returns the sticky cookie value a request carries for this service, or undefined. */
  requestedValue(cookieHeader: string | undefined): string | undefined {
    return this.sticky === undefined ? undefined : readCookie(cookieHeader, this.sticky.name);
  }

  /**
   * Picks the server for one attempt of a request: the server its sticky cookie names when that
   * server is available and not excluded, else the strategy's pick among the others.
   */
  pick(requestedValue: string | undefined, exclude?: (server: S) => boolean): ServerPick<S> | undefined {
    const allowed = (server: S): boolean => server.health.isAvailable() && exclude?.(server) !== true;
    if (requestedValue !== undefined) {
      const pinned = this.servers.find((server) => server.stickyValue === requestedValue && server.weight > 0 && allowed(server));
      if (pinned !== undefined) return { server: pinned, pinned: true };
    }
    const server = this.#strategy.next(allowed);
    return server === undefined ? undefined : { server, pinned: false };
  }

  /** Returns whether any server can take a request now. */
  hasAvailableServer(): boolean {
    return this.servers.some((server) => server.weight > 0 && server.health.isAvailable());
  }

  #availability(isAvailable: AvailabilityCheck<S> | undefined): AvailabilityCheck<S> {
    if (isAvailable === undefined) return (server) => server.health.isAvailable();
    return (server) => server.health.isAvailable() && isAvailable(server);
  }
}
