import { describe, expect, it } from 'vitest';

import { WeightedRoundRobin } from '../../src/balancer/wrr.js';
import { describeBalancerContract } from './contract.js';

describeBalancerContract('weighted round robin', (servers) => new WeightedRoundRobin(servers), { smooth: true });

describe('WeightedRoundRobin', () => {
  it('orders 5:1:1 as nginx does', () => {
    const balancer = new WeightedRoundRobin([
      { url: 'a', weight: 5 },
      { url: 'b', weight: 1 },
      { url: 'c', weight: 1 },
    ]);

    const sequence = Array.from({ length: 7 }, () => balancer.next()?.url).join(' ');

    expect(sequence).toBe('a a b a c a a');
  });

  it('returns the objects it was given', () => {
    const server = { url: 'http://127.0.0.1:8001', weight: 1, containerId: 'abc' };
    const balancer = new WeightedRoundRobin([server]);

    expect(balancer.next()).toBe(server);
  });

  it('rotates after a server returns', () => {
    const balancer = new WeightedRoundRobin([
      { url: 'a', weight: 1 },
      { url: 'b', weight: 1 },
    ]);
    let bUp = false;

    const whileDown = Array.from({ length: 3 }, () => balancer.next((server) => server.url === 'a' || bUp)?.url);
    bUp = true;
    const afterReturn = Array.from({ length: 4 }, () => balancer.next()?.url);

    expect(whileDown).toEqual(['a', 'a', 'a']);
    expect(afterReturn.filter((url) => url === 'b')).toHaveLength(2);
  });

  it.each([
    { desc: 'negative weight', weight: -1 },
    { desc: 'NaN weight', weight: Number.NaN },
    { desc: 'infinite weight', weight: Number.POSITIVE_INFINITY },
  ])('rejects $desc', ({ weight }) => {
    expect(() => new WeightedRoundRobin([{ url: 'http://127.0.0.1:8001', weight }])).toThrow(RangeError);
  });
});
