// The shared cases every balancer strategy must pass. A strategy's test file calls
// `describeBalancerContract` with a factory; strategy-specific cases live in that file.
import { describe, expect, it } from 'vitest';

import type { Balancer, WeightedServer } from '../../src/balancer/types.js';

export interface ContractOptions {
  /**
   * True for strategies that spread picks evenly within every cycle of the total weight, as smooth
   * weighted round robin does. Randomized strategies such as power of two choices set it to false.
   */
  smooth: boolean;
}

export type BalancerFactory = (servers: readonly WeightedServer[]) => Balancer<WeightedServer>;

function servers(...weights: number[]): WeightedServer[] {
  return weights.map((weight, index) => ({ url: `http://127.0.0.1:${8001 + index}`, weight }));
}

function pickCounts(balancer: Balancer<WeightedServer>, picks: number, isAvailable?: (server: WeightedServer) => boolean): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const server = balancer.next(isAvailable);
    expect(server).toBeDefined();
    if (server !== undefined) {
      counts.set(server.url, (counts.get(server.url) ?? 0) + 1);
    }
  }
  return counts;
}

export function describeBalancerContract(name: string, create: BalancerFactory, options: ContractOptions): void {
  describe(`${name} balancer contract`, () => {
    it('picks every server', () => {
      const pool = servers(1, 1, 1, 1);
      const balancer = create(pool);

      const counts = pickCounts(balancer, 40);

      for (const server of pool) {
        expect(counts.get(server.url) ?? 0, server.url).toBeGreaterThan(0);
      }
    });

    it('returns undefined without servers', () => {
      const balancer = create([]);

      expect(balancer.next()).toBeUndefined();
      expect(balancer.next(() => true)).toBeUndefined();
    });

    it('returns undefined when none is available', () => {
      const balancer = create(servers(1, 2));

      expect(balancer.next(() => false)).toBeUndefined();
    });

    it('skips unavailable servers', () => {
      const pool = servers(1, 1, 1);
      const down = pool[1]?.url;
      const balancer = create(pool);

      const counts = pickCounts(balancer, 30, (server) => server.url !== down);

      expect(counts.get(pool[0]?.url ?? '')).toBeGreaterThan(0);
      expect(counts.get(pool[2]?.url ?? '')).toBeGreaterThan(0);
      expect(counts.has(down ?? '')).toBe(false);
    });

    it('never picks a server with weight 0', () => {
      const pool = servers(0, 1);
      const balancer = create(pool);

      const counts = pickCounts(balancer, 10);

      expect(counts.has(pool[0]?.url ?? '')).toBe(false);
      expect(counts.get(pool[1]?.url ?? '')).toBe(10);
    });

    it('follows weights 1:2:3 within 5 percent', () => {
      const pool = servers(1, 2, 3);
      const balancer = create(pool);

      const counts = pickCounts(balancer, 600);

      for (const server of pool) {
        const ideal = (600 * server.weight) / 6;
        const count = counts.get(server.url) ?? 0;
        expect(Math.abs(count - ideal), `${server.url} got ${count}, ideal ${ideal}`).toBeLessThanOrEqual(ideal * 0.05);
      }
    });

    it('weights picks among available servers', () => {
      const pool = servers(1, 5, 3);
      const down = pool[1]?.url;
      const balancer = create(pool);

      const counts = pickCounts(balancer, 400, (server) => server.url !== down);

      const first = counts.get(pool[0]?.url ?? '') ?? 0;
      const third = counts.get(pool[2]?.url ?? '') ?? 0;
      expect(Math.abs(first - 100), `first server got ${first}`).toBeLessThanOrEqual(5);
      expect(Math.abs(third - 300), `third server got ${third}`).toBeLessThanOrEqual(15);
    });

    it.skipIf(!options.smooth)('spreads picks evenly within each cycle', () => {
      const pool = servers(1, 2, 3, 4);
      const total = 10;
      const balancer = create(pool);
      const sequence: string[] = [];
      for (let i = 0; i < total * 5; i++) {
        sequence.push(balancer.next()?.url ?? 'none');
      }

      // Every window of `total` consecutive picks contains each server exactly `weight` times.
      for (let start = 0; start + total <= sequence.length; start++) {
        const window = sequence.slice(start, start + total);
        for (const server of pool) {
          const count = window.filter((url) => url === server.url).length;
          expect(count, `window at ${start}, ${server.url}`).toBe(server.weight);
        }
      }
    });

    it.skipIf(!options.smooth)('avoids bursts of one server', () => {
      const pool = servers(2, 2, 2);
      const balancer = create(pool);

      let previous: string | undefined;
      for (let i = 0; i < 60; i++) {
        const url = balancer.next()?.url;
        expect(url, `pick ${i}`).not.toBe(previous);
        previous = url;
      }
    });
  });
}
