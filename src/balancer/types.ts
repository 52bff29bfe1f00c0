// The contract every load-balancing strategy implements, so that a service can swap weighted round
// robin for another strategy (such as power of two choices) without changing its callers.

/** A server as balancers see it. Callers may pass richer objects, and `next` returns the same objects. */
export interface WeightedServer {
  url: string;
  /** Relative share of requests. 0 takes the server out of rotation. */
  weight: number;
}

/** Returns whether a server may receive the next request (healthy, not draining, not tried already). */
export type AvailabilityCheck<S> = (server: S) => boolean;

export interface Balancer<S extends WeightedServer = WeightedServer> {
  /**
   * Picks the server for the next request among those `isAvailable` accepts (all when omitted).
   * Returns undefined when no server has a positive weight and passes the check.
   */
  next(isAvailable?: AvailabilityCheck<S>): S | undefined;

  /**
   * Returns the server `next` would pick now without changing any state, so that a report such as
   * `berth explain` leaves the rotation as it was.
   */
  peek(isAvailable?: AvailabilityCheck<S>): S | undefined;
}
