// The rateLimit middleware with a fake clock: Traefik's settings, the token bucket per source, the
// short wait before a token, 429 with Retry-After, and the bound on tracked sources.
import { describe, expect, it } from 'vitest';

import { createRateLimit, goDuration, rateLimitSettings, TokenBuckets } from '../../src/middlewares/ratelimit.js';
import type { RequestContext } from '../../src/middlewares/types.js';
import { contextFor, runMiddleware } from './header-context.js';

function fromPeer(peer: string): RequestContext {
  const context = contextFor();
  context.facts.clientIp = peer;
  return context;
}

/** Builds a rate limiter on a fake clock, recording each wait instead of sleeping. */
function limiter(options: Record<string, unknown>) {
  const clock = { now: 0 };
  const waits: number[] = [];
  const middleware = createRateLimit(options, () => {}, {
    now: () => clock.now,
    sleep: async (ms) => {
      waits.push(ms);
      clock.now += ms;
    },
  });
  return { middleware, clock, waits };
}

describe('rateLimit settings', () => {
  it('Traefik defaults', () => {
    const settings = rateLimitSettings({ average: 10 });
    expect(settings.ratePerSecond).toBe(10);
    expect(settings.burst).toBe(1);
    expect(settings.maxDelayMs).toBe(50);
  });

  it('period divides average', () => {
    const settings = rateLimitSettings({ average: 6, period: '1m', burst: 3 });
    expect(settings.ratePerSecond).toBeCloseTo(0.1);
    expect(settings.burst).toBe(3);
    expect(settings.maxDelayMs).toBe(500);
  });

  it('bare period is seconds', () => {
    expect(rateLimitSettings({ average: 4, period: '2' }).ratePerSecond).toBe(2);
    expect(rateLimitSettings({ average: 4, period: 2 }).ratePerSecond).toBe(2);
  });

  it('maxDelay uses the whole-number rate', () => {
    expect(rateLimitSettings({ average: 3, period: '2s' }).maxDelayMs).toBe(500);
  });

  it('zero period and burst fall back', () => {
    const settings = rateLimitSettings({ average: 5, period: '0s', burst: 0 });
    expect(settings.ratePerSecond).toBe(5);
    expect(settings.burst).toBe(1);
  });

  it('zero average turns limiting off', async () => {
    expect(rateLimitSettings({}).ratePerSecond).toBe(Number.POSITIVE_INFINITY);
    const { middleware } = limiter({ average: 0 });
    for (let i = 0; i < 5; i += 1) expect((await runMiddleware(middleware, fromPeer('10.0.0.1'))).reachedServer).toBe(true);
  });
});

describe('rateLimit requests', () => {
  it('burst passes then 429', async () => {
    const { middleware } = limiter({ average: 1, burst: 3 });
    for (let i = 0; i < 3; i += 1) {
      expect((await runMiddleware(middleware, fromPeer('10.0.0.1'))).reachedServer).toBe(true);
    }

    const rejected = await runMiddleware(middleware, fromPeer('10.0.0.1'));
    expect(rejected.reachedServer).toBe(false);
    expect(rejected.status).toBe(429);
    expect(rejected.header('retry-after')).toBe('1');
    expect(rejected.header('x-retry-in')).toBe('1s');
  });

  it('tokens refill at the rate', async () => {
    const { middleware, clock } = limiter({ average: 1, burst: 2 });
    await runMiddleware(middleware, fromPeer('10.0.0.1'));
    await runMiddleware(middleware, fromPeer('10.0.0.1'));
    clock.now += 400;
    const early = await runMiddleware(middleware, fromPeer('10.0.0.1'));
    expect(early.status).toBe(429);
    expect(early.header('retry-after')).toBe('1');
    expect(early.header('x-retry-in')).toBe('600ms');

    clock.now += 600;
    expect((await runMiddleware(middleware, fromPeer('10.0.0.1'))).reachedServer).toBe(true);
  });

  it('short wait delays instead of 429', async () => {
    const { middleware, clock, waits } = limiter({ average: 10 });
    expect((await runMiddleware(middleware, fromPeer('10.0.0.1'))).reachedServer).toBe(true);
    clock.now += 60;
    expect((await runMiddleware(middleware, fromPeer('10.0.0.1'))).reachedServer).toBe(true);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeCloseTo(40);
  });

  it('rejection costs no token', async () => {
    const { middleware, clock } = limiter({ average: 1 });
    await runMiddleware(middleware, fromPeer('10.0.0.1'));
    for (let i = 0; i < 5; i += 1) expect((await runMiddleware(middleware, fromPeer('10.0.0.1'))).status).toBe(429);
    clock.now += 1_000;
    expect((await runMiddleware(middleware, fromPeer('10.0.0.1'))).reachedServer).toBe(true);
  });

  it('sources have separate buckets', async () => {
    const { middleware } = limiter({ average: 1 });
    expect((await runMiddleware(middleware, fromPeer('10.0.0.1'))).reachedServer).toBe(true);
    expect((await runMiddleware(middleware, fromPeer('10.0.0.2'))).reachedServer).toBe(true);
    expect((await runMiddleware(middleware, fromPeer('10.0.0.1'))).status).toBe(429);
  });

  it('Retry-After rounds up to seconds', async () => {
    const { middleware } = limiter({ average: 1, period: '90s' });
    await runMiddleware(middleware, fromPeer('10.0.0.1'));
    const rejected = await runMiddleware(middleware, fromPeer('10.0.0.1'));
    expect(rejected.header('retry-after')).toBe('90');
    expect(rejected.header('x-retry-in')).toBe('1m30s');
  });

  it('requestHeaderName groups by header', async () => {
    const { middleware } = limiter({ average: 1, sourceCriterion: { requestHeaderName: 'X-Api-Key' } });
    const keyed = (key: string) => contextFor({ headers: [['X-Api-Key', key]] });
    expect((await runMiddleware(middleware, keyed('a'))).reachedServer).toBe(true);
    expect((await runMiddleware(middleware, keyed('a'))).status).toBe(429);
    expect((await runMiddleware(middleware, keyed('b'))).reachedServer).toBe(true);
  });
});

describe('TokenBuckets memory', () => {
  it('idle full buckets are evicted', () => {
    let now = 0;
    const buckets = new TokenBuckets(10, 5, () => now);
    for (let i = 0; i < 100; i += 1) buckets.reserve(`10.0.${i}.1`, 0);
    expect(buckets.size).toBe(100);

    // (burst + 1) / rate = 0.6 s after its last request a bucket is full again.
    now = 600;
    buckets.reserve('10.9.9.9', 0);
    expect(buckets.size).toBe(1);
  });

  it('source count stays capped', () => {
    const buckets = new TokenBuckets(1, 1, () => 0, 1_000);
    for (let i = 0; i < 5_000; i += 1) buckets.reserve(`source-${i}`, 0);
    expect(buckets.size).toBe(1_000);
  });

  it('capped eviction drops least recent', () => {
    const buckets = new TokenBuckets(1, 1, () => 0, 2);
    expect(buckets.reserve('a', 0)).toBe(0);
    buckets.reserve('b', 0);
    // 'a' is used again, so 'b' is the least recently used when 'c' arrives.
    expect(buckets.reserve('a', 0)).toBeGreaterThan(0);
    buckets.reserve('c', 0);
    expect(buckets.reserve('a', 0)).toBeGreaterThan(0);
    expect(buckets.reserve('b', 0)).toBe(0);
  });
});

describe('goDuration', () => {
  it.each([
    [0, '0s'],
    [0.5, '500µs'],
    [40, '40ms'],
    [999.98, '999.98ms'],
    [1_000, '1s'],
    [1_500, '1.5s'],
    [90_000, '1m30s'],
    [3_600_000, '1h0m0s'],
  ])('%d ms is %s', (ms, text) => {
    expect(goDuration(ms)).toBe(text);
  });
});

describe('rateLimit bad options', () => {
  it.each([
    [{ average: -1 }, 'ratelimit average -1 is invalid'],
    [{ average: 'lots' }, 'ratelimit average "lots" is invalid'],
    [{ average: 1, burst: 1.5 }, 'ratelimit burst 1.5 is invalid'],
    [{ average: 1, period: 'soon' }, 'ratelimit period "soon" is invalid'],
    [{ average: 1, period: '-1s' }, 'ratelimit period "-1s" is invalid'],
    [{ average: 1, sourceCriterion: { ipStrategy: { depth: 1 }, requestHeaderName: 'X-A' } }, 'ratelimit sourceCriterion sets ipStrategy and requestHeaderName'],
    [{ average: 1, sourceCriterion: { ipStrategy: { ipv6Subnet: 200 } } }, 'ratelimit sourceCriterion ipStrategy ipv6Subnet 200 is invalid'],
  ])('%j rejected', (options, message) => {
    expect(() => rateLimitSettings(options)).toThrow(message);
  });
});
