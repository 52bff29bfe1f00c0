// Container helpers on top of dockerode. Every container uses host networking, because the private
// daemon runs with `--bridge=none`: each test server listens on its own 127.0.0.1 port.

import { createServer } from 'node:net';

import Docker from 'dockerode';

import { httpRequest } from './http.js';
import { TEST_IMAGE } from './image.js';
import { waitFor } from './wait.js';

const NANOSECONDS_PER_MILLISECOND = 1_000_000;

export interface HealthcheckOptions {
  /** Shell command run with `/bin/sh -c`, as `docker run --health-cmd` does. */
  command: string;
  intervalMs?: number;
  timeoutMs?: number;
  /** Consecutive failures before the container is `unhealthy`. */
  retries?: number;
  startPeriodMs?: number;
}

export interface HttpContainerOptions {
  name: string;
  /** Port that busybox httpd listens on, on 127.0.0.1. */
  port: number;
  labels?: Record<string, string>;
  health?: HealthcheckOptions;
  /** Ports recorded in `Config.ExposedPorts`, as `docker run --expose` does. None by default. */
  exposed?: number[];
  /** Content of `/index.html`. Defaults to the container name. */
  body?: string;
  /**
   * Seconds that `docker stop` and a daemon shutdown wait before SIGKILL. httpd runs as PID 1
   * and so ignores SIGTERM, which means it keeps serving until this timeout ends. Defaults to 1.
   */
  stopTimeoutSec?: number;
  /** `docker run --restart`. `always` makes the daemon start the container again when it starts. */
  restartPolicy?: 'no' | 'always' | 'unless-stopped';
  /** Wait until the server returns 200 on 127.0.0.1 before returning. Defaults to true. */
  waitUntilServing?: boolean;
  /**
   * Shell commands run before httpd starts, such as `(sleep 3; touch /tmp/ready) &` or creating a
   * CGI script under /www/cgi-bin. httpd still becomes PID 1.
   */
  prelude?: string;
}

export interface HttpContainer {
  id: string;
  name: string;
  port: number;
  /** `http://127.0.0.1:PORT/`, the server directly, without Berth. */
  url: string;
  /** `performance.now()` right after the start request returned, when the container was running. */
  startedAt: number;
}

/** One private daemon, reached through its unix socket. */
export class TestDocker {
  readonly client: Docker;

  constructor(socketPath: string) {
    this.client = new Docker({ socketPath });
  }

  /**
   * Runs the test image with `busybox httpd` serving `body` at `/` on 127.0.0.1:`port`, like
   * `docker run -d --network host --expose P --label K=V NAME sh -c 'mkdir … && exec httpd …'`.
   */
  async runHttpContainer(options: HttpContainerOptions): Promise<HttpContainer> {
    const { name, port, labels = {}, health, exposed = [], body = name, stopTimeoutSec = 1 } = options;

    const container = await this.client.createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: [
        'sh',
        '-c',
        'mkdir -p /www && printf "%s" "$BERTH_TEST_BODY" > /www/index.html && ' +
          (options.prelude === undefined ? '' : `${options.prelude}\n`) +
          'exec httpd -f -p "127.0.0.1:$BERTH_TEST_PORT" -h /www',
      ],
      Env: [`BERTH_TEST_BODY=${body}`, `BERTH_TEST_PORT=${port}`],
      Labels: labels,
      ExposedPorts: Object.fromEntries(exposed.map((exposedPort) => [`${exposedPort}/tcp`, {}])),
      StopTimeout: stopTimeoutSec,
      Healthcheck: health === undefined ? undefined : toDockerHealthcheck(health),
      HostConfig: { NetworkMode: 'host', RestartPolicy: { Name: options.restartPolicy ?? 'no' } },
    });
    await container.start();
    const startedAt = performance.now();
    const url = `http://127.0.0.1:${port}/`;

    if (options.waitUntilServing ?? true) {
      try {
        await waitFor(async () => (await httpRequest(url, { timeoutMs: 1_000 })).status === 200, {
          timeoutMs: 5_000,
          description: `httpd of container ${name} on ${url}`,
        });
      } catch (error) {
        const state = (await container.inspect()).State;
        throw new Error(`container ${name} is not serving on ${url}, and its state is ${JSON.stringify(state)}`, {
          cause: error,
        });
      }
    }

    return { id: container.id, name, port, url, startedAt };
  }

  /**
   * `docker stop -t timeoutSec`. The returned promise settles when the container has exited,
   * so a test that checks draining starts polling before awaiting it.
   */
  async stop(nameOrId: string, { timeoutSec = 1 }: { timeoutSec?: number } = {}): Promise<void> {
    try {
      await this.client.getContainer(nameOrId).stop({ t: timeoutSec });
    } catch (error) {
      // 304 Not Modified: the container was not running.
      if (statusCodeOf(error) !== 304) throw error;
    }
  }

  async start(nameOrId: string): Promise<void> {
    await this.client.getContainer(nameOrId).start();
  }

  async kill(nameOrId: string): Promise<void> {
    await this.client.getContainer(nameOrId).kill();
  }

  async remove(nameOrId: string, { force = true }: { force?: boolean } = {}): Promise<void> {
    try {
      await this.client.getContainer(nameOrId).remove({ force });
    } catch (error) {
      if (statusCodeOf(error) !== 404) throw error;
    }
  }

  async pause(nameOrId: string): Promise<void> {
    await this.client.getContainer(nameOrId).pause();
  }

  async unpause(nameOrId: string): Promise<void> {
    await this.client.getContainer(nameOrId).unpause();
  }

  async inspect(nameOrId: string): Promise<Docker.ContainerInspectInfo> {
    return this.client.getContainer(nameOrId).inspect();
  }

  /** Force-removes every container of this daemon, so each test file starts from none. */
  async removeAll(): Promise<void> {
    const containers = await this.client.listContainers({ all: true });
    await Promise.all(containers.map((container) => this.remove(container.Id)));
  }
}

/**
 * Returns a TCP port that was free on 127.0.0.1 a moment ago. Another process can still take it
 * before the caller binds it, which is unlikely but possible on a busy machine.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('listening on 127.0.0.1:0 returned no TCP address'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

function toDockerHealthcheck(health: HealthcheckOptions): Docker.HealthConfig {
  return {
    Test: ['CMD-SHELL', health.command],
    Interval: (health.intervalMs ?? 1_000) * NANOSECONDS_PER_MILLISECOND,
    Timeout: (health.timeoutMs ?? 1_000) * NANOSECONDS_PER_MILLISECOND,
    Retries: health.retries ?? 1,
    StartPeriod: (health.startPeriodMs ?? 0) * NANOSECONDS_PER_MILLISECOND,
  };
}

function statusCodeOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | null)?.statusCode;
}
