// Smooth weighted round robin, the algorithm of nginx's upstream module. Each pick adds every server's
// weight to its running score, takes the highest score and subtracts the total weight from it. Picks
// are spread evenly through each cycle, so weights 5:1:1 give a a b a c a a rather than a a a a a b c.
import { redactServerUrl } from '../observability/redact.js';
import type { AvailabilityCheck, Balancer, WeightedServer } from './types.js';

export class WeightedRoundRobin<S extends WeightedServer = WeightedServer> implements Balancer<S> {
  readonly #servers: readonly S[];
  /** Running score of each server, by index in `#servers`. */
  readonly #current: number[];

  /** Throws a RangeError when a weight is negative or not a finite number. */
  constructor(servers: readonly S[]) {
    for (const server of servers) {
      if (!Number.isFinite(server.weight) || server.weight < 0) {
        throw new RangeError(`invalid weight ${String(server.weight)} for server ${redactServerUrl(server.url)}: expected a number >= 0`);
      }
    }
    this.#servers = [...servers];
    this.#current = servers.map(() => 0);
  }

  /** The servers in the order they were given, including those with weight 0. */
  get servers(): readonly S[] {
    return this.#servers;
  }

  next(isAvailable?: AvailabilityCheck<S>): S | undefined {
    let total = 0;
    let best = -1;

    for (let i = 0; i < this.#servers.length; i++) {
      const server = this.#servers[i];
      if (server === undefined || server.weight === 0) {
        continue;
      }
      // An unavailable server is skipped without changing its score, as nginx skips a server marked down.
      if (isAvailable !== undefined && !isAvailable(server)) {
        continue;
      }

      const score = (this.#current[i] ?? 0) + server.weight;
      this.#current[i] = score;
      total += server.weight;
      // A strict comparison lets the earlier server win a tie, as nginx does, which makes the order stable.
      if (best === -1 || score > (this.#current[best] ?? 0)) {
        best = i;
      }
    }

    if (best === -1) {
      return undefined;
    }
    this.#current[best] = (this.#current[best] ?? 0) - total;
    return this.#servers[best];
  }

  /**
   * Returns the server that `next` would pick now, without changing any score, so that a report
   * (such as `berth explain`) can name it and leave the rotation as it was.
   */
  peek(isAvailable?: AvailabilityCheck<S>): S | undefined {
    let best = -1;
    let bestScore = 0;

    for (let i = 0; i < this.#servers.length; i++) {
      const server = this.#servers[i];
      if (server === undefined || server.weight === 0) {
        continue;
      }
      if (isAvailable !== undefined && !isAvailable(server)) {
        continue;
      }
      // The same scores and the same strict comparison as `next`, computed without storing them.
      const score = (this.#current[i] ?? 0) + server.weight;
      if (best === -1 || score > bestScore) {
        best = i;
        bestScore = score;
      }
    }

    return best === -1 ? undefined : this.#servers[best];
  }
}
