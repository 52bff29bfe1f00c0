// A health check interval longer than a Node.js timer can hold.
import { setTimeout as sleep } from 'node:timers/promises';

import { describe, expect, it } from 'vitest';

import { ActiveHealthCheck } from '../../src/balancer/health-check.js';
import { healthSettings } from '../../src/balancer/health-options.js';
import type { HealthProbe } from '../../src/balancer/health-probe.js';
import { ServerHealth } from '../../src/balancer/server-health.js';

describe('a health check interval over 24.8 days', () => {
  // Node.js timers hold at most 2^31-1 ms (about 24.8 days), and a longer delay fires after 1 ms,
  // so an uncapped `healthCheck.interval: 1000h` probed the server about 1,000 times a second.
  it('does not probe the server every millisecond', async () => {
    const settings = healthSettings({ servers: [], passHostHeader: true, healthCheck: { path: '/health', interval: '1000h' } });
    const options = settings.active;
    if (options === undefined) {
      // Rejecting the value with an error is a valid fix too.
      expect(settings.errors.length).toBeGreaterThan(0);
      return;
    }

    let probes = 0;
    const probe: HealthProbe = () => {
      probes += 1;
      return Promise.resolve({ passed: true, detail: 'status 200' });
    };
    const check = new ActiveHealthCheck(new URL('http://127.0.0.1:1'), options, new ServerHealth('app', 'http://127.0.0.1:1'), probe);
    check.start();
    await sleep(300);
    await check.stop();

    expect(probes).toBe(1);
  });
});
