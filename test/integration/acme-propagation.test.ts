// The DNS-01 propagation check against challtestsrv's DNS server.

import { type ChildProcess, spawn } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { waitForPropagation } from '../../src/tls/dns/propagation.js';
import { freePort } from './harness/containers.js';
import { type PebbleServer, startPebble } from './harness/pebble.js';
import { waitFor } from './harness/wait.js';

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

describe('authoritative name servers', () => {
  // With no resolvers configured, Berth queries the zone's own name servers on port 53. A second
  // challtestsrv listens on 127.0.0.77:53 (loopback) and plays the zone's authoritative server.
  const AUTHORITATIVE = '127.0.0.77';
  let server: ChildProcess | undefined;
  let managementUrl = '';

  beforeAll(async () => {
    const managementPort = await freePort();
    managementUrl = `http://127.0.0.1:${managementPort}`;
    server = spawn(
      'pebble-challtestsrv',
      ['-dns01', `${AUTHORITATIVE}:53`, '-management', `127.0.0.1:${managementPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
      { stdio: 'ignore' },
    );
    await waitFor(async () => (await fetch(`${managementUrl}/set-txt`, { method: 'POST', body: JSON.stringify({ host: '_acme-challenge.probe.example.test.', value: 'probe' }) })).ok, {
      timeoutMs: 5_000,
      description: 'challtestsrv management API',
    });
  });

  afterAll(() => {
    server?.kill();
  });

  test('are queried without resolvers', async () => {
    await fetch(`${managementUrl}/set-txt`, { method: 'POST', body: JSON.stringify({ host: '_acme-challenge.auth.example.test.', value: 'authoritative' }) });
    const zone = { id: 'zone', name: 'example.test', nameServers: [AUTHORITATIVE] };

    await waitForPropagation([{ name: '_acme-challenge.auth.example.test', value: 'authoritative' }], zone, {
      resolvers: [],
      delayBeforeChecksMs: 0,
      disableChecks: false,
      pollIntervalMs: 100,
      timeoutMs: 3_000,
    });

    const error = await waitForPropagation([{ name: '_acme-challenge.absent.example.test', value: 'x' }], zone, {
      resolvers: [],
      delayBeforeChecksMs: 0,
      disableChecks: false,
      pollIntervalMs: 100,
      timeoutMs: 300,
    }).then(
      () => new Error('expected a rejection'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toContain(`name server ${AUTHORITATIVE}:53`);
  });
});
