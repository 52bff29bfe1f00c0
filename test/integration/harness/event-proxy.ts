// A pass-through proxy in front of the private daemon's socket that can add events to the event
// streams it relays. The daemon sends `health_status` only when the health status changes, so a
// test that needs repeated identical health events (as a reconnect can deliver them) injects them
// here, while Berth still reads everything else from the real daemon.

import { mkdtempSync, rmSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';

const EVENTS_PATH = /^(\/v[\d.]+)?\/events(\?|$)/;

export class DockerEventProxy {
  readonly socketPath: string;
  readonly #dir: string;
  readonly #daemonSocket: string;
  readonly #server: http.Server;
  readonly #eventStreams = new Set<ServerResponse>();

  private constructor(daemonSocket: string) {
    this.#dir = mkdtempSync('/tmp/berth-events-');
    this.socketPath = join(this.#dir, 'docker.sock');
    this.#daemonSocket = daemonSocket;
    this.#server = http.createServer((request, response) => this.#relay(request, response));
  }

  /** Listens on a new unix socket under /tmp and relays every request to `daemonSocket`. */
  static async start(daemonSocket: string): Promise<DockerEventProxy> {
    const proxy = new DockerEventProxy(daemonSocket);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(proxy.socketPath, () => resolve());
    });
    return proxy;
  }

  /** Number of event streams open through the proxy, which is 1 while Berth is connected. */
  get openStreams(): number {
    return this.#eventStreams.size;
  }

  /** Writes `event` as one JSON line to every open event stream; returns how many streams got it. */
  inject(event: Record<string, unknown>): number {
    const line = `${JSON.stringify(event)}\n`;
    for (const stream of this.#eventStreams) stream.write(line);
    return this.#eventStreams.size;
  }

  async close(): Promise<void> {
    for (const stream of this.#eventStreams) stream.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #relay(request: IncomingMessage, response: ServerResponse): void {
    const upstream = http.request({ socketPath: this.#daemonSocket, method: request.method, path: request.url, headers: request.headers }, (reply) => {
      response.writeHead(reply.statusCode ?? 502, reply.headers);
      if (EVENTS_PATH.test(request.url ?? '')) {
        this.#eventStreams.add(response);
        response.on('close', () => this.#eventStreams.delete(response));
      }
      reply.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    response.on('close', () => upstream.destroy());
    request.pipe(upstream);
  }
}
