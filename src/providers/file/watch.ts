// Change notification for the file provider. Directories are watched rather than files, because
// editors and Kubernetes config map volumes replace a file by renaming another over it, after
// which a watch on the old file reports nothing. Any change in a watched directory triggers one
// reload after a short quiet period; the reload itself finds out whether anything changed.
import { watch, type FSWatcher } from 'node:fs';

import type { Logger } from '../../observability/logger.js';
import { Fields } from '../../observability/fields.js';

export interface DirectoryWatcherOptions {
  /** Called once after a burst of changes. */
  onChange: () => void;
  logger: Logger;
  /** Quiet time after the last change before `onChange`, in milliseconds. */
  debounceMs: number;
  /** Maximum delay from the first change of a burst to `onChange`, so constant writes cannot postpone it forever. */
  maxDelayMs: number;
  /** How often to try again to watch a directory that does not exist yet, in milliseconds. */
  retryMs: number;
}

export class DirectoryWatcher {
  readonly #options: DirectoryWatcherOptions;
  readonly #watchers = new Map<string, FSWatcher>();
  #missing = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #burstStartedAt: number | undefined;
  #closed = false;

  constructor(options: DirectoryWatcherOptions) {
    this.#options = options;
  }

  /** Watches exactly `directories` from now on: new ones are added and the others are closed. */
  update(directories: Iterable<string>): void {
    if (this.#closed) return;
    const targets = new Set(directories);
    for (const [directory, watcher] of this.#watchers) {
      if (targets.has(directory)) continue;
      watcher.close();
      this.#watchers.delete(directory);
    }

    const missing = new Set<string>();
    for (const directory of targets) {
      if (this.#watchers.has(directory)) continue;
      try {
        const watcher = watch(directory, { persistent: false }, () => this.#changed());
        watcher.on('error', (error) => this.#failed(directory, error));
        this.#watchers.set(directory, watcher);
      } catch (error) {
        if (!this.#missing.has(directory)) {
          this.#options.logger.warn({ err: error, [Fields.path]: directory, [Fields.delayMs]: this.#options.retryMs }, 'watching directory failed, retrying until it exists');
        }
        missing.add(directory);
      }
    }
    this.#missing = missing;
    this.#scheduleRetry();
  }

  /** Directories watched now, for the provider's status. */
  get watched(): string[] {
    return [...this.#watchers.keys()].sort();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#retryTimer);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }

  #changed(): void {
    if (this.#closed) return;
    const now = Date.now();
    this.#burstStartedAt ??= now;
    const remaining = this.#options.maxDelayMs - (now - this.#burstStartedAt);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        this.#burstStartedAt = undefined;
        this.#options.onChange();
      },
      Math.max(0, Math.min(this.#options.debounceMs, remaining)),
    );
  }

  /** Handles a watch that failed, as when its directory is removed. The reload it triggers watches the directory again once it is back. */
  #failed(directory: string, error: Error): void {
    this.#options.logger.warn({ err: error, [Fields.path]: directory }, 'watching directory failed');
    this.#watchers.get(directory)?.close();
    this.#watchers.delete(directory);
    this.#missing.add(directory);
    this.#scheduleRetry();
    this.#changed();
  }

  #scheduleRetry(): void {
    if (this.#missing.size === 0 || this.#retryTimer !== undefined || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#options.onChange();
    }, this.#options.retryMs);
    this.#retryTimer.unref();
  }
}
