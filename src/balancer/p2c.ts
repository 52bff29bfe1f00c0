// Power of two choices: each pick compares two candidate servers and takes the one with fewer
// requests in flight per unit of weight, which steers traffic away from a slow server without
// scanning every server's load.
//
// The first candidate comes from smooth weighted round robin and the second is drawn at random by
// weight from the other available servers. Ties go to the round-robin candidate, so under equal
// load the picks follow the weights exactly and evenly, and the random draw only matters once one
// server is busier than another.
import type { AvailabilityCheck, Balancer, WeightedServer } from './types.js';
import { WeightedRoundRobin } from './wrr.js';

export interface PowerOfTwoChoicesOptions<S> {
  /** Requests in flight on a server right now. */
  load: (server: S) => number;
  /** Source of random numbers from 0 up to but not including 1, `Math.random` by default. */
  random?: () => number;
}

export class PowerOfTwoChoices<S extends WeightedServer = WeightedServer> implements Balancer<S> {
  readonly #rotation: WeightedRoundRobin<S>;
  readonly #load: (server: S) => number;
  readonly #random: () => number;

  /** Throws a RangeError when a weight is negative or not a finite number. */
  constructor(servers: readonly S[], options: PowerOfTwoChoicesOptions<S>) {
    this.#rotation = new WeightedRoundRobin(servers);
    this.#load = options.load;
    this.#random = options.random ?? Math.random;
  }

  /** The servers in the order they were given, including those with weight 0. */
  get servers(): readonly S[] {
    return this.#rotation.servers;
  }

  next(isAvailable?: AvailabilityCheck<S>): S | undefined {
    const first = this.#rotation.next(isAvailable);
    if (first === undefined) {
      return undefined;
    }
    const second = this.#drawOther(first, isAvailable);
    return second !== undefined && this.#lighter(second, first) ? second : first;
  }

  /**
   * Returns the round-robin candidate, which is the pick under equal load. The second candidate is
   * random, so the server `next` returns can differ when loads differ.
   */
  peek(isAvailable?: AvailabilityCheck<S>): S | undefined {
    return this.#rotation.peek(isAvailable);
  }

  /** Returns true when `a` carries less load per unit of weight than `b`. */
  #lighter(a: S, b: S): boolean {
    // Cross-multiplied to compare load/weight without dividing; both weights are positive here.
    return this.#load(a) * b.weight < this.#load(b) * a.weight;
  }

  /** Draws a server other than `excluded` at random, each with a chance proportional to its weight. */
  #drawOther(excluded: S, isAvailable?: AvailabilityCheck<S>): S | undefined {
    const eligible: S[] = [];
    let total = 0;
    for (const server of this.#rotation.servers) {
      if (server === excluded || server.weight === 0) continue;
      if (isAvailable !== undefined && !isAvailable(server)) continue;
      eligible.push(server);
      total += server.weight;
    }
    if (eligible.length === 0) {
      return undefined;
    }

    let remaining = this.#random() * total;
    for (const server of eligible) {
      remaining -= server.weight;
      if (remaining < 0) return server;
    }
    // Rounding can leave a tiny remainder after the last server.
    return eligible[eligible.length - 1];
  }
}
