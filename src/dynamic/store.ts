// Keeps the latest configuration of every provider and rebuilds the runtime when one changes.
import type { Logger } from '../observability/logger.js';
import { Fields } from '../observability/fields.js';
import type { HealthRegistry } from '../balancer/health-registry.js';
import { RuleCache } from '../routing/rule-cache.js';
import { buildRuntime, buildRuntimeSteps, type BuildOptions, type Runtime } from '../routing/runtime.js';
import { mergeProviders, mergeProvidersSteps } from './merged.js';
import { runInSlices, runToEnd, type Steps } from './steps.js';
import type { EntryPointRedirectionConfig } from '../config/types.js';
import { emptyProviderConfig, type ItemSource, type ProviderConfig, type RouterTlsConfig } from './model.js';
import type { ChallengeType } from '../tls/acme/domains.js';

export interface ConfigurationStoreOptions {
  entryPoints: string[];
  logger: Logger;
  /** Long-lived server health that every runtime this store builds shares. */
  health?: HealthRegistry;
  /** The `http.tls` settings of the entry points that have them, whose routers are all TLS routers. */
  entryPointTls?: ReadonlyMap<string, RouterTlsConfig>;
  /** The `http.redirections.entryPoint` settings of the entry points that redirect plain HTTP requests. */
  entryPointRedirections?: ReadonlyMap<string, EntryPointRedirectionConfig>;
  /** Names of the configured certificate resolvers, in lower case. A router that names another gets a warning. */
  certResolvers?: readonly string[];
  /** Challenge type of each configured resolver, by lower-case name, for the certificate warnings on routers. */
  certResolverChallenges?: ReadonlyMap<string, ChallengeType>;
  /** Receives every new runtime; the entry points swap to it. */
  onRuntime: (runtime: Runtime) => void;
}

/**
 * Time, in milliseconds, after which a rebuild started by `submit` pauses so that requests get a
 * turn. Shorter slices lower the stall and make the rebuild take longer overall.
 */
const REBUILD_SLICE_MS = 10;

export class ConfigurationStore {
  readonly #providers = new Map<string, ProviderConfig>();
  readonly #options: ConfigurationStoreOptions;
  readonly #logger: Logger;
  #generation = 0;
  readonly #ruleCache = new RuleCache();
  /** Providers submitted since the last applied rebuild, for the log line. */
  readonly #submitted = new Set<string>();
  /** The running rebuild loop of `submit`, or undefined when idle. */
  #rebuilding: Promise<void> | undefined;
  #rebuildAgain = false;
  /** Problems already logged, so each is logged once and not again on every rebuild. */
  #loggedProblems = new Set<string>();
  /** Skipped containers already logged, by provider, id and reason, so each is logged again only when its reason changes. */
  #loggedSkips = new Set<string>();

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
      ...(this.#options.entryPointRedirections ? { entryPointRedirections: this.#options.entryPointRedirections } : {}),
    });
  }

  /** Replaces one provider's configuration and applies the result before returning. */
  update(provider: string, config: ProviderConfig): Runtime {
    this.#providers.set(provider, config);
    this.#submitted.add(provider);
    // A rebuild of `submit` that is still running finds the newer generation at its next pause and stops.
    const runtime = runToEnd(this.#rebuildSteps(++this.#generation));
    this.#apply(runtime);
    return runtime;
  }

  /**
   * Replaces one provider's configuration and rebuilds in the background: the rebuild runs in
   * slices between which requests are served by the current runtime, which is swapped only when
   * the new one is complete. Configurations submitted during a rebuild are applied together by
   * the next one.
   */
  submit(provider: string, config: ProviderConfig): void {
    this.#providers.set(provider, config);
    this.#submitted.add(provider);
    if (this.#rebuilding !== undefined) {
      this.#rebuildAgain = true;
      return;
    }
    this.#rebuilding = this.#rebuildLoop().finally(() => {
      this.#rebuilding = undefined;
    });
  }

  /** Resolves when no rebuild started by `submit` is running. */
  async settled(): Promise<void> {
    while (this.#rebuilding !== undefined) await this.#rebuilding;
  }

  async #rebuildLoop(): Promise<void> {
    do {
      this.#rebuildAgain = false;
      const generation = ++this.#generation;
      try {
        const result = await runInSlices(this.#rebuildSteps(generation), REBUILD_SLICE_MS, () => this.#generation !== generation);
        if (!result.stopped) this.#apply(result.value);
      } catch (error) {
        // Bad configuration is recorded on its items instead of thrown, so this is a bug. The current runtime stays.
        this.#logger.error({ err: error, [Fields.provider]: [...this.#submitted].sort().join(', ') }, 'configuration rebuild failed; serving the previous configuration');
      }
    } while (this.#rebuildAgain);
  }

  /** Builds the runtime of every provider's current configuration. */
  *#rebuildSteps(generation: number): Steps<Runtime> {
    const merged = yield* mergeProvidersSteps(new Map(this.#providers));
    const options: BuildOptions = {
      entryPoints: this.#options.entryPoints,
      generation,
      ...(this.#options.health ? { health: this.#options.health } : {}),
      logger: this.#options.logger,
      ...(this.#options.entryPointTls ? { entryPointTls: this.#options.entryPointTls } : {}),
      ...(this.#options.entryPointRedirections ? { entryPointRedirections: this.#options.entryPointRedirections } : {}),
      ...(this.#options.certResolvers ? { certResolvers: this.#options.certResolvers } : {}),
      ...(this.#options.certResolverChallenges ? { certResolverChallenges: this.#options.certResolverChallenges } : {}),
      ruleCache: this.#ruleCache,
    };
    return yield* buildRuntimeSteps(merged, options);
  }

  /** Logs the new runtime's problems and hands it to the entry points. */
  #apply(runtime: Runtime): void {
    this.#logProblems(runtime);
    this.#logSkipped(runtime);
    this.#options.onRuntime(runtime);

    const providers = [...this.#submitted].sort();
    this.#submitted.clear();
    const { routers, services, middlewares, skipped } = runtime.config;
    const disabled = [...routers.values()].filter((router) => router.errors.length > 0).length;
    this.#logger.info(
      { [Fields.provider]: providers.join(', '), [Fields.counts]: { routers: routers.size, routersDisabled: disabled, services: services.size, middlewares: middlewares.size, containersSkipped: skipped.length } },
      'configuration applied',
    );
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
        for (const error of item.errors) {
          const key = `${kind}\0${item.name}\0error\0${error}`;
          current.add(key);
          if (!this.#loggedProblems.has(key)) this.#logger.warn({ [field]: item.name, ...originFields(item.sources), [Fields.problem]: error }, `${kind} disabled`);
        }
        for (const warning of item.warnings) {
          const key = `${kind}\0${item.name}\0warning\0${warning}`;
          current.add(key);
          if (!this.#loggedProblems.has(key)) this.#logger.warn({ [field]: item.name, ...originFields(item.sources), [Fields.problem]: warning }, `${kind} has a warning`);
        }
      }
    }
    this.#loggedProblems = current;
  }

  /**
   * Logs containers skipped for an invalid label (warn) or for labels Berth does not support yet
   * (info). Normal skips, such as `enable=false` or a stopped container, have no severity and are
   * not logged. The label value is logged only where the provider recorded it as safe to show.
   */
  #logSkipped(runtime: Runtime): void {
    const current = new Set<string>();
    for (const skipped of runtime.config.skipped) {
      if (skipped.severity === undefined) continue;
      const key = `${skipped.provider}\0${skipped.id}\0${skipped.reason}`;
      current.add(key);
      if (this.#loggedSkips.has(key)) continue;

      const fields = {
        [Fields.provider]: skipped.provider,
        [Fields.container]: skipped.name === '' ? skipped.id.slice(0, 12) : skipped.name,
        [Fields.containerId]: skipped.id.slice(0, 12),
        [Fields.reason]: skipped.reason,
        ...(skipped.label === undefined ? {} : { [Fields.label]: skipped.label }),
        ...(skipped.value === undefined ? {} : { [Fields.labelValue]: skipped.value }),
      };
      if (skipped.severity === 'warning') this.#logger.warn(fields, 'container not routed because of an invalid label');
      else this.#logger.info(fields, 'container not routed because its labels are not supported yet');
    }
    this.#loggedSkips = current;
  }
}

/** Returns the log fields that name where an item came from: bare container names, or the origin text for other sources such as files. */
function originFields(sources: readonly ItemSource[]): Record<string, string> {
  const containers = sources.flatMap((source) => (source.container === undefined ? [] : [source.container]));
  const others = sources.flatMap((source) => (source.container === undefined ? [source.origin] : []));
  const fields: Record<string, string> = {};
  if (containers.length > 0) fields[Fields.container] = containers.join(', ');
  if (others.length > 0) fields[Fields.source] = others.join(', ');
  return fields;
}
