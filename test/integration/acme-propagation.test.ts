// The DNS-01 propagation check against challtestsrv's DNS server.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { waitForPropagation } from '../../src/tls/dns/propagation.js';
import { type PebbleServer, startPebble } from './harness/pebble.js';

let pebble: PebbleServer;
const ZONE = { id: 'zone', name: 'example.test', nameServers: [] };

beforeAll(async () => {
  pebble = await startPebble();
});

afterAll(async () => {
  await pebble?.stop();
});

describe('propagation check', () => {
  test('waits for every value', async () => {
    await pebble.setTxt('_acme-challenge.wait.example.test', 'first');
    setTimeout(() => void pebble.setTxt('_acme-challenge.wait.example.test', 'second'), 300);

    const started = performance.now();
    await waitForPropagation(
      [
        { name: '_acme-challenge.wait.example.test', value: 'first' },
        { name: '_acme-challenge.wait.example.test', value: 'second' },
      ],
      ZONE,
      { resolvers: [pebble.dnsServer], delayBeforeChecksMs: 0, disableChecks: false, pollIntervalMs: 100, timeoutMs: 5_000 },
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });

  test('timeout names server and record', async () => {
    await pebble.setTxt('_acme-challenge.late.example.test', 'other');
    const error = await waitForPropagation([{ name: '_acme-challenge.late.example.test', value: 'expected-value' }], ZONE, {
      resolvers: [pebble.dnsServer],
      delayBeforeChecksMs: 0,
      disableChecks: false,
      pollIntervalMs: 100,
      timeoutMs: 500,
    }).then(
      () => new Error('expected a rejection'),
      (caught: unknown) => caught as Error,
    );

    expect(error.message).toContain(`name server ${pebble.dnsServer}`);
    expect(error.message).toContain('_acme-challenge.late.example.test');
    expect(error.message).toContain('"expected-value"');
    expect(error.message).toContain('"other"');
  });

  test('disabled checks only wait the delay', async () => {
    const started = performance.now();
    await waitForPropagation([{ name: '_acme-challenge.never.example.test', value: 'x' }], ZONE, {
      resolvers: [pebble.dnsServer],
      delayBeforeChecksMs: 200,
      disableChecks: true,
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });
});
