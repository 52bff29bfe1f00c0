import { Writable } from 'node:stream';

import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { ActiveCheckOptions } from '../../src/balancer/health-options.js';
import { checkUrl, type HealthProbe, type ProbeResult } from '../../src/balancer/health-probe.js';
import { HealthRegistry, type HealthTarget } from '../../src/balancer/health-registry.js';

const ACTIVE: ActiveCheckOptions = { path: '/health', method: 'GET', headers: {}, intervalMs: 1_000, unhealthyIntervalMs: 200, timeoutMs: 100, followRedirects: true };

function target(url: string, overrides: Partial<HealthTarget> = {}): HealthTarget {
  return { service: 'web@docker', url, target: new URL(url), active: ACTIVE, ...overrides };
}

/** Creates a probe that records every call and returns the result the test set for its check URL. */
function fakeProbe(): { probe: HealthProbe; calls: string[]; results: Map<string, ProbeResult> } {
  const calls: string[] = [];
  const results = new Map<string, ProbeResult>();
  const probe: HealthProbe = async (server, options) => {
    const url = checkUrl(server, options).href;
    calls.push(url);
    return results.get(url) ?? { passed: true, detail: 'status 200' };
  };
  return { probe, calls, results };
}

/** Creates a logger that collects its JSON lines in `lines`. */
function memoryLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const A = 'http://127.0.0.1:8001/';
const B = 'http://127.0.0.1:8002/';

describe('HealthRegistry', () => {
  let registry: HealthRegistry;
  let fake: ReturnType<typeof fakeProbe>;
  let log: ReturnType<typeof memoryLogger>;

  beforeEach(() => {
    vi.useFakeTimers();
    fake = fakeProbe();
    log = memoryLogger();
    registry = new HealthRegistry({ logger: log.logger, probe: fake.probe });
  });

  afterEach(async () => {
    await registry.close();
    vi.useRealTimers();
  });

  it('keeps state across rebuilds', async () => {
    const [first] = registry.apply([target(A)]);
    const end = first?.begin();
    fake.results.set(A + 'health', { passed: false, detail: 'status 500' });
    await vi.advanceTimersByTimeAsync(0);

    const [second] = registry.apply([target(A), target(B)]);

    expect(second).toBe(first);
    expect(second?.status).toBe('DOWN');
    expect(second?.inFlight).toBe(1);
    end?.();
  });

  it('checks at once, then by interval', async () => {
    registry.apply([target(A)]);

    await vi.advanceTimersByTimeAsync(0);
    expect(fake.calls).toEqual([A + 'health']);
    await vi.advanceTimersByTimeAsync(999);
    expect(fake.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.calls).toHaveLength(2);
  });

  it('uses unhealthyInterval while down', async () => {
    fake.results.set(A + 'health', { passed: false, detail: 'status 503' });
    registry.apply([target(A)]);

    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(600);

    expect(fake.calls).toHaveLength(4);
    expect(registry.get('web@docker', A)?.status).toBe('DOWN');
  });

  it('does not restart an unchanged check', async () => {
    registry.apply([target(A)]);
    await vi.advanceTimersByTimeAsync(500);

    registry.apply([target(A)]);
    await vi.advanceTimersByTimeAsync(0);

    expect(fake.calls).toHaveLength(1);
  });

  it('restarts a changed check', async () => {
    registry.apply([target(A)]);
    await vi.advanceTimersByTimeAsync(500);

    registry.apply([target(A, { active: { ...ACTIVE, path: '/ready' } })]);
    await vi.advanceTimersByTimeAsync(0);

    expect(fake.calls).toEqual([A + 'health', A + 'ready']);
  });

  it('stops the check of a removed server', async () => {
    registry.apply([target(A), target(B)]);
    await vi.advanceTimersByTimeAsync(0);

    registry.apply([target(B)]);
    await vi.advanceTimersByTimeAsync(5_000);

    expect(fake.calls.filter((url) => url.startsWith(A))).toHaveLength(1);
    expect(registry.get('web@docker', A)).toBeUndefined();
  });

  it('brings a server back when its check is removed', async () => {
    fake.results.set(A + 'health', { passed: false, detail: 'status 503' });
    registry.apply([target(A)]);
    await vi.advanceTimersByTimeAsync(0);

    const [health] = registry.apply([target(A, { active: undefined })]);

    expect(health?.status).toBe('UP');
  });

  it('keeps one state per service', () => {
    const [web, api] = registry.apply([target(A, { active: undefined }), target(A, { service: 'api@docker', active: undefined })]);

    expect(web).not.toBe(api);
  });

  it('logs transitions at info', async () => {
    fake.results.set(A + 'health', { passed: false, detail: 'status 503' });
    registry.apply([target(A)]);
    await vi.advanceTimersByTimeAsync(0);
    fake.results.delete(A + 'health');
    await vi.advanceTimersByTimeAsync(200);

    const transitions = log.lines.filter((line) => line.serviceName === 'web@docker');
    expect(transitions).toEqual([
      expect.objectContaining({ level: 30, msg: 'server left rotation', serverUrl: A, reason: 'health check failed: status 503' }),
      expect.objectContaining({ level: 30, msg: 'server is back in rotation', serverUrl: A, reason: 'health check passed: status 200' }),
    ]);
  });
});
