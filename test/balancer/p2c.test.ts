import { describe, expect, it } from 'vitest';

import { PowerOfTwoChoices } from '../../src/balancer/p2c.js';
import type { WeightedServer } from '../../src/balancer/types.js';
import { describeBalancerContract } from './contract.js';

// Under equal load the round-robin candidate always wins, so the picks are as smooth as WRR's.
describeBalancerContract('power of two choices', (servers) => new PowerOfTwoChoices(servers, { load: () => 0 }), { smooth: true });

/** Returns a source of "random" numbers that cycles through `values`. */
function sequence(...values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length] ?? 0;
}

describe('PowerOfTwoChoices', () => {
  it('avoids a busy server', () => {
    const servers: WeightedServer[] = [
      { url: 'a', weight: 1 },
      { url: 'b', weight: 1 },
    ];
    const load = new Map([
      ['a', 10],
      ['b', 0],
    ]);
    const balancer = new PowerOfTwoChoices(servers, { load: (server) => load.get(server.url) ?? 0 });

    const picks = Array.from({ length: 20 }, () => balancer.next()?.url);

    expect(picks.every((url) => url === 'b')).toBe(true);
  });

  it('compares load per unit of weight', () => {
    // a carries 4 requests on weight 4 (1 per unit), b 2 on weight 1 (2 per unit): a is lighter.
    const servers: WeightedServer[] = [
      { url: 'a', weight: 4 },
      { url: 'b', weight: 1 },
    ];
    const load = new Map([
      ['a', 4],
      ['b', 2],
    ]);
    const balancer = new PowerOfTwoChoices(servers, { load: (server) => load.get(server.url) ?? 0 });

    const picks = Array.from({ length: 10 }, () => balancer.next()?.url);

    expect(picks.every((url) => url === 'a')).toBe(true);
  });

  it('draws the second candidate by weight', () => {
    const servers: WeightedServer[] = [
      { url: 'a', weight: 1 },
      { url: 'b', weight: 1 },
      { url: 'c', weight: 2 },
    ];
    // a is the busiest, so every pick whose first candidate is a goes to the drawn one.
    const load = new Map([
      ['a', 5],
      ['b', 0],
      ['c', 0],
    ]);
    // With a excluded, b takes [0, 1/3) of the draw and c takes [1/3, 1).
    const balancer = new PowerOfTwoChoices(servers, { load: (server) => load.get(server.url) ?? 0, random: sequence(0.2, 0.5) });

    const picks = Array.from({ length: 8 }, () => balancer.next()?.url);

    expect(picks).not.toContain('a');
    expect(picks).toContain('b');
    expect(picks).toContain('c');
  });

  it('returns the only available server', () => {
    const servers: WeightedServer[] = [
      { url: 'a', weight: 1 },
      { url: 'b', weight: 1 },
    ];
    const balancer = new PowerOfTwoChoices(servers, { load: (server) => (server.url === 'a' ? 100 : 0) });

    const picks = Array.from({ length: 5 }, () => balancer.next((server) => server.url === 'a')?.url);

    expect(picks).toEqual(['a', 'a', 'a', 'a', 'a']);
  });

  it('peeks without moving the rotation', () => {
    const servers: WeightedServer[] = [
      { url: 'a', weight: 1 },
      { url: 'b', weight: 1 },
    ];
    const balancer = new PowerOfTwoChoices(servers, { load: () => 0 });

    const peeked = balancer.peek()?.url;
    const picked = balancer.next()?.url;

    expect(peeked).toBe(picked);
    expect(balancer.peek()?.url).not.toBe(picked);
  });

  it('rejects a negative weight', () => {
    expect(() => new PowerOfTwoChoices([{ url: 'a', weight: -1 }], { load: () => 0 })).toThrow(RangeError);
  });
});
