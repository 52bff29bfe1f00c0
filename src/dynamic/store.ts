// Keeps the latest configuration of every provider and rebuilds the runtime when one changes.
import type { Logger } from '../observability/logger.js';
import { Fields } from '../observability/fields.js';
import type { HealthRegistry } from '../balancer/health-registry.js';
import { buildRuntime, type Runtime } from '../routing/runtime.js';
import { mergeProviders } from './merged.js';
import { emptyProviderConfig, type ProviderConfig, type RouterTlsConfig } from './model.js';

export interface ConfigurationStoreOptions {
  entryPoints: string[];
  logger: Logger;
  /** Long-lived server health that every runtime this store builds shares. */
  health?: HealthRegistry;
  /** The `http.tls` settings of the entry points that have them, whose routers are all TLS routers. */
  entryPointTls?: ReadonlyMap<string, RouterTlsConfig>;
  /** Receives every new runtime; the entry points swap to it. */
  onRuntime: (runtime: Runtime) => void;
}

export class ConfigurationStore {
  readonly #providers = new Map<string, ProviderConfig>();
  readonly #options: ConfigurationStoreOptions;
  readonly #logger: Logger;
  #generation = 0;
  /** Problems already logged, so each is logged once and not again on every rebuild. */
  #loggedProblems = new Set<string>();

  constructor(options: ConfigurationStoreOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ [Fields.module]: 'configuration' });
  }

  /** Builds the runtime for no configuration, for the time before any provider reports. */
  initialRuntime(): Runtime {
    return buildRuntime(mergeProviders(new Map([['docker', emptyProviderConfig()]])), {
      entryPoints: this.#options.entryPoints,
      generation: 0,
      ...(this.#options.entryPointTls ? { entryPointTls: this.#options.entryPointTls } : {}),
    });
  }

  /** Replaces one provider's configuration and applies the result. */
  update(provider: string, config: ProviderConfig): Runtime {
    this.#providers.set(provider, config);
    const runtime = buildRuntime(mergeProviders(this.#providers), {
      entryPoints: this.#options.entryPoints,
      generation: ++this.#generation,
      ...(this.#options.health ? { health: this.#options.health } : {}),
      logger: this.#options.logger,
      ...(this.#options.entryPointTls ? { entryPointTls: this.#options.entryPointTls } : {}),
    });
    this.#logProblems(runtime);
    this.#options.onRuntime(runtime);

    const { routers, services, middlewares, skipped } = runtime.config;
    const disabled = [...routers.values()].filter((router) => router.errors.length > 0).length;
    this.#logger.info(
      { [Fields.provider]: provider, [Fields.counts]: { routers: routers.size, routersDisabled: disabled, services: services.size, middlewares: middlewares.size, containersSkipped: skipped.length } },
      'configuration applied',
    );
    return runtime;
  }

  #logProblems(runtime: Runtime): void {
    const current = new Set<string>();
    const kinds = [
      ['router', runtime.config.routers, Fields.router],
      ['service', runtime.config.services, Fields.service],
      ['middleware', runtime.config.middlewares, Fields.middleware],
      ['TLS options', runtime.config.tlsOptions, Fields.tlsOptions],
    ] as const;

    for (const [kind, items, field] of kinds) {
      for (const item of items.values()) {
        const origin = item.sources.map((source) => source.origin).join(', ');
        for (const error of item.errors) {
          const key = `${kind}\0${item.name}\0error\0${error}`;
          current.add(key);
          if (!this.#loggedProblems.has(key)) this.#logger.warn({ [field]: item.name, [Fields.container]: origin, [Fields.problem]: error }, `${kind} disabled`);
        }
        for (const warning of item.warnings) {
          const key = `${kind}\0${item.name}\0warning\0${warning}`;
          current.add(key);
          if (!this.#loggedProblems.has(key)) this.#logger.warn({ [field]: item.name, [Fields.container]: origin, [Fields.problem]: warning }, `${kind} has a warning`);
        }
      }
    }
    this.#loggedProblems = current;
  }
}
