// Helpers for tests that start, stop and replace replicas of one service while traffic flows.

import type { BerthProcess } from './berth.js';
import { freePort, type HttpContainer, type HttpContainerOptions, type TestDocker } from './containers.js';
import { hostRouterLabels } from './labels.js';
import { waitFor } from './wait.js';

/** One container event as the test saw it, with the `performance.now()` time it arrived. */
export interface SeenEvent {
  action: string;
  id: string;
  at: number;
}

export interface EventWatch {
  events: SeenEvent[];
  /** Resolves with the first event that matches, waiting for it if needed. */
  next(match: (event: SeenEvent) => boolean, timeoutMs?: number): Promise<SeenEvent>;
  stop(): void;
}

/**
 * Starts a replica of service `service`: httpd on a free port, responding with its container name,
 * with the router `Host(host)` and the server port label. Replicas of one service share the router and
 * the service, and differ only in their server.
 */
export async function startReplica(
  docker: TestDocker,
  service: string,
  host: string,
  name: string,
  options: Partial<HttpContainerOptions> = {},
): Promise<HttpContainer> {
  const port = options.port ?? (await freePort());
  return docker.runHttpContainer({ ...options, name, port, labels: { ...hostRouterLabels(service, host, port), ...options.labels } });
}

/** Waits until Docker reports `status` for the container's HEALTHCHECK. */
export async function waitForHealth(docker: TestDocker, name: string, status: 'healthy' | 'unhealthy', timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => (await docker.inspect(name)).State.Health?.Status === status, {
    timeoutMs,
    intervalMs: 20,
    description: `container ${name} ${status}`,
  });
}

/** Follows the daemon's container events from now on, as Berth does, recording when each arrives. */
export async function watchContainerEvents(docker: TestDocker): Promise<EventWatch> {
  const stream = (await docker.client.getEvents({ filters: { type: ['container'] } })) as NodeJS.ReadableStream & { destroy(): void };
  const events: SeenEvent[] = [];
  const waiters: Array<{ match: (event: SeenEvent) => boolean; resolve: (event: SeenEvent) => void }> = [];
  let buffer = '';

  stream.on('data', (chunk: Buffer) => {
    const at = performance.now();
    buffer += chunk.toString();
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
      if (line === '') continue;
      const raw = JSON.parse(line) as { Action?: string; Actor?: { ID?: string }; id?: string };
      const event = { action: raw.Action ?? '', id: raw.Actor?.ID ?? raw.id ?? '', at };
      events.push(event);
      for (const waiter of waiters.splice(0)) {
        if (waiter.match(event)) waiter.resolve(event);
        else waiters.push(waiter);
      }
    }
  });

  return {
    events,
    next(match, timeoutMs = 10_000) {
      const seen = events.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching container event within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          match,
          resolve: (event) => {
            clearTimeout(timer);
            resolve(event);
          },
        });
      });
    },
    stop: () => stream.destroy(),
  };
}

/** Counts the "configuration applied" lines Berth logged so far, one per runtime rebuild. */
export function rebuildCount(berth: Pick<BerthProcess, 'logEntries'>): number {
  return berth.logEntries().filter((entry) => entry.msg === 'configuration applied').length;
}
