// Turns the runtime into the JSON shapes of Traefik's API, so tools written for Traefik's API
// can read Berth's. Secrets in middleware options and passwords in server URLs never leave this module.
import type { MergedMiddleware, MergedRouter, MergedService, MergedTlsOptions } from '../dynamic/merged.js';
import { itemStatus, type RouterTlsConfig, type HealthCheckConfig, type PassiveHealthCheckConfig, type StickyCookieConfig } from '../dynamic/model.js';
import { REDACTED, redactServerUrl, redactUrl } from '../observability/redact.js';
import type { Runtime } from '../routing/runtime.js';

export interface RouterJson {
  name: string;
  provider: string;
  rule: string;
  ruleSyntax?: string;
  service: string;
  entryPoints: string[];
  middlewares?: string[];
  priority: number;
  status: 'enabled' | 'warning' | 'disabled';
  using: string[];
  /** The TLS settings the router uses, for a router that serves TLS requests. */
  tls?: RouterTlsConfig;
  error?: string[];
  warning?: string[];
  sources: string[];
}

/** One TLS options item as configured, with its status. Traefik's API has no such list, so this shape is Berth's own. */
export interface TlsOptionsJson {
  name: string;
  provider: string;
  status: 'enabled' | 'warning' | 'disabled';
  minVersion?: string;
  maxVersion?: string;
  cipherSuites?: string[];
  curvePreferences?: string[];
  sniStrict?: boolean;
  alpnProtocols?: string[];
  error?: string[];
  warning?: string[];
  sources: string[];
}

export interface ServiceJson {
  name: string;
  provider: string;
  type: 'loadbalancer';
  status: 'enabled' | 'warning' | 'disabled';
  loadBalancer: {
    servers: Array<{ url: string; weight?: number }>;
    passHostHeader: boolean;
    strategy?: string;
    healthCheck?: HealthCheckConfig;
    passiveHealthCheck?: PassiveHealthCheckConfig;
    sticky?: { cookie: StickyCookieConfig };
  };
  serverStatus: Record<string, 'UP' | 'DOWN'>;
  usedBy: string[];
  error?: string[];
  warning?: string[];
  sources: string[];
}

export interface MiddlewareJson {
  name: string;
  provider: string;
  type: string;
  status: 'enabled' | 'warning' | 'disabled';
  usedBy: string[];
  error?: string[];
  warning?: string[];
  [type: string]: unknown;
}

/** Option names whose values are secrets: they are replaced before any option is shown. */
const SECRET_OPTION = /(users|password|secret|token|key|credential|authorization)/i;

export function routerJson(runtime: Runtime, router: MergedRouter): RouterJson {
  const view = runtime.routerViews.get(router.name);
  const json: RouterJson = {
    name: router.name,
    provider: router.provider,
    rule: router.rule,
    service: router.service,
    entryPoints: view?.entryPoints ?? router.entryPoints,
    priority: view?.priority ?? 0,
    status: itemStatus(router),
    using: view?.entryPoints ?? [],
    sources: router.sources.map((source) => source.origin),
  };
  if (router.ruleSyntax) json.ruleSyntax = router.ruleSyntax;
  if (view?.tls) json.tls = view.tls;
  if (router.middlewares.length > 0) json.middlewares = router.middlewares;
  if (router.errors.length > 0) json.error = router.errors;
  if (router.warnings.length > 0) json.warning = router.warnings;
  return json;
}

export function serviceJson(runtime: Runtime, service: MergedService): ServiceJson {
  const running = runtime.services.get(service.name);
  // A server is UP while the running service has it and its health checks pass. The keys are the
  // redacted URLs, as in `servers`, so a client can look a server up by the URL it was shown.
  const serverStatus: Record<string, 'UP' | 'DOWN'> = {};
  for (const server of service.loadBalancer.servers) {
    serverStatus[redactServerUrl(server.url)] = running?.servers.find((item) => item.url === server.url)?.health.status ?? 'DOWN';
  }

  const json: ServiceJson = {
    name: service.name,
    provider: service.provider,
    type: 'loadbalancer',
    status: itemStatus(service),
    loadBalancer: {
      servers: service.loadBalancer.servers.map((server) => {
        const url = redactServerUrl(server.url);
        return server.weight === 1 ? { url } : { url, weight: server.weight };
      }),
      passHostHeader: service.loadBalancer.passHostHeader,
      ...balancingJson(service),
    },
    serverStatus,
    usedBy: usedBy(runtime, (router) => router.service === service.name),
    sources: service.sources.map((source) => source.origin),
  };
  if (service.errors.length > 0) json.error = service.errors;
  if (service.warnings.length > 0) json.warning = service.warnings;
  return json;
}

export function middlewareJson(runtime: Runtime, middleware: MergedMiddleware): MiddlewareJson {
  const json: MiddlewareJson = {
    name: middleware.name,
    provider: middleware.provider,
    type: middleware.type,
    status: itemStatus(middleware),
    usedBy: usedBy(runtime, (router) => router.middlewares.includes(middleware.name)),
    [middleware.type]: redactSecrets(middleware.options),
  };
  if (middleware.errors.length > 0) json.error = middleware.errors;
  if (middleware.warnings.length > 0) json.warning = middleware.warnings;
  return json;
}

/** Returns the strategy, health check and sticky settings that are set, as configured. */
function balancingJson(service: MergedService): Partial<ServiceJson['loadBalancer']> {
  const { strategy, healthCheck, passiveHealthCheck, sticky } = service.loadBalancer;
  const json: Partial<ServiceJson['loadBalancer']> = {};
  if (strategy !== undefined) json.strategy = strategy;
  // Check headers may carry credentials, such as an Authorization header.
  if (healthCheck !== undefined) json.healthCheck = redactSecrets(healthCheck) as HealthCheckConfig;
  if (passiveHealthCheck !== undefined) json.passiveHealthCheck = passiveHealthCheck;
  if (sticky !== undefined) json.sticky = sticky;
  return json;
}

export function tlsOptionsJson(options: MergedTlsOptions): TlsOptionsJson {
  const json: TlsOptionsJson = { name: options.name, provider: options.provider, status: itemStatus(options), sources: options.sources.map((source) => source.origin) };
  if (options.minVersion !== undefined) json.minVersion = options.minVersion;
  if (options.maxVersion !== undefined) json.maxVersion = options.maxVersion;
  if (options.cipherSuites !== undefined) json.cipherSuites = options.cipherSuites;
  if (options.curvePreferences !== undefined) json.curvePreferences = options.curvePreferences;
  if (options.sniStrict !== undefined) json.sniStrict = options.sniStrict;
  if (options.alpnProtocols !== undefined) json.alpnProtocols = options.alpnProtocols;
  if (options.errors.length > 0) json.error = options.errors;
  if (options.warnings.length > 0) json.warning = options.warnings;
  return json;
}

function usedBy(runtime: Runtime, uses: (router: MergedRouter) => boolean): string[] {
  return [...runtime.config.routers.values()].filter(uses).map((router) => router.name).sort();
}

/** Copies options, replacing every value under a secret-looking name with a fixed marker. */
export function redactSecrets(value: unknown, name = ''): unknown {
  if (SECRET_OPTION.test(name)) return REDACTED;
  // A URL can carry a password (`http://user:secret@auth:9000`), as a forwardauth address may.
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, name));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactSecrets(item, key)]));
  }
  return value;
}

interface Counts {
  total: number;
  warnings: number;
  errors: number;
}

function count(items: Iterable<{ errors: string[]; warnings: string[] }>): Counts {
  const counts: Counts = { total: 0, warnings: 0, errors: 0 };
  for (const item of items) {
    counts.total++;
    if (item.errors.length > 0) counts.errors++;
    else if (item.warnings.length > 0) counts.warnings++;
  }
  return counts;
}

export function overviewJson(runtime: Runtime, providers: Record<string, unknown>): Record<string, unknown> {
  const empty = { total: 0, warnings: 0, errors: 0 };
  return {
    http: {
      routers: count(runtime.config.routers.values()),
      services: count(runtime.config.services.values()),
      middlewares: count(runtime.config.middlewares.values()),
    },
    tcp: { routers: empty, services: empty, middlewares: empty },
    udp: { routers: empty, services: empty },
    features: { tracing: '', metrics: '', accessLog: false },
    providers: Object.keys(providers).map((name) => name.charAt(0).toUpperCase() + name.slice(1)),
    providerStatus: providers,
    skippedContainers: runtime.config.skipped.length,
  };
}
