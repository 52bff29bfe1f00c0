// The `rateLimit` middleware (Traefik v3's pkg/middlewares/ratelimiter, in-memory mode): one token
// bucket per source that refills at `average / period` tokens a second and contains at most `burst` tokens.
// A request takes a token. When none is left, a request that would have a token within a short
// wait (half the refill interval, at most 500 ms) waits for it. Any other gets 429 with
// Retry-After, in whole seconds rounded up, and X-Retry-In, the exact wait as a Go duration.
import { parseDurationMs } from '../balancer/health-options.js';
import { Fields } from '../observability/fields.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { throttledLog } from './log-throttle.js';
import { integerOption, option } from './options.js';
import { sourceExtractorFrom, type SourceExtractor } from './client-source.js';
import { sendStatus } from './status-response.js';
import { withPreview, type Middleware, type Next, type RequestContext } from './types.js';

/** Traefik's `maxSources`, the capacity of its bucket map. Past it, the least recently seen source is evicted. */
export const MAX_SOURCES = 65_536;

export interface RateLimitSettings {
  /** Tokens added per second; `Infinity` when `average` is 0, which turns limiting off. */
  ratePerSecond: number;
  burst: number;
  /** Maximum wait for a token, in milliseconds. A request that would wait longer is rejected. */
  maxDelayMs: number;
  source: SourceExtractor;
}

export interface RateLimitOptions {
  /** Clock in milliseconds; tests pass a fake one. */
  now?: () => number;
  /** Waits before a request passes; tests pass a fake one. */
  sleep?: (ms: number) => Promise<void>;
  maxSources?: number;
  /** Logger for rejections, at debug and throttled. Nothing is logged without it. */
  logger?: Logger;
}

export function createRateLimit(options: Record<string, unknown>, warn: (message: string) => void = () => {}, runtime: RateLimitOptions = {}): Middleware {
  const settings = rateLimitSettings(options, warn);
  if (settings.ratePerSecond === Number.POSITIVE_INFINITY) return async (_context, next) => next();

  const sleep = runtime.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const buckets = new TokenBuckets(settings.ratePerSecond, settings.burst, runtime.now ?? (() => performance.now()), runtime.maxSources ?? MAX_SOURCES);
  const logRejection = throttledLog(runtime.logger ?? silentLogger(), 'debug', runtime.now ? { now: runtime.now } : {});

  const handle = async (context: RequestContext, next: Next): Promise<void> => {
    const waitMs = buckets.reserve(settings.source(context), settings.maxDelayMs);
    if (waitMs > settings.maxDelayMs) {
      // The source stays out of the log, because with sourceCriterion.requestHeaderName it can be a credential.
      logRejection({ [Fields.router]: context.router, [Fields.status]: 429, [Fields.delayMs]: Math.ceil(waitMs), [Fields.reason]: 'rate limit exceeded' }, 'rejected a request');
      sendStatus(context, 429, ['Retry-After', String(Math.ceil(waitMs / 1_000)), 'X-Retry-In', goDuration(waitMs)]);
      return;
    }
    if (waitMs > 0) await sleep(waitMs);
    await next();
  };

  const reason = `responds 429 when the source has used its burst of ${settings.burst} and the next token is more than ${Math.ceil(settings.maxDelayMs)} ms away`;
  return withPreview(handle, () => ({ effect: 'may-respond', statuses: [429], reason }));
}

/** Reads and checks the options; throws an Error naming the bad option and value. */
export function rateLimitSettings(options: Record<string, unknown>, warn: (message: string) => void = () => {}): RateLimitSettings {
  const average = integerOption(options, 'ratelimit', 'average', { fallback: 0, min: 0, example: 100 });
  // Traefik raises a burst below 1 to 1.
  const burst = Math.max(1, integerOption(options, 'ratelimit', 'burst', { fallback: 1, min: 0, example: 50 }));
  const periodMs = periodOption(options);
  const source = sourceExtractorFrom(option(options, 'sourceCriterion'), 'ratelimit', 'ip', warn);

  if (average === 0) return { ratePerSecond: Number.POSITIVE_INFINITY, burst, maxDelayMs: 0, source };
  const ratePerSecond = (average * 1_000) / periodMs;
  // Traefik's maxDelay: half the interval between tokens, computed from the whole-number rate, and 500 ms below 1 token a second.
  const maxDelayMs = ratePerSecond < 1 ? 500 : 1_000 / (Math.trunc(ratePerSecond) * 2);
  return { ratePerSecond, burst, maxDelayMs, source };
}

function periodOption(options: Record<string, unknown>): number {
  const raw = option(options, 'period');
  if (raw === undefined || raw === null || raw === '') return 1_000;
  const periodMs = typeof raw === 'number' ? raw * 1_000 : parseDurationMs(String(raw));
  if (periodMs === undefined || !Number.isFinite(periodMs) || periodMs < 0) {
    throw new Error(`ratelimit period ${JSON.stringify(raw)} is invalid: write a duration such as 1s, 1m or 500ms`);
  }
  // Traefik reads a period of 0 as 1 second.
  return periodMs === 0 ? 1_000 : periodMs;
}

interface Bucket {
  tokens: number;
  /** Time of the last update, in milliseconds of the clock. */
  updatedAt: number;
}

/**
 * Token buckets keyed by source, with the reserve-then-cancel use of golang.org/x/time/rate that
 * Traefik's rate limiter makes. The Map keeps sources in order of last use. A bucket idle long enough to have refilled
 * is dropped, because a new bucket starts full anyway. Past `maxSources` the least recently used
 * source is dropped, so a flood of new sources cannot grow memory without bound.
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  /** Time after which an idle bucket is full again, in milliseconds. */
  readonly #refillMs: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    readonly now: () => number,
    readonly maxSources: number = MAX_SOURCES,
  ) {
    // A waiting request can leave a bucket less than one token in debt, so one token more is added.
    this.#refillMs = ((burst + 1) / ratePerSecond) * 1_000;
  }

  /**
   * Takes a token for `source` and returns the wait in milliseconds until it is available: 0 when
   * one is there now. A wait above `maxDelayMs` takes nothing, so a rejected request costs the source no token.
   */
  reserve(source: string, maxDelayMs: number): number {
    const now = this.now();
    this.#evictIdle(now);

    const bucket = this.#buckets.get(source) ?? { tokens: this.burst, updatedAt: now };
    this.#buckets.delete(source);
    this.#buckets.set(source, bucket);
    if (this.#buckets.size > this.maxSources) this.#evictOldest();

    const elapsedMs = Math.max(0, now - bucket.updatedAt);
    const available = Math.min(this.burst, bucket.tokens + (elapsedMs * this.ratePerSecond) / 1_000);
    const remaining = available - 1;
    const waitMs = remaining >= 0 ? 0 : (-remaining / this.ratePerSecond) * 1_000;

    bucket.updatedAt = now;
    bucket.tokens = waitMs > maxDelayMs ? available : remaining;
    return waitMs;
  }

  /** Returns the number of tracked sources. */
  get size(): number {
    return this.#buckets.size;
  }

  #evictIdle(now: number): void {
    for (const [source, bucket] of this.#buckets) {
      if (now - bucket.updatedAt < this.#refillMs) return;
      this.#buckets.delete(source);
    }
  }

  #evictOldest(): void {
    const oldest = this.#buckets.keys().next();
    if (oldest.done !== true) this.#buckets.delete(oldest.value);
  }
}

/** Formats milliseconds as Go's time.Duration String does, such as `1.5s`, `250ms` or `1m30s`. */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1) return `${trimNumber(ms * 1_000)}µs`;
  if (ms < 1_000) return `${trimNumber(ms)}ms`;

  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1_000;
  let prefix = '';
  if (hours > 0) prefix = `${hours}h${minutes}m`;
  else if (minutes > 0) prefix = `${minutes}m`;
  return `${prefix}${trimNumber(seconds)}s`;
}

function trimNumber(value: number): string {
  return String(Number(value.toFixed(6)));
}
