import { describe, expect, it } from 'vitest';
import { runInSlices, runToEnd, type Steps } from '../../src/dynamic/steps.js';

/** Counts to `count`, pausing after each number and busy-waiting `stepMs` per step. */
function* counting(count: number, stepMs: number, finished: { value: boolean }): Steps<number> {
  try {
    for (let i = 0; i < count; i++) {
      const until = performance.now() + stepMs;
      while (performance.now() < until);
      yield;
    }
    return count;
  } finally {
    finished.value = true;
  }
}

describe('steps', () => {
  it('runToEnd returns the result', () => {
    expect(runToEnd(counting(5, 0, { value: false }))).toBe(5);
  });

  it('runInSlices gives the event loop turns', async () => {
    let turns = 0;
    const timer = setInterval(() => turns++, 1);
    const result = await runInSlices(counting(40, 1, { value: false }), 5);
    clearInterval(timer);

    expect(result).toEqual({ stopped: false, value: 40 });
    expect(turns).toBeGreaterThan(0);
  });

  it('runInSlices stops on request', async () => {
    const finished = { value: false };
    const result = await runInSlices(counting(1000, 1, finished), 2, () => true);

    expect(result).toEqual({ stopped: true });
    // The generator's finally block ran, so a step can release what it holds.
    expect(finished.value).toBe(true);
  });
});
