// Work split into steps, so a long configuration rebuild can give the event loop back between
// them while the old runtime keeps serving. A step is a generator: every `yield` marks a point
// where the work may pause. The same generator runs to the end in one go for callers that need
// the result at once, so both ways compute the same result.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** A computation of a `T` that may pause at each `yield`. */
export type Steps<T> = Generator<void, T, void>;

/** Runs `steps` to the end without pausing and returns the result. */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** Result of `runInSlices`: the value, or `stopped` when `shouldStop` ended the work early. */
export type SlicedResult<T> = { stopped: false; value: T } | { stopped: true };

/**
 * Runs `steps` in slices of about `sliceMs` milliseconds, giving the event loop back after each
 * slice (setImmediate, so pending I/O such as requests runs first). A single step longer than a
 * slice is not interrupted. Before resuming, `shouldStop` may end the work, such as when newer
 * configuration made the result useless; the generator's `finally` blocks run then.
 */
export async function runInSlices<T>(steps: Steps<T>, sliceMs: number, shouldStop: () => boolean = () => false): Promise<SlicedResult<T>> {
  let sliceStart = performance.now();
  for (;;) {
    const next = steps.next();
    if (next.done) return { stopped: false, value: next.value };
    if (performance.now() - sliceStart < sliceMs) continue;

    await nextTurn();
    if (shouldStop()) {
      steps.return(undefined as never);
      return { stopped: true };
    }
    sliceStart = performance.now();
  }
}
