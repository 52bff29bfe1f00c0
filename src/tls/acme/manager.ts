// The certificate manager: starts one worker per ACME certificate resolver, feeds them the
// certificates that the current routers ask for, and reports their state to the API.
//
// Runtime changes arrive in bursts (a compose project starting), so they are debounced, and only
// the last runtime of a burst is read.

import type { AcmeResolverConfig } from '../../config/index.js';
import type { Logger } from '../../observability/logger.js';
import type { Runtime } from '../../routing/runtime.js';
import type { CertificateStore } from '../types.js';
import { configureAcmeHttp, extraCaCertificates } from './acme-http.js';
import { wantedCertificates } from './domains.js';
import { CHECK_INTERVAL_MS, RETRY_BASE_MS, RETRY_MAX_MS } from './renewal.js';
import { AcmeResolver, type ResolverStatus, type ResolverTiming } from './resolver.js';
import { StorageFile } from './storage.js';

export { challengeResponder } from './http01.js';
export type { ResolverStatus } from './resolver.js';

export interface CertificateManagerOptions {
  resolvers: readonly AcmeResolverConfig[];
  store: CertificateStore;
  logger: Logger;
  /** Environment to read DNS provider credentials and `LEGO_CA_CERTIFICATES` from; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** PEM certificates of CAs to trust for the ACME server, besides the system's. */
  caCertificates?: readonly string[];
  /** Shorter timings for tests. */
  timing?: Partial<ResolverTiming>;
  /** Quiet time after a runtime change before the routers are read, in milliseconds. */
  debounceMs?: number;
}

const DEFAULT_DEBOUNCE_MS = 500;

export class CertificateManager {
  readonly #options: CertificateManagerOptions;
  readonly #logger: Logger;
  readonly #resolvers: AcmeResolver[] = [];
  #started = false;
  #latest: Runtime | undefined;
  #debounce: NodeJS.Timeout | undefined;

  constructor(options: CertificateManagerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ module: 'acme' });
  }

  /** Loads every storage file, serves the stored certificates, and checks DNS credentials. Never rejects for a resolver's problem. */
  async start(): Promise<void> {
    const env = this.#options.env ?? process.env;
    configureAcmeHttp([...extraCaCertificates(env), ...(this.#options.caCertificates ?? [])]);

    const timing: ResolverTiming = {
      checkIntervalMs: CHECK_INTERVAL_MS,
      retryBaseMs: RETRY_BASE_MS,
      retryMaxMs: RETRY_MAX_MS,
      ...this.#options.timing,
    };

    // Resolvers that name the same file share one StorageFile, so their writes are queued together.
    const files = new Map<string, StorageFile>();
    for (const config of this.#options.resolvers) {
      let storage = files.get(config.storage);
      if (storage === undefined) {
        storage = new StorageFile(config.storage);
        await storage.load();
        if (storage.problem !== undefined) this.#logger.error({ problem: storage.problem.message }, 'ACME storage unusable; no certificate is ordered until it is fixed');
        files.set(config.storage, storage);
      }
      this.#resolvers.push(new AcmeResolver({ config, storage, store: this.#options.store, logger: this.#logger, env, timing }));
    }

    await Promise.all(this.#resolvers.map((resolver) => resolver.start()));
    this.#started = true;
    if (this.#latest !== undefined) this.#apply();
  }

  /** Receives every new runtime; the routers are read after the debounce time. */
  onRuntime(runtime: Runtime): void {
    this.#latest = runtime;
    if (!this.#started) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.#apply(), this.#options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    this.#debounce.unref();
  }

  /** Returns the state of every resolver for the API, without keys or credentials. */
  status(): ResolverStatus[] {
    const now = Date.now();
    return this.#resolvers.map((resolver) => resolver.status(now));
  }

  stop(): void {
    clearTimeout(this.#debounce);
    for (const resolver of this.#resolvers) resolver.stop();
  }

  #apply(): void {
    const runtime = this.#latest;
    if (runtime === undefined) return;
    for (const resolver of this.#resolvers) {
      const { wanted, problems } = wantedCertificates(runtime, resolver.name, resolver.challenge);
      resolver.setWanted(
        wanted,
        problems.map((problem) => problem.message),
      );
    }
  }
}
