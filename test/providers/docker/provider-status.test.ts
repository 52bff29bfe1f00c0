// The provider's status counts reconnections that succeeded. Before, `reconnects` grew by one on
// every failed attempt, so a daemon that stayed down showed a growing number of "reconnects"
// although Berth never reconnected.
//
// A fake Docker API on loopback serves the three calls the provider makes: the event stream,
// the container list and the inspect of Berth's own container.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, test } from 'vitest';

import { silentLogger, type Logger } from '../../../src/observability/logger.js';
import type { ProviderConfig } from '../../../src/dynamic/model.js';
import { captureLogs } from '../../middlewares/log-capture.js';
import { DockerProvider, type DockerProviderStatus } from '../../../src/providers/docker/provider.js';

/** A Docker API that lists no containers and fails every request while `down` is set. */
class FakeDocker {
  down = false;
  readonly #streams = new Set<ServerResponse>();
  readonly #server: Server = createServer((request, response) => this.#handle(request, response));

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `tcp://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Ends every open event stream, as a daemon that stops does. */
  dropStreams(): void {
    for (const stream of this.#streams) stream.destroy();
    this.#streams.clear();
  }

  async close(): Promise<void> {
    this.dropStreams();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'http://docker').pathname;
    if (this.down) {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'daemon is down' }));
      return;
    }
    if (path.endsWith('/events')) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
      this.#streams.add(response);
      return;
    }
    if (path.endsWith('/containers/json')) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('[]');
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: 'no such container' }));
  }
}

let docker: FakeDocker | undefined;
let provider: DockerProvider | undefined;

afterEach(async () => {
  await provider?.stop();
  await docker?.close();
  provider = undefined;
  docker = undefined;
});

async function startProvider(fake: FakeDocker, onConfig: (config: ProviderConfig) => void = () => {}, logger: Logger = silentLogger()): Promise<DockerProvider> {
  const endpoint = await fake.listen();
  const started = new DockerProvider(
    { endpoint, exposedByDefault: true, defaultRule: 'Host(`{{ normalize .Name }}`)', labelPrefix: 'traefik', allowEmptyServices: false },
    logger,
    onConfig,
  );
  started.start();
  return started;
}

async function waitFor(provider: DockerProvider, condition: (status: DockerProviderStatus) => boolean): Promise<DockerProviderStatus> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const status = provider.status();
    if (condition(status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`status did not reach the expected state: ${JSON.stringify(provider.status())}`);
}

describe('Docker provider status', () => {
  test('first connection is no reconnect', async () => {
    docker = new FakeDocker();
    provider = await startProvider(docker);

    const status = await waitFor(provider, (current) => current.connected);
    expect(status.reconnects).toBe(0);
    expect(status.failedAttempts).toBe(0);
  });

  test('failed attempts are not reconnects', async () => {
    docker = new FakeDocker();
    docker.down = true;
    provider = await startProvider(docker);

    const status = await waitFor(provider, (current) => current.failedAttempts >= 2);
    expect(status.connected).toBe(false);
    expect(status.reconnects).toBe(0);
    expect(status.lastError).toBeDefined();
  });

  test('one outage counts one reconnect', async () => {
    docker = new FakeDocker();
    provider = await startProvider(docker);
    await waitFor(provider, (current) => current.connected);

    docker.down = true;
    docker.dropStreams();
    const down = await waitFor(provider, (current) => current.failedAttempts >= 2);
    docker.down = false;
    const back = await waitFor(provider, (current) => current.connected);

    expect(down.connected).toBe(false);
    expect(down.reconnects).toBe(0);
    expect(back.reconnects).toBe(1);
    expect(back.failedAttempts).toBe(0);
  });

  // Before, an exception while building or applying the configuration was taken for a lost
  // connection, so the provider reconnected every few seconds and never applied a configuration.
  test('failed configuration build keeps the connection', async () => {
    docker = new FakeDocker();
    const logs = captureLogs('error');
    let calls = 0;
    provider = await startProvider(
      docker,
      () => {
        calls += 1;
        throw new TypeError('issuesOf is not iterable');
      },
      logs.logger,
    );

    const status = await waitFor(provider, (current) => current.connected);
    expect(calls).toBe(1);
    expect(status.failedAttempts).toBe(0);
    expect(status.lastError).toBeUndefined();
    expect(logs.withMessage('building the Docker configuration failed; serving the last configuration')).toHaveLength(1);
  });
});
