// Berth outlives its Docker daemon: it keeps serving while the daemon is down, reconnects when
// it is back, and relists containers instead of trusting what it saw before.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import {
  type BerthProcess,
  fetchVia,
  NOT_ROUTED_STATUSES,
  printBerthLogsOnFailure,
  startBerth,
  waitUntilNotRouted,
  waitUntilRouted,
} from './harness/berth.js';
import { freePort, TestDocker } from './harness/containers.js';
import { PrivateDockerd } from './harness/dockerd.js';
import { httpRequest } from './harness/http.js';
import { hostRouterLabels } from './harness/labels.js';

const docker = new TestDocker(inject('dockerSocket'));
const daemon = PrivateDockerd.attach(inject('dockerdDir'));
let berth: BerthProcess | undefined;

function running(): BerthProcess {
  if (berth === undefined) throw new Error('Berth was not started by beforeAll');
  return berth;
}

beforeAll(async () => {
  await docker.removeAll();
  berth = await startBerth({ dockerSocket: inject('dockerSocket') });
});

afterAll(async () => {
  await berth?.stop();
  // A failed test may leave the daemon stopped, and the next file needs it.
  await daemon.start();
  await docker.removeAll();
});

printBerthLogsOnFailure(() => berth);

describe('docker daemon restart', () => {
  it('reconnects and relists', async () => {
    const stoppedPort = await freePort();
    await docker.runHttpContainer({
      name: 'reconnect-stopped',
      port: stoppedPort,
      labels: hostRouterLabels('stopped', 'stopped.example.test', stoppedPort),
    });
    // Restart policy `always`: the daemon starts it again at boot, possibly before Berth has
    // reconnected, so only a relist can find it.
    const revivedPort = await freePort();
    await docker.runHttpContainer({
      name: 'reconnect-revived',
      port: revivedPort,
      restartPolicy: 'always',
      labels: hostRouterLabels('revived', 'revived.example.test', revivedPort),
    });
    await waitUntilRouted(running(), 'stopped.example.test', 'reconnect-stopped');
    await waitUntilRouted(running(), 'revived.example.test', 'reconnect-revived');

    // dockerd 20.10 sends the kill and die events of the containers it stops before it closes
    // the event stream, so both routes are gone while it is down.
    await daemon.stop();
    const pingWhileDown = await httpRequest(`${running().apiUrl}/ping`);
    const stoppedWhileDown = await fetchVia(running(), 'stopped.example.test');

    // Removed right after the daemon starts, most likely before Berth has reconnected: the
    // relist must not bring back a route that Berth saw before the restart.
    await daemon.start();
    await docker.remove('reconnect-stopped');
    const freshPort = await freePort();
    await docker.runHttpContainer({
      name: 'reconnect-fresh',
      port: freshPort,
      labels: hostRouterLabels('fresh', 'fresh.example.test', freshPort),
    });

    // Reconnecting waits for Berth's backoff, so these allow more than a live event would.
    await waitUntilRouted(running(), 'revived.example.test', 'reconnect-revived', { timeoutMs: 20_000 });
    await waitUntilRouted(running(), 'fresh.example.test', 'reconnect-fresh', { timeoutMs: 20_000 });
    await waitUntilNotRouted(running(), 'stopped.example.test', { timeoutMs: 5_000 });

    expect(pingWhileDown.status).toBe(200);
    expect(NOT_ROUTED_STATUSES).toContain(stoppedWhileDown.status);
  });
});
