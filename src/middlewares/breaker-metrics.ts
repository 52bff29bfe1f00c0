// The request metrics that a `circuitBreaker` expression reads, kept over rolling windows as
// vulcand/oxy's memmetrics (v2) keeps them for Traefik v3. Request, network-error and per-status
// counts cover 10 buckets of 1 second, and latencies 6 histograms of 10 seconds each.
// Memory is fixed per breaker: a few small arrays, one counter per status code seen (Node.js
// allows only 100–999), and at most HISTOGRAM_BUCKETS latency buckets per histogram.

/** Counter buckets and their width: oxy's 10-second counting window. */
const COUNTER_BUCKETS = 10;
const COUNTER_RESOLUTION_MS = 1_000;

/**
 * Histograms and the time each covers: oxy's 60-second latency window. Oxy moves to its next
 * histogram only when it records a latency, so after a quiet minute it still reports old ones.
 * Berth clears histograms by time instead.
 */
const HISTOGRAMS = 6;
const HISTOGRAM_PERIOD_MS = 10_000;

/**
 * Latencies are kept in microseconds in buckets 1% wide, as oxy's HDR histogram keeps them with 2
 * significant figures, from 1 µs up to 1 hour. A longer latency counts as 1 hour.
 */
const LATENCY_MAX_US = 3_600_000_000;
const BUCKET_GROWTH = 1.01;
const LOG_GROWTH = Math.log(BUCKET_GROWTH);
const HISTOGRAM_BUCKETS = Math.ceil(Math.log(LATENCY_MAX_US) / LOG_GROWTH) + 2;

/** A count over the last `buckets × resolutionMs` milliseconds, in buckets that are cleared as time moves on. */
export class RollingCounter {
  readonly #values: Float64Array;
  /** Number of the time slot (time divided by the resolution) last written, or -Infinity when empty. */
  #lastSlot = Number.NEGATIVE_INFINITY;

  constructor(
    readonly now: () => number,
    readonly buckets: number = COUNTER_BUCKETS,
    readonly resolutionMs: number = COUNTER_RESOLUTION_MS,
  ) {
    this.#values = new Float64Array(buckets);
  }

  increment(): void {
    const slot = this.#clearStale();
    this.#values[slot % this.buckets] = (this.#values[slot % this.buckets] ?? 0) + 1;
    this.#lastSlot = slot;
  }

  count(): number {
    this.#clearStale();
    let sum = 0;
    for (const value of this.#values) sum += value;
    return sum;
  }

  reset(): void {
    this.#values.fill(0);
    this.#lastSlot = Number.NEGATIVE_INFINITY;
  }

  /** Zeroes the buckets of the slots after the last write up to now, at most all of them; returns the current slot. */
  #clearStale(): number {
    const slot = Math.floor(this.now() / this.resolutionMs);
    const stale = Math.min(this.buckets, slot - this.#lastSlot);
    for (let step = 0; step < stale; step++) this.#values[(slot - step) % this.buckets] = 0;
    if (stale > 0) this.#lastSlot = slot;
    return slot;
  }
}

/** Latency counts by 1% bucket over a rolling window of `HISTOGRAMS` periods. */
export class RollingLatencyHistogram {
  readonly #histograms: Array<Map<number, number>> = Array.from({ length: HISTOGRAMS }, () => new Map());
  #lastSlot = Number.NEGATIVE_INFINITY;

  constructor(readonly now: () => number) {}

  /** Records one latency in milliseconds. */
  record(latencyMs: number): void {
    const slot = this.#clearStale();
    const histogram = this.#histograms[slot % HISTOGRAMS];
    if (histogram === undefined) return;
    const bucket = bucketOf(latencyMs * 1_000);
    histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1);
  }

  /**
   * Returns the latency in milliseconds below which `quantile` percent (0 to 100) of the recorded
   * latencies fall, as the upper bound of its 1% bucket, or 0 with nothing recorded.
   */
  latencyAtQuantileMs(quantile: number): number {
    this.#clearStale();
    const merged = new Map<number, number>();
    let total = 0;
    for (const histogram of this.#histograms) {
      for (const [bucket, count] of histogram) {
        merged.set(bucket, (merged.get(bucket) ?? 0) + count);
        total += count;
      }
    }
    if (total === 0) return 0;

    // The rank of the wanted latency, rounded to the nearest request and at least the first, as HdrHistogram ranks it.
    const rank = Math.max(1, Math.floor((Math.min(100, Math.max(0, quantile)) / 100) * total + 0.5));
    let seen = 0;
    for (const bucket of [...merged.keys()].sort((a, b) => a - b)) {
      seen += merged.get(bucket) ?? 0;
      if (seen >= rank) return bucketUpperBoundUs(bucket) / 1_000;
    }
    return LATENCY_MAX_US / 1_000;
  }

  reset(): void {
    for (const histogram of this.#histograms) histogram.clear();
    this.#lastSlot = Number.NEGATIVE_INFINITY;
  }

  #clearStale(): number {
    const slot = Math.floor(this.now() / HISTOGRAM_PERIOD_MS);
    const stale = Math.min(HISTOGRAMS, slot - this.#lastSlot);
    for (let step = 0; step < stale; step++) this.#histograms[(slot - step) % HISTOGRAMS]?.clear();
    if (stale > 0) this.#lastSlot = slot;
    return slot;
  }
}

/** Returns the bucket of a latency in microseconds: 0 below 1 µs, else 1 + the 1% step of its logarithm. */
function bucketOf(latencyUs: number): number {
  if (!(latencyUs >= 1)) return 0;
  const clamped = Math.min(latencyUs, LATENCY_MAX_US);
  return Math.min(HISTOGRAM_BUCKETS - 1, 1 + Math.floor(Math.log(clamped) / LOG_GROWTH));
}

function bucketUpperBoundUs(bucket: number): number {
  if (bucket === 0) return 0;
  return Math.min(LATENCY_MAX_US, Math.floor(BUCKET_GROWTH ** bucket));
}

/** The metrics of one circuit breaker: what an expression such as `NetworkErrorRatio() > 0.30` reads. */
export class BreakerMetrics {
  readonly #total: RollingCounter;
  readonly #networkErrors: RollingCounter;
  readonly #statusCodes = new Map<number, RollingCounter>();
  readonly #latencies: RollingLatencyHistogram;

  constructor(readonly now: () => number) {
    this.#total = new RollingCounter(now);
    this.#networkErrors = new RollingCounter(now);
    this.#latencies = new RollingLatencyHistogram(now);
  }

  /** Records one response: its status, whether Berth generated it because the server gave none, and its latency. */
  record(status: number, networkError: boolean, latencyMs: number): void {
    this.#total.increment();
    if (networkError) this.#networkErrors.increment();

    let counter = this.#statusCodes.get(status);
    if (counter === undefined) {
      counter = new RollingCounter(this.now);
      this.#statusCodes.set(status, counter);
    }
    counter.increment();
    this.#latencies.record(latencyMs);
  }

  /** Returns network errors divided by requests in the counting window, or 0 without requests. */
  networkErrorRatio(): number {
    const total = this.#total.count();
    return total === 0 ? 0 : this.#networkErrors.count() / total;
  }

  /**
   * Returns the count of statuses in [fromA, toA) divided by the count in [fromB, toB), both in the
   * counting window, or 0 when the second count is 0.
   */
  responseCodeRatio(fromA: number, toA: number, fromB: number, toB: number): number {
    let numerator = 0;
    let denominator = 0;
    for (const [status, counter] of this.#statusCodes) {
      const inA = status >= fromA && status < toA;
      const inB = status >= fromB && status < toB;
      if (!inA && !inB) continue;
      const count = counter.count();
      if (inA) numerator += count;
      if (inB) denominator += count;
    }
    return denominator === 0 ? 0 : numerator / denominator;
  }

  /** Returns the latency at `quantile` (0 to 100) in whole milliseconds, rounded down as oxy does. */
  latencyAtQuantileMs(quantile: number): number {
    return Math.floor(this.#latencies.latencyAtQuantileMs(quantile));
  }

  /** Forgets everything, as oxy does when the breaker trips. */
  reset(): void {
    this.#total.reset();
    this.#networkErrors.reset();
    this.#statusCodes.clear();
    this.#latencies.reset();
  }
}
