import { describe, expect, it } from 'vitest';

import { createMiddleware } from '../../src/middlewares/registry.js';
import { retryDelayMs, retryPolicy } from '../../src/middlewares/retry.js';
import type { RequestContext } from '../../src/middlewares/types.js';

describe('retryPolicy', () => {
  it.each([
    { desc: 'label values', options: { attempts: 3, initialInterval: '250ms' }, expected: { attempts: 3, initialIntervalMs: 250 } },
    { desc: 'default interval', options: { attempts: 2 }, expected: { attempts: 2, initialIntervalMs: 100 } },
    { desc: 'attempts as text', options: { attempts: '4' }, expected: { attempts: 4, initialIntervalMs: 100 } },
    { desc: 'interval as seconds', options: { attempts: 2, initialInterval: 1 }, expected: { attempts: 2, initialIntervalMs: 1_000 } },
    { desc: 'keys in any case', options: { Attempts: 2, InitialInterval: '0s' }, expected: { attempts: 2, initialIntervalMs: 0 } },
  ])('$desc', ({ options, expected }) => {
    expect(retryPolicy(options)).toEqual(expected);
  });

  it.each([
    { desc: 'missing attempts', options: {}, message: 'retry attempts null is invalid: set attempts to a whole number of at least 1, for example attempts=3' },
    { desc: 'zero attempts', options: { attempts: 0 }, message: 'retry attempts 0 is invalid: set attempts to a whole number of at least 1, for example attempts=3' },
    { desc: 'bad interval', options: { attempts: 2, initialInterval: 'soon' }, message: 'retry initialInterval "soon" is invalid: write a duration such as 100ms or 1s' },
  ])('$desc: error', ({ options, message }) => {
    expect(() => retryPolicy(options)).toThrow(message);
  });
});

describe('retryDelayMs', () => {
  it('grows and stays below twice the initial interval', () => {
    const policy = { attempts: 5, initialIntervalMs: 100 };

    const delays = [1, 2, 3, 4].map((retry) => Math.round(retryDelayMs(policy, retry)));

    expect(delays).toEqual([100, 119, 141, 168]);
  });

  it('one retry waits the initial interval', () => {
    expect(retryDelayMs({ attempts: 2, initialIntervalMs: 100 }, 1)).toBe(100);
  });

  it('capped at the timer maximum', () => {
    const hours1000 = 1_000 * 3_600_000;

    expect(retryDelayMs({ attempts: 2, initialIntervalMs: hours1000 }, 1)).toBe(2_147_483_647);
    expect(retryDelayMs({ attempts: 5, initialIntervalMs: hours1000 }, 4)).toBe(2_147_483_647);
  });
});

describe('retry middleware', () => {
  it('sets the budget and calls next', async () => {
    const middleware = createMiddleware('retry', { attempts: 3, initialInterval: '10ms' });
    const context = {} as RequestContext;
    let called = false;

    await middleware(context, async () => {
      called = true;
    });

    expect(called).toBe(true);
    expect(context.retry).toEqual({ attempts: 3, initialIntervalMs: 10 });
  });
});
