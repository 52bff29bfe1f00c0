import { afterEach, describe, expect, it, vi } from 'vitest';

import { ServerHealth, type HealthChange } from '../../src/balancer/server-health.js';

/** Creates a ServerHealth on a clock the test moves, recording its changes. */
function tracked(): { health: ServerHealth; changes: HealthChange[]; advance(ms: number): void } {
  let now = 1_000;
  const changes: HealthChange[] = [];
  const health = new ServerHealth('web@docker', 'http://127.0.0.1:8001', { now: () => now, onChange: (change) => changes.push(change) });
  return { health, changes, advance: (ms) => (now += ms) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ServerHealth in flight', () => {
  it('counts requests until each ends', () => {
    const { health } = tracked();

    const endFirst = health.begin();
    const endSecond = health.begin();
    expect(health.inFlight).toBe(2);

    endFirst();
    endFirst();
    expect(health.inFlight).toBe(1);

    endSecond();
    expect(health.inFlight).toBe(0);
  });
});

describe('ServerHealth active check', () => {
  it('starts up', () => {
    const { health } = tracked();

    expect(health.isAvailable()).toBe(true);
    expect(health.status).toBe('UP');
  });

  it('leaves and returns with check results', () => {
    const { health, changes } = tracked();

    health.recordCheck(false, 'health check failed: status 500');
    expect(health.status).toBe('DOWN');
    health.recordCheck(false, 'health check failed: status 500');
    health.recordCheck(true, 'health check passed: status 200');

    expect(health.status).toBe('UP');
    expect(changes).toEqual([
      { service: 'web@docker', url: 'http://127.0.0.1:8001', available: false, reason: 'health check failed: status 500' },
      { service: 'web@docker', url: 'http://127.0.0.1:8001', available: true, reason: 'health check passed: status 200' },
    ]);
  });
});

describe('ServerHealth passive check', () => {
  it('ignores failures without a policy', () => {
    const { health } = tracked();

    health.recordFailure();

    expect(health.isAvailable()).toBe(true);
  });

  it('one failure takes the server out for the window', () => {
    vi.useFakeTimers();
    const { health, changes, advance } = tracked();
    health.setPassivePolicy({ failureWindowMs: 10_000, maxFailedAttempts: 1 });

    health.recordFailure();
    expect(health.isAvailable()).toBe(false);
    advance(9_999);
    expect(health.isAvailable()).toBe(false);
    advance(1);
    expect(health.isAvailable()).toBe(true);

    vi.advanceTimersByTime(10_000);
    expect(changes.map((change) => change.available)).toEqual([false, true]);
    expect(changes[0]?.reason).toBe('1 failed request within 10000 ms');
  });

  it('counts only failures inside the window', () => {
    const { health, advance } = tracked();
    health.setPassivePolicy({ failureWindowMs: 1_000, maxFailedAttempts: 3 });

    health.recordFailure();
    advance(600);
    health.recordFailure();
    advance(600);
    // The first failure is now outside the window, so two remain.
    health.recordFailure();
    expect(health.isAvailable()).toBe(true);

    health.recordFailure();
    expect(health.isAvailable()).toBe(false);
  });

  it('a success clears the failures', () => {
    const { health } = tracked();
    health.setPassivePolicy({ failureWindowMs: 10_000, maxFailedAttempts: 2 });

    health.recordFailure();
    health.recordSuccess();
    health.recordFailure();

    expect(health.isAvailable()).toBe(true);
  });

  it('removing the policy brings the server back', () => {
    const { health, changes } = tracked();
    health.setPassivePolicy({ failureWindowMs: 10_000, maxFailedAttempts: 1 });
    health.recordFailure();

    health.setPassivePolicy(undefined);

    expect(health.isAvailable()).toBe(true);
    expect(changes.map((change) => change.reason)).toEqual(['1 failed request within 10000 ms', 'the passive health check was removed']);
  });

  it('stays down while the active check fails', () => {
    const { health, advance } = tracked();
    health.setPassivePolicy({ failureWindowMs: 1_000, maxFailedAttempts: 1 });

    health.recordCheck(false, 'health check failed: status 503');
    health.recordFailure();
    advance(1_000);

    expect(health.isAvailable()).toBe(false);
    health.recordCheck(true, 'health check passed: status 200');
    expect(health.isAvailable()).toBe(true);
  });
});
