// Checks the integration harness itself, without Berth: if these fail, every other integration
// failure is suspect.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';

import { fetchVia } from './harness/berth.js';
import { freePort, TestDocker } from './harness/containers.js';
import { ping, PrivateDockerd } from './harness/dockerd.js';
import { httpRequest } from './harness/http.js';
import { waitFor } from './harness/wait.js';

const docker = new TestDocker(inject('dockerSocket'));

afterEach(async () => {
  await docker.removeAll();
});

describe('private dockerd', () => {
  it('answers ping on its own socket', async () => {
    expect(await ping(inject('dockerSocket'))).toBe('OK');
    expect(inject('dockerSocket')).not.toBe('/var/run/docker.sock');
  });

  it('has no bridge network', async () => {
    const networks = await docker.client.listNetworks();
    const drivers = networks.map((network) => network.Driver);

    expect(drivers).not.toContain('bridge');
    expect(drivers).toContain('host');
  });
});

describe('http container', () => {
  it('serves its name on a host port', async () => {
    const port = await freePort();
    const container = await docker.runHttpContainer({ name: 'harness-http', port });

    const response = await httpRequest(container.url);

    expect(response.status).toBe(200);
    expect(response.body).toBe('harness-http');
  });

  it('records labels and exposed ports', async () => {
    const port = await freePort();
    await docker.runHttpContainer({
      name: 'harness-labels',
      port,
      exposed: [port],
      labels: { 'traefik.enable': 'true' },
      body: 'custom body',
    });

    const info = await docker.inspect('harness-labels');

    expect(info.Config.Labels).toEqual({ 'traefik.enable': 'true' });
    expect(Object.keys(info.Config.ExposedPorts ?? {})).toEqual([`${port}/tcp`]);
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect((await httpRequest(`http://127.0.0.1:${port}/`)).body).toBe('custom body');
  });

  it('keeps serving during the stop timeout', async () => {
    const port = await freePort();
    const container = await docker.runHttpContainer({ name: 'harness-drain', port });

    const stopping = docker.stop(container.name, { timeoutSec: 2 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const duringStop = await httpRequest(container.url);
    await stopping;

    expect(duringStop.status).toBe(200);
    expect((await docker.inspect(container.name)).State.Running).toBe(false);
  });

  it('pauses and unpauses', async () => {
    const port = await freePort();
    const container = await docker.runHttpContainer({ name: 'harness-pause', port });

    await docker.pause(container.name);
    expect((await docker.inspect(container.name)).State.Paused).toBe(true);

    await docker.unpause(container.name);
    expect((await httpRequest(container.url)).body).toBe('harness-pause');
  });

  it('becomes unhealthy with a failing health check', async () => {
    const port = await freePort();
    const container = await docker.runHttpContainer({
      name: 'harness-unhealthy',
      port,
      health: { command: 'false', intervalMs: 1_000 },
    });

    const status = await waitFor(
      async () => {
        const health = (await docker.inspect(container.name)).State.Health?.Status;
        return health === 'unhealthy' ? health : false;
      },
      { timeoutMs: 10_000, intervalMs: 200, description: 'health status unhealthy' },
    );

    expect(status).toBe('unhealthy');
  });
});

describe('fetchVia', () => {
  const server = createServer((req, res) => res.end(`host=${req.headers.host} path=${req.url}`));

  afterAll(() => {
    server.close();
  });

  it('sends the given Host header', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const response = await fetchVia({ webUrl: `http://127.0.0.1:${port}` }, 'a.example.test', '/x?y=1');

    expect(response.body).toBe('host=a.example.test path=/x?y=1');
  });
});

describe('dockerd restart', () => {
  it('keeps data and serves again', async () => {
    const daemon = PrivateDockerd.attach(inject('dockerdDir'));
    const port = await freePort();
    await docker.runHttpContainer({ name: 'harness-before-restart', port });
    const pidBefore = daemon.pid();

    await daemon.restart();

    expect(daemon.pid()).not.toBe(pidBefore);
    expect(await ping(daemon.socketPath)).toBe('OK');
    const survivor = await docker.inspect('harness-before-restart');
    expect(survivor.State.Running).toBe(false);

    const afterPort = await freePort();
    const after = await docker.runHttpContainer({ name: 'harness-after-restart', port: afterPort });
    expect((await httpRequest(after.url)).body).toBe('harness-after-restart');
  });
});
