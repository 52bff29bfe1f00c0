import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Total time to keep trying, in milliseconds. */
  timeoutMs?: number;
  /** Pause between two attempts, in milliseconds. */
  intervalMs?: number;
  /** Prefix of the timeout error, naming what was awaited. */
  description?: string;
  /** Stops waiting at once with the signal's reason, for example when the awaited process exits. */
  signal?: AbortSignal;
}

/**
 * Calls `fn` until it returns without throwing and with a value other than `false`, then returns
 * that value. Both styles work: `() => status === 200` and `() => { expect(status).toBe(200) }`.
 * On timeout it throws an error carrying the last thrown error as `cause`, or the last value.
 * When `signal` aborts, it throws the signal's reason.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 5_000, intervalMs = 25, description = 'condition', signal }: WaitOptions = {},
): Promise<Exclude<T, false>> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  let attempts = 0;

  for (;;) {
    signal?.throwIfAborted();
    attempts += 1;
    try {
      const value = await fn();
      if (value !== false) return value as Exclude<T, false>;
      lastValue = value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }

    if (performance.now() >= deadline) break;
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }

  const detail =
    lastError === undefined ? `last value: ${String(lastValue)}` : `last error: ${describeError(lastError)}`;
  throw new Error(`${description} not met within ${timeoutMs} ms after ${attempts} attempts (${detail})`, {
    cause: lastError,
  });
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
