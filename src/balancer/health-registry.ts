// The long-lived home of server health, keyed by service name and server URL. The runtime is
// rebuilt and swapped on every configuration change, and each rebuild gets the state of its
// servers from here. So check results, passive failure windows and requests in flight carry over,
// a check whose settings did not change keeps running, and the checks of servers that left the
// configuration stop.
import type { Logger } from '../observability/logger.js';
import { Fields } from '../observability/fields.js';
import { redactServerUrl } from '../observability/redact.js';
import { ActiveHealthCheck } from './health-check.js';
import type { ActiveCheckOptions } from './health-options.js';
import { createHttpHealthProbe, type HealthProbe } from './health-probe.js';
import { ServerHealth, type HealthChange, type PassivePolicy } from './server-health.js';

/** One server of one service in a new configuration, with the health settings of its service. */
export interface HealthTarget {
  service: string;
  url: string;
  target: URL;
  active?: ActiveCheckOptions;
  passive?: PassivePolicy;
}

export interface HealthRegistryOptions {
  logger: Logger;
  /** Sends the active checks; an undici-based probe by default. */
  probe?: HealthProbe;
  /** Monotonic clock in milliseconds, for the passive windows; `performance.now` by default. */
  now?: () => number;
}

interface Entry {
  health: ServerHealth;
  check?: ActiveHealthCheck;
  /** The target and options the running check was started with, as JSON, to notice a change. */
  checkKey: string;
}

export class HealthRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #logger: Logger;
  readonly #probe: HealthProbe;
  readonly #closeProbe: () => Promise<void>;
  readonly #now: (() => number) | undefined;

  constructor(options: HealthRegistryOptions) {
    this.#logger = options.logger.child({ [Fields.module]: 'health' });
    this.#now = options.now;
    if (options.probe !== undefined) {
      this.#probe = options.probe;
      this.#closeProbe = async () => undefined;
    } else {
      const http = createHttpHealthProbe();
      this.#probe = http.probe;
      this.#closeProbe = http.close;
    }
  }

  /**
   * Makes the registry match a new configuration and returns the state of each target, in order.
   * Servers missing from `targets` are forgotten and their checks stop. Requests still running on
   * an older runtime keep the state object they hold.
   */
  apply(targets: readonly HealthTarget[]): ServerHealth[] {
    const seen = new Set<string>();
    const result: ServerHealth[] = [];

    for (const target of targets) {
      const key = entryKey(target.service, target.url);
      let entry = this.#entries.get(key);
      if (entry === undefined) {
        const options = { onChange: (change: HealthChange) => this.#logChange(change), ...(this.#now ? { now: this.#now } : {}) };
        entry = { health: new ServerHealth(target.service, target.url, options), checkKey: '' };
        this.#entries.set(key, entry);
      }
      result.push(entry.health);
      if (seen.has(key)) continue;
      seen.add(key);

      entry.health.setPassivePolicy(target.passive);
      this.#updateCheck(entry, target);
    }

    for (const [key, entry] of this.#entries) {
      if (seen.has(key)) continue;
      void entry.check?.stop();
      entry.health.dispose();
      this.#entries.delete(key);
    }
    return result;
  }

  /** Returns the state of a server of the current configuration, or undefined. */
  get(service: string, url: string): ServerHealth | undefined {
    return this.#entries.get(entryKey(service, url))?.health;
  }

  /** Stops every check and closes their connections. */
  async close(): Promise<void> {
    const checks = [...this.#entries.values()].map((entry) => entry.check?.stop());
    for (const entry of this.#entries.values()) entry.health.dispose();
    this.#entries.clear();
    await Promise.all(checks);
    await this.#closeProbe();
  }

  #updateCheck(entry: Entry, target: HealthTarget): void {
    const checkKey = target.active === undefined ? '' : JSON.stringify([target.target.href, target.active]);
    if (checkKey === entry.checkKey) return;

    void entry.check?.stop();
    delete entry.check;
    entry.checkKey = checkKey;
    if (target.active === undefined) {
      // Without a check nothing would ever bring the server back, so it returns now.
      entry.health.recordCheck(true, 'the health check was removed');
      return;
    }
    entry.check = new ActiveHealthCheck(target.target, target.active, entry.health, this.#probe);
    entry.check.start();
  }

  #logChange(change: HealthChange): void {
    const fields = { [Fields.service]: change.service, [Fields.server]: redactServerUrl(change.url), [Fields.reason]: change.reason };
    if (change.available) this.#logger.info(fields, 'server is back in rotation');
    else this.#logger.info(fields, 'server left rotation');
  }
}

function entryKey(service: string, url: string): string {
  return `${service}\u0000${url}`;
}
