// explain names the server the balancer would pick; peek must agree with next at every step.
import { describe, expect, it } from 'vitest';
import { WeightedRoundRobin } from '../../src/balancer/wrr.js';

describe('WeightedRoundRobin.peek', () => {
  it('agrees with next over weighted cycles', () => {
    const balancer = new WeightedRoundRobin([
      { url: 'a', weight: 5 },
      { url: 'b', weight: 1 },
      { url: 'c', weight: 1 },
      { url: 'z', weight: 0 },
    ]);
    for (let i = 0; i < 21; i++) {
      const peeked = balancer.peek()?.url;
      expect(balancer.peek()?.url).toBe(peeked);
      expect(balancer.next()?.url).toBe(peeked);
    }
  });

  it('skips unavailable servers like next', () => {
    const balancer = new WeightedRoundRobin([
      { url: 'a', weight: 1 },
      { url: 'b', weight: 1 },
    ]);
    const notA = (server: { url: string }) => server.url !== 'a';
    expect(balancer.peek(notA)?.url).toBe('b');
    expect(balancer.next(notA)?.url).toBe('b');
  });

  it('returns undefined without servers', () => {
    expect(new WeightedRoundRobin([]).peek()).toBeUndefined();
  });
});
