// Merges the configuration of every provider into one namespace of `name@provider` items and
// resolves references between them, recording each broken reference on the item that makes it.
import { runToEnd, type Steps } from './steps.js';
import type { ItemSource, MiddlewareConfig, ProviderConfig, RouterConfig, ServiceConfig, SkippedContainer, TlsOptionsConfig } from './model.js';
import { quoteValue } from '../quote.js';

export interface MergedRouter extends RouterConfig {
  name: string;
  provider: string;
}

export interface MergedService extends ServiceConfig {
  name: string;
  provider: string;
}

export interface MergedMiddleware extends MiddlewareConfig {
  name: string;
  provider: string;
}

export interface MergedTlsOptions extends TlsOptionsConfig {
  name: string;
  provider: string;
}

export interface MergedConfig {
  routers: Map<string, MergedRouter>;
  services: Map<string, MergedService>;
  middlewares: Map<string, MergedMiddleware>;
  /** TLS options by name: `default` without a provider suffix, the others as `name@provider`. */
  tlsOptions: Map<string, MergedTlsOptions>;
  skipped: Array<SkippedContainer & { provider: string }>;
}

/** Name of the TLS options that routers without `tls.options` use, which is never qualified. */
export const DEFAULT_TLS_OPTIONS_NAME = 'default';

/** Returns `name@provider`, keeping a provider suffix the reference already carries. */
export function qualifyName(name: string, provider: string): string {
  return name.includes('@') ? name : `${name}@${provider}`;
}

/**
 * Merges provider configurations. Items are deep-copied, so the caller may add diagnostics to the
 * result without touching the providers' snapshots. Router references get qualified names.
 */
export function mergeProviders(configs: ReadonlyMap<string, ProviderConfig>): MergedConfig {
  return runToEnd(mergeProvidersSteps(configs));
}

/** Steps of `mergeProviders`, with a pause point after every item. */
export function* mergeProvidersSteps(configs: ReadonlyMap<string, ProviderConfig>): Steps<MergedConfig> {
  const merged: MergedConfig = { routers: new Map(), services: new Map(), middlewares: new Map(), tlsOptions: new Map(), skipped: [] };
  const providers = [...configs.keys()].sort();

  for (const provider of providers) {
    const config = configs.get(provider);
    if (!config) continue;

    for (const [name, router] of sortedEntries(config.routers)) {
      const copy = clonePlain(router);
      copy.service = copy.service === '' ? '' : qualifyName(copy.service, provider);
      copy.middlewares = copy.middlewares.map((middleware) => qualifyName(middleware, provider));
      if (copy.tls?.options !== undefined && copy.tls.options !== DEFAULT_TLS_OPTIONS_NAME) copy.tls.options = qualifyName(copy.tls.options, provider);
      merged.routers.set(`${name}@${provider}`, { ...copy, name: `${name}@${provider}`, provider });
      yield;
    }
    for (const [name, service] of sortedEntries(config.services)) {
      merged.services.set(`${name}@${provider}`, { ...clonePlain(service), name: `${name}@${provider}`, provider });
      yield;
    }
    for (const [name, middleware] of sortedEntries(config.middlewares)) {
      merged.middlewares.set(`${name}@${provider}`, { ...clonePlain(middleware), name: `${name}@${provider}`, provider });
      yield;
    }
    for (const [name, options] of sortedEntries(config.tlsOptions ?? {})) {
      mergeTlsOptions(merged, name, options, provider);
    }
    for (const skipped of config.skipped) merged.skipped.push({ ...skipped, provider });
  }

  return merged;
}

/**
 * Adds one provider's TLS options. Like Traefik, `default` keeps its name so that it replaces the
 * built-in default. A `default` from two providers leaves one item with an error that names both,
 * because neither can be preferred, so routers that use the default options are disabled.
 */
function mergeTlsOptions(merged: MergedConfig, name: string, options: TlsOptionsConfig, provider: string): void {
  const qualified = name === DEFAULT_TLS_OPTIONS_NAME ? name : `${name}@${provider}`;
  const item: MergedTlsOptions = { ...clonePlain(options), name: qualified, provider };
  const existing = merged.tlsOptions.get(qualified);
  if (existing) {
    // The item that stays in the map carries both sources, so the API shows where each came from.
    item.errors.push(`TLS options "default" are defined by providers ${existing.provider} and ${provider}; define them in one provider only`);
    item.sources = [...existing.sources, ...item.sources];
  }
  merged.tlsOptions.set(qualified, item);
}

/**
 * Records on each router the services and middlewares it names that are missing or disabled.
 * Call it after services and middlewares got all their own errors, so a router inherits them.
 */
export function resolveReferences(merged: MergedConfig): void {
  for (const router of merged.routers.values()) {
    if (router.service === '') {
      if (router.errors.length === 0) router.errors.push(withOrigin(router, 'the router has no service: set the service label of this router'));
    } else {
      const service = merged.services.get(router.service);
      if (!service) {
        router.errors.push(withOrigin(router, `service ${quoteValue(router.service)} does not exist; define it or point the router at one of: ${listNames(merged.services)}`));
      } else if (service.errors.length > 0) {
        router.errors.push(`service "${router.service}" is disabled: ${service.errors[0]}`);
      }
    }

    for (const name of router.middlewares) {
      const middleware = merged.middlewares.get(name);
      if (!middleware) {
        router.errors.push(withOrigin(router, `middleware ${quoteValue(name)} does not exist; define it or remove it from the router's middlewares`));
      } else if (middleware.errors.length > 0) {
        router.errors.push(`middleware ${quoteValue(name)} is disabled: ${middleware.errors[0]}`);
      }
    }
  }
}

/**
 * Prefixes `message` with where the item came from (such as `container web-1`), so an error found
 * after the provider built the item still names its source.
 */
export function withOrigin(item: { sources: ItemSource[] }, message: string): string {
  const origin = item.sources.map((source) => source.origin).join(', ');
  return origin === '' || message.startsWith(origin) ? message : `${origin}: ${message}`;
}

function listNames(items: Map<string, unknown>): string {
  const names = [...items.keys()].sort();
  if (names.length === 0) return '(none defined)';
  return names.slice(0, 5).join(', ') + (names.length > 5 ? ', ...' : '');
}

/**
 * Deep-copies configuration data. Provider items are plain objects, arrays and primitives, which
 * this copies in a fraction of the time structuredClone takes. Anything else, such as a Date from
 * a YAML file, goes through structuredClone so the copy is the same.
 */
function clonePlain<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item: unknown) => clonePlain(item)) as T;

  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return structuredClone(value);
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    // Assigning `__proto__` would set the prototype, so a label-chosen name like that is defined instead.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: clonePlain(inner), enumerable: true, writable: true, configurable: true });
    else copy[key] = clonePlain(inner);
  }
  return copy as T;
}

function sortedEntries<T>(record: Record<string, T>): Array<[string, T]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
