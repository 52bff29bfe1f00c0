// The active health check of one server: a request on a timer whose result takes the server out
// of rotation or puts it back. The first check runs at once; later ones follow `interval` while
// the server passes and `unhealthyInterval` while it fails. Until the first result the server is
// in rotation, as in Traefik.
import type { ActiveCheckOptions } from './health-options.js';
import type { HealthProbe } from './health-probe.js';
import type { ServerHealth } from './server-health.js';

export class ActiveHealthCheck {
  readonly #server: URL;
  readonly #options: ActiveCheckOptions;
  readonly #health: ServerHealth;
  readonly #probe: HealthProbe;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** The check in progress, so `stop` can wait for it. */
  #running: Promise<void> = Promise.resolve();

  constructor(server: URL, options: ActiveCheckOptions, health: ServerHealth, probe: HealthProbe) {
    this.#server = server;
    this.#options = options;
    this.#health = health;
    this.#probe = probe;
  }

  start(): void {
    this.#schedule(0);
  }

  /** Stops the timer. A check in progress finishes, and its result is dropped. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#checkOnce();
    }, delayMs);
    // Checks never keep the process alive on their own.
    this.#timer.unref();
  }

  async #checkOnce(): Promise<void> {
    const result = await this.#probe(this.#server, this.#options);
    if (this.#stopped) return;

    this.#health.recordCheck(result.passed, `health check ${result.passed ? 'passed' : 'failed'}: ${result.detail}`);
    this.#schedule(result.passed ? this.#options.intervalMs : this.#options.unhealthyIntervalMs);
  }
}
