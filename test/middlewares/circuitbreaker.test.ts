// The circuitBreaker middleware with a fake clock: the expression parser, the rolling metrics, and
// the states standby, tripped and recovering as oxy's cbreaker moves between them.
import { describe, expect, it } from 'vitest';

import { BreakerMetrics, RollingCounter } from '../../src/middlewares/breaker-metrics.js';
import { ExpressionError, parseBreakerExpression, type MetricSource } from '../../src/middlewares/breaker-expression.js';
import { CircuitBreaker, circuitBreakerSettings, createCircuitBreaker, RecoveryRamp } from '../../src/middlewares/circuitbreaker.js';
import { decodeLabels } from '../../src/labels/decode.js';
import { middlewareSchema } from '../../src/labels/middleware-schemas.js';
import { createMiddleware } from '../../src/middlewares/registry.js';
import { sendErrorResponse } from '../../src/proxy/error-response.js';
import { contextFor, runMiddleware } from './header-context.js';

/** Metric values fixed by the test, recording the arguments each metric got. */
function fixedMetrics(values: { network?: number; codes?: number; latency?: number }) {
  const calls: string[] = [];
  const source: MetricSource = {
    networkErrorRatio: () => {
      calls.push('NetworkErrorRatio()');
      return values.network ?? 0;
    },
    responseCodeRatio: (...args) => {
      calls.push(`ResponseCodeRatio(${args.join(', ')})`);
      return values.codes ?? 0;
    },
    latencyAtQuantileMs: (quantile) => {
      calls.push(`LatencyAtQuantileMS(${quantile})`);
      return values.latency ?? 0;
    },
  };
  return { source, calls };
}

function parseError(expression: string): ExpressionError {
  try {
    parseBreakerExpression(expression);
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(expression)} to be invalid`);
}

describe('circuitBreaker expression', () => {
  it('Traefik examples parse', () => {
    const { source, calls } = fixedMetrics({ network: 0.31, codes: 0.2, latency: 100 });
    expect(parseBreakerExpression('NetworkErrorRatio() > 0.30')(source)).toBe(true);
    expect(parseBreakerExpression('ResponseCodeRatio(500, 600, 0, 600) > 0.25')(source)).toBe(false);
    expect(parseBreakerExpression('LatencyAtQuantileMS(50.0) > 100')(source)).toBe(false);
    expect(calls).toEqual(['NetworkErrorRatio()', 'ResponseCodeRatio(500, 600, 0, 600)', 'LatencyAtQuantileMS(50)']);
  });

  it('every comparison operator', () => {
    const { source } = fixedMetrics({ latency: 100 });
    const cases: Array<[string, boolean]> = [
      ['>', false],
      ['>=', true],
      ['<', false],
      ['<=', true],
      ['==', true],
      ['!=', false],
    ];
    for (const [operator, expected] of cases) {
      expect(parseBreakerExpression(`LatencyAtQuantileMS(50.0) ${operator} 100`)(source), operator).toBe(expected);
    }
  });

  it('&& binds tighter than ||', () => {
    const { source } = fixedMetrics({ network: 0.5, codes: 0, latency: 0 });
    // Read as a || (b && c): true because of the network ratio alone.
    expect(parseBreakerExpression('NetworkErrorRatio() > 0.3 || ResponseCodeRatio(500, 600, 0, 600) > 0.25 && LatencyAtQuantileMS(50.0) > 10')(source)).toBe(true);
    expect(parseBreakerExpression('(NetworkErrorRatio() > 0.3 || ResponseCodeRatio(500, 600, 0, 600) > 0.25) && LatencyAtQuantileMS(50.0) > 10')(source)).toBe(false);
  });

  it('&& stops at the first false term', () => {
    const { source, calls } = fixedMetrics({ network: 0 });
    expect(parseBreakerExpression('NetworkErrorRatio() > 0.5 && LatencyAtQuantileMS(99.0) > 10')(source)).toBe(false);
    expect(calls).toEqual(['NetworkErrorRatio()']);
  });

  it('invalid expressions name the position', () => {
    const cases: Array<[string, number, string]> = [
      ['', 1, 'the expression is empty'],
      ['NetworkErrorRatio() >', 22, 'expected a number after >'],
      ['NetworkErrorRatio() > 0.3 &&', 29, 'expected a metric'],
      ['NetworkErrorRatio > 0.3', 19, 'expected "(" after NetworkErrorRatio'],
      ['ErrorRatio() > 0.3', 1, 'unknown metric ErrorRatio'],
      ['NetworkErrorRatio() = 0.3', 21, 'unexpected character "="'],
      ['NetworkErrorRatio() 0.3', 21, 'expected a comparison'],
      ['ResponseCodeRatio(500, 600) > 0.25', 1, 'ResponseCodeRatio takes 4 status codes'],
      ['ResponseCodeRatio(500.5, 600, 0, 600) > 0.25', 1, 'whole status codes'],
      ['LatencyAtQuantileMS(150.0) > 10', 1, 'from 0 to 100'],
      ['NetworkErrorRatio(1) > 0.3', 1, 'takes no arguments'],
      ['(NetworkErrorRatio() > 0.3', 27, 'expected ")" to close the group'],
      ['NetworkErrorRatio() > 0.3 NetworkErrorRatio() > 0.3', 27, 'expected && or ||'],
      ['0.3 < NetworkErrorRatio()', 1, 'expected a metric'],
    ];
    for (const [expression, position, reason] of cases) {
      const error = parseError(expression);
      expect(error.position, expression).toBe(position);
      expect(error.message, expression).toContain(reason);
      expect(error.message, expression).toContain(JSON.stringify(expression));
      expect(error.message, expression).toContain('write a condition such as NetworkErrorRatio() > 0.30');
    }
  });
});

describe('circuitBreaker metrics', () => {
  it('network error ratio', () => {
    const clock = { now: 0 };
    const metrics = new BreakerMetrics(() => clock.now);
    expect(metrics.networkErrorRatio()).toBe(0);
    metrics.record(200, false, 1);
    metrics.record(502, true, 1);
    metrics.record(502, false, 1);
    metrics.record(504, true, 1);
    expect(metrics.networkErrorRatio()).toBe(0.5);
  });

  it('response code ratio', () => {
    const metrics = new BreakerMetrics(() => 0);
    for (const status of [200, 200, 404, 500, 503]) metrics.record(status, false, 1);
    expect(metrics.responseCodeRatio(500, 600, 0, 600)).toBeCloseTo(2 / 5);
    expect(metrics.responseCodeRatio(400, 500, 200, 300)).toBe(0.5);
    // `to` is exclusive, and an empty divisor range returns 0.
    expect(metrics.responseCodeRatio(500, 503, 0, 600)).toBeCloseTo(1 / 5);
    expect(metrics.responseCodeRatio(500, 600, 300, 400)).toBe(0);
  });

  it('latency at quantile within 1%', () => {
    const metrics = new BreakerMetrics(() => 0);
    expect(metrics.latencyAtQuantileMs(50)).toBe(0);
    for (let latency = 1; latency <= 100; latency++) metrics.record(200, false, latency * 10);
    const median = metrics.latencyAtQuantileMs(50);
    expect(median).toBeGreaterThanOrEqual(500);
    expect(median).toBeLessThanOrEqual(505);
    const p99 = metrics.latencyAtQuantileMs(99);
    expect(p99).toBeGreaterThanOrEqual(990);
    expect(p99).toBeLessThanOrEqual(1_000);
    expect(metrics.latencyAtQuantileMs(100)).toBeLessThanOrEqual(1_010);
    expect(metrics.latencyAtQuantileMs(100)).toBeGreaterThanOrEqual(1_000);
  });

  it('counts leave the 10 s window', () => {
    const clock = { now: 0 };
    const counter = new RollingCounter(() => clock.now);
    counter.increment();
    clock.now = 5_000;
    counter.increment();
    counter.increment();
    expect(counter.count()).toBe(3);
    clock.now = 10_500;
    expect(counter.count()).toBe(2);
    clock.now = 15_000;
    expect(counter.count()).toBe(0);
    clock.now = 100_000;
    counter.increment();
    expect(counter.count()).toBe(1);
  });

  it('latencies leave the 60 s window', () => {
    const clock = { now: 0 };
    const metrics = new BreakerMetrics(() => clock.now);
    metrics.record(200, false, 900);
    clock.now = 30_000;
    metrics.record(200, false, 10);
    expect(metrics.latencyAtQuantileMs(100)).toBeGreaterThanOrEqual(900);
    clock.now = 61_000;
    expect(metrics.latencyAtQuantileMs(100)).toBeLessThanOrEqual(11);
  });

  it('reset forgets everything', () => {
    const metrics = new BreakerMetrics(() => 0);
    metrics.record(502, true, 50);
    metrics.reset();
    expect(metrics.networkErrorRatio()).toBe(0);
    expect(metrics.responseCodeRatio(500, 600, 0, 600)).toBe(0);
    expect(metrics.latencyAtQuantileMs(50)).toBe(0);
  });
});

describe('circuitBreaker settings', () => {
  it('oxy defaults', () => {
    const settings = circuitBreakerSettings({ expression: 'NetworkErrorRatio() > 0.5' });
    expect(settings.checkPeriodMs).toBe(100);
    expect(settings.fallbackDurationMs).toBe(10_000);
    expect(settings.recoveryDurationMs).toBe(10_000);
    expect(settings.responseCode).toBe(503);
  });

  it('durations and responseCode', () => {
    const settings = circuitBreakerSettings({ Expression: 'NetworkErrorRatio() > 0.5', checkperiod: '1s', fallbackDuration: 2, recoveryDuration: '1m30s', responseCode: '429' });
    expect(settings.checkPeriodMs).toBe(1_000);
    expect(settings.fallbackDurationMs).toBe(2_000);
    expect(settings.recoveryDurationMs).toBe(90_000);
    expect(settings.responseCode).toBe(429);
  });

  it('zero durations fall back', () => {
    const settings = circuitBreakerSettings({ expression: 'NetworkErrorRatio() > 0.5', checkPeriod: '0s', fallbackDuration: 0 });
    expect(settings.checkPeriodMs).toBe(100);
    expect(settings.fallbackDurationMs).toBe(10_000);
  });

  it('bad options are rejected', () => {
    expect(() => circuitBreakerSettings({})).toThrow(/circuitbreaker expression is missing/);
    expect(() => circuitBreakerSettings({ expression: 'NetworkErrorRatio() >' })).toThrow(/circuitbreaker expression "NetworkErrorRatio\(\) >" is invalid at character 22/);
    expect(() => circuitBreakerSettings({ expression: 'NetworkErrorRatio() > 0.5', checkPeriod: 'soon' })).toThrow(/circuitbreaker checkPeriod "soon" is invalid/);
    expect(() => circuitBreakerSettings({ expression: 'NetworkErrorRatio() > 0.5', responseCode: 99 })).toThrow(/responseCode 99 is invalid/);
  });

  it('registry builds circuitbreaker', () => {
    expect(typeof createMiddleware('circuitBreaker', { expression: 'NetworkErrorRatio() > 0.5' })).toBe('function');
  });

  it('labels decode and build', async () => {
    const labels = {
      'circuitbreaker.expression': 'ResponseCodeRatio(500, 600, 0, 600) > 0.25',
      'circuitbreaker.checkperiod': '50ms',
      'circuitbreaker.fallbackduration': '1m',
      'circuitbreaker.recoveryduration': '30s',
      'circuitbreaker.responsecode': '418',
    };
    const result = decodeLabels(middlewareSchema, labels, 'traefik.http.middlewares.m.');
    expect(result.issues).toEqual([]);
    const [type, options] = Object.entries(result.value as Record<string, Record<string, unknown>>)[0] ?? [];
    expect(type).toBe('circuitbreaker');

    const settings = circuitBreakerSettings(options ?? {});
    expect(settings.checkPeriodMs).toBe(50);
    expect(settings.fallbackDurationMs).toBe(60_000);
    expect(settings.recoveryDurationMs).toBe(30_000);
    expect(settings.responseCode).toBe(418);

    const middleware = createMiddleware(type ?? '', options ?? {});
    expect((await runMiddleware(middleware, contextFor(), [], 500)).reachedServer).toBe(true);
    const blocked = await runMiddleware(middleware, contextFor());
    expect(blocked.reachedServer).toBe(false);
    expect(blocked.status).toBe(418);
  });
});

describe('circuitBreaker ratio controller', () => {
  it('ramp share grows to half', () => {
    const ramp = new RecoveryRamp(0, 1_000);
    expect(ramp.allow(0)).toBe(false);

    // One request a millisecond: the share let through since the start follows t / 2000, so about
    // 1 in 4 pass in the first half, 3 in 4 in the second and half overall.
    let firstHalf = 0;
    let secondHalf = 0;
    for (let at = 1; at <= 1_000; at++) {
      if (!ramp.allow(at)) continue;
      if (at <= 500) firstHalf++;
      else secondHalf++;
    }
    expect(firstHalf).toBeGreaterThan(110);
    expect(firstHalf).toBeLessThan(140);
    expect(firstHalf + secondHalf).toBeGreaterThan(480);
    expect(firstHalf + secondHalf).toBeLessThan(510);

    const late = new RecoveryRamp(0, 1_000);
    let lateAllowed = 0;
    for (let i = 0; i < 100; i++) if (late.allow(999)) lateAllowed++;
    expect(lateAllowed).toBeGreaterThanOrEqual(49);
    expect(lateAllowed).toBeLessThanOrEqual(50);
  });
});

/** Builds a breaker middleware on a fake clock, and `request`, which sends one request through it. */
function breakerWith(options: Record<string, unknown>) {
  const clock = { now: 0 };
  const middleware = createCircuitBreaker(options, { now: () => clock.now });
  let served = 0;

  /** Sends one request; the service takes `latencyMs` and responds `status`, as Berth does for a network error when `gateway` is set. */
  async function request(status = 200, { latencyMs = 1, gateway = false, router = 'app' } = {}): Promise<{ status: number; reachedServer: boolean }> {
    const context = contextFor();
    context.router = router;
    let reachedServer = false;
    await middleware(context, async () => {
      reachedServer = true;
      served++;
      clock.now += latencyMs;
      if (gateway) {
        sendErrorResponse(context.response, status, false);
        return;
      }
      context.response.writeHead(status);
      context.response.end();
    });
    return { status: context.response.statusCode, reachedServer };
  }

  return { clock, request, served: () => served };
}

describe('circuitBreaker states', () => {
  const options = { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.5', checkPeriod: '100ms', fallbackDuration: '1s', recoveryDuration: '1s' };

  it('trips on 5xx ratio', async () => {
    const breaker = breakerWith(options);
    // The first response is checked at once: 1 of 1 is a 500.
    expect((await breaker.request(500)).reachedServer).toBe(true);
    const blocked = await breaker.request(200);
    expect(blocked.reachedServer).toBe(false);
    expect(blocked.status).toBe(503);
  });

  it('checks once per checkPeriod', async () => {
    const breaker = breakerWith(options);
    await breaker.request(200);
    // Two 500s of three within one check period do not trip the breaker until the next check.
    await breaker.request(500);
    await breaker.request(500);
    expect((await breaker.request(200)).reachedServer).toBe(true);
    breaker.clock.now += 100;
    await breaker.request(500);
    expect((await breaker.request(200)).reachedServer).toBe(false);
  });

  it('fallback uses responseCode', async () => {
    const breaker = breakerWith({ ...options, responseCode: 429 });
    await breaker.request(500);
    const blocked = await breaker.request();
    expect(blocked.status).toBe(429);
    expect(blocked.reachedServer).toBe(false);
  });

  it('trips on network errors only from Berth', async () => {
    const breaker = breakerWith({ ...options, expression: 'NetworkErrorRatio() > 0.3' });
    // A 502 that the server itself sent is no network error.
    await breaker.request(502);
    breaker.clock.now += 200;
    await breaker.request(502);
    expect((await breaker.request()).reachedServer).toBe(true);

    breaker.clock.now += 200;
    await breaker.request(502, { gateway: true });
    breaker.clock.now += 200;
    await breaker.request(504, { gateway: true });
    expect((await breaker.request()).reachedServer).toBe(false);
  });

  it('trips on latency', async () => {
    const breaker = breakerWith({ ...options, expression: 'LatencyAtQuantileMS(50.0) > 100' });
    await breaker.request(200, { latencyMs: 50 });
    breaker.clock.now += 200;
    expect((await breaker.request(200, { latencyMs: 300 })).reachedServer).toBe(true);
    breaker.clock.now += 200;
    await breaker.request(200, { latencyMs: 300 });
    expect((await breaker.request()).reachedServer).toBe(false);
  });

  it('recovers then returns to standby', async () => {
    const breaker = breakerWith(options);
    await breaker.request(500);
    const servedWhenTripped = breaker.served();

    breaker.clock.now += 999;
    expect((await breaker.request()).reachedServer).toBe(false);
    expect(breaker.served()).toBe(servedWhenTripped);

    // Recovering: the first request is held back, later ones get through at a growing share.
    breaker.clock.now += 1;
    expect((await breaker.request()).reachedServer).toBe(false);
    let reached = 0;
    for (let step = 0; step < 100; step++) {
      breaker.clock.now += 10;
      if ((await breaker.request()).reachedServer) reached++;
    }
    expect(reached).toBeGreaterThan(10);
    expect(reached).toBeLessThan(60);

    // Past the recovery duration every request reaches the server.
    breaker.clock.now += 10;
    for (let i = 0; i < 5; i++) expect((await breaker.request()).reachedServer).toBe(true);
  });

  it('trips again while recovering', async () => {
    const breaker = breakerWith(options);
    await breaker.request(500);
    breaker.clock.now += 1_000;
    await breaker.request();

    let reached = false;
    while (!reached) {
      breaker.clock.now += 200;
      reached = (await breaker.request(500)).reachedServer;
    }
    const blocked = await breaker.request();
    expect(blocked.reachedServer).toBe(false);
    breaker.clock.now += 999;
    expect((await breaker.request()).reachedServer).toBe(false);
  });

  it('each router has its own breaker', async () => {
    const breaker = breakerWith(options);
    await breaker.request(500, { router: 'a' });
    expect((await breaker.request(200, { router: 'a' })).reachedServer).toBe(false);
    expect((await breaker.request(200, { router: 'b' })).reachedServer).toBe(true);
  });

  it('state machine without middleware', () => {
    const clock = { now: 0 };
    const breaker = new CircuitBreaker(circuitBreakerSettings(options), () => clock.now);
    expect(breaker.state).toBe('standby');
    breaker.recordResponse(500, false, 1);
    expect(breaker.state).toBe('tripped');
    clock.now = 1_000;
    breaker.allowRequest();
    expect(breaker.state).toBe('recovering');
    clock.now = 2_001;
    expect(breaker.allowRequest()).toBe(true);
    expect(breaker.state).toBe('standby');
  });
});
