// The `retry` middleware: lets the service call try a failed request again, on another server when
// one is available, waiting a little longer before each retry. The middleware only sets the budget
// on the request. The service call decides each retry, and retries only a request that never
// reached a server, or one with an idempotent method, no body and no response byte yet sent back.
import { parseDurationMs } from '../balancer/health-options.js';
import { timerMs } from '../config/timer-limit.js';
import { option } from './options.js';
import type { Middleware, RetryPolicy } from './types.js';

/** Traefik's default `initialInterval`. */
const DEFAULT_INITIAL_INTERVAL_MS = 100;

export function createRetry(options: Record<string, unknown>): Middleware {
  const policy = retryPolicy(options);
  return async (context, next) => {
    context.retry = policy;
    await next();
  };
}

/** Reads and checks the options; throws an Error naming the bad option. */
export function retryPolicy(options: Record<string, unknown>): RetryPolicy {
  const rawAttempts = option(options, 'attempts');
  const attempts = typeof rawAttempts === 'string' ? Number(rawAttempts.trim()) : rawAttempts;
  if (typeof attempts !== 'number' || !Number.isSafeInteger(attempts) || attempts < 1) {
    throw new Error(`retry attempts ${JSON.stringify(rawAttempts ?? null)} is invalid: set attempts to a whole number of at least 1, for example attempts=3`);
  }

  const rawInterval = option(options, 'initialInterval');
  let initialIntervalMs = DEFAULT_INITIAL_INTERVAL_MS;
  if (typeof rawInterval === 'number') {
    // A bare number is seconds, as Traefik reads durations.
    initialIntervalMs = rawInterval * 1_000;
  } else if (rawInterval !== undefined) {
    const parsed = parseDurationMs(String(rawInterval));
    if (parsed === undefined) {
      throw new Error(`retry initialInterval ${JSON.stringify(rawInterval)} is invalid: write a duration such as 100ms or 1s`);
    }
    initialIntervalMs = parsed;
  }
  if (!Number.isFinite(initialIntervalMs) || initialIntervalMs < 0) {
    throw new Error(`retry initialInterval ${JSON.stringify(rawInterval)} is invalid: use a duration of at least 0`);
  }

  return { attempts, initialIntervalMs };
}

/**
 * Returns the wait before retry number `retry` (1 for the first retry), in milliseconds. Waits
 * grow geometrically from `initialIntervalMs` and stay below twice it, so the whole budget is
 * bounded by `2 × initialInterval × (attempts − 1)`. A wait above the timer maximum, which a
 * Node.js timer would fire after 1 ms, is capped at that maximum.
 */
export function retryDelayMs(policy: RetryPolicy, retry: number): number {
  if (policy.attempts < 3) return timerMs(policy.initialIntervalMs);
  const growth = (retry - 1) / (policy.attempts - 1);
  return timerMs(policy.initialIntervalMs * 2 ** growth);
}
