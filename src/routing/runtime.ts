// Builds the immutable runtime from the merged dynamic configuration: compiled rules per entry
// point, services with their balancers, middleware chains. A change builds a new runtime; the
// entry points swap one reference to it, so requests in flight finish on the old one.
import { DEFAULT_TLS_OPTIONS_NAME, qualifyName, resolveReferences, withOrigin, type MergedConfig, type MergedMiddleware, type MergedRouter } from '../dynamic/merged.js';
import type { RouterTlsConfig } from '../dynamic/model.js';
import type { EntryPointRedirectionConfig } from '../config/types.js';
import { defaultPriority } from '../rules/index.js';
import { buildChains, isChain } from '../middlewares/chain.js';
import { createMiddleware } from '../middlewares/registry.js';
import type { Middleware, MiddlewareBuildContext } from '../middlewares/types.js';
import type { HealthRegistry } from '../balancer/health-registry.js';
import { Fields } from '../observability/fields.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { routerCertificateRequests, type ChallengeType } from '../tls/acme/domains.js';
import { DEFAULT_TLS_OPTIONS, resolveTlsOptions, type TlsOptions } from '../tls/options.js';
import { buildTlsOptionsSelector, type TlsOptionsSelector, type TlsRouterUse } from '../tls/options-by-host.js';
import { compileRouterRule, type RuleCache } from './rule-cache.js';
import { buildServicesSteps, type RuntimeService } from './services.js';
import { runToEnd, type Steps } from '../dynamic/steps.js';
import { RouteTable, type Route } from './table.js';
import { quoteValue } from '../quote.js';

export type { RuntimeServer, RuntimeService } from './services.js';

/** Router facts the API reports beyond the router's configuration. */
export interface RouterView {
  priority: number;
  entryPoints: string[];
  /**
   * The TLS settings the router uses: its own `tls`, else the `http.tls` of the first of its entry
   * points that has one. Undefined for a router that serves plain HTTP only.
   */
  tls?: RouterTlsConfig;
  /**
   * The TLS settings on each entry point where the router is a TLS router: its own `tls`, else that
   * entry point's `http.tls`. ACME resolvers order certificates from these, because Traefik v3 gives
   * each entry point's copy of such a router that entry point's TLS settings (`applyModel` in
   * pkg/server/aggregator.go).
   */
  tlsByEntryPoint: ReadonlyMap<string, RouterTlsConfig>;
}

export interface Runtime {
  readonly generation: number;
  readonly builtAt: Date;
  /** The configuration this runtime was built from, with every item's final diagnostics. */
  readonly config: MergedConfig;
  /** Routers for requests that came without TLS, by entry point. */
  readonly tables: ReadonlyMap<string, RouteTable>;
  /** Routers for requests that came over TLS, by entry point. */
  readonly tlsTables: ReadonlyMap<string, RouteTable>;
  /** Usable TLS options by name. `default` is always present unless its configuration is invalid. */
  readonly tlsOptions: ReadonlyMap<string, TlsOptions>;
  /** The TLS options of each server name, by entry point. */
  readonly tlsOptionsSelectors: ReadonlyMap<string, TlsOptionsSelector>;
  readonly services: ReadonlyMap<string, RuntimeService>;
  readonly middlewares: ReadonlyMap<string, Middleware>;
  readonly routerViews: ReadonlyMap<string, RouterView>;
  /** The `http.redirections.entryPoint` settings of the entry points that redirect plain HTTP requests. */
  readonly redirections: ReadonlyMap<string, EntryPointRedirectionConfig>;
}

export interface BuildOptions {
  /** Entry points that serve user routers (the internal one is excluded). */
  entryPoints: string[];
  /**
   * The `http.tls` settings of the entry points that have them. As in Traefik, every router on
   * such an entry point is a TLS router there, and one without its own `tls` uses these settings.
   */
  entryPointTls?: ReadonlyMap<string, RouterTlsConfig>;
  /**
   * The `http.redirections.entryPoint` settings of the entry points that have them. The runtime
   * only carries them, so that explain reports the redirect that the entry point sends.
   */
  entryPointRedirections?: ReadonlyMap<string, EntryPointRedirectionConfig>;
  generation: number;
  /**
   * Long-lived server health. Only the runtime that is about to serve passes it, because building
   * with it starts and stops health checks.
   */
  health?: HealthRegistry;
  /** Parent of each middleware's logger; nothing is logged without it. */
  logger?: Logger;
  /**
   * Names of the configured certificate resolvers, in lower case. A router that names another
   * resolver gets a warning. Undefined skips the check, for callers without a static configuration.
   */
  certResolvers?: readonly string[];
  /** Challenge type of each configured resolver, by lower-case name, which decides the wording and the checks of certificate warnings. */
  certResolverChallenges?: ReadonlyMap<string, ChallengeType>;
  /** Compiled rules of earlier builds, reused for rules whose text did not change. */
  ruleCache?: RuleCache;
}

/** Returns the routers of `entryPoint` for requests of `scheme`: TLS routers for https, the others for http. */
export function routeTableFor(runtime: Runtime, entryPoint: string, scheme: 'http' | 'https'): RouteTable | undefined {
  return (scheme === 'https' ? runtime.tlsTables : runtime.tables).get(entryPoint);
}

/** Compiles `config` into a runtime. Problems are recorded on the items; this never throws for bad input. */
export function buildRuntime(config: MergedConfig, options: BuildOptions): Runtime {
  return runToEnd(buildRuntimeSteps(config, options));
}

/**
 * Steps of `buildRuntime`, with a pause point after each service, middleware and router. Nothing
 * outside the new runtime changes, except the health registry in the step that builds services.
 */
export function* buildRuntimeSteps(config: MergedConfig, options: BuildOptions): Steps<Runtime> {
  const services = yield* buildServicesSteps(config, options.health);
  const middlewares = yield* buildMiddlewares(config, services, options.logger ?? silentLogger());
  const tlsOptions = buildTlsOptions(config);
  resolveReferences(config);

  const plainRoutes = new Map<string, Route[]>(options.entryPoints.map((name) => [name, []]));
  const tlsRoutes = new Map<string, Route[]>(options.entryPoints.map((name) => [name, []]));
  const tlsUses = new Map<string, TlsRouterUse[]>(options.entryPoints.map((name) => [name, []]));
  const routerViews = new Map<string, RouterView>();
  for (const router of config.routers.values()) {
    const entryPoints = routerEntryPoints(router, options.entryPoints);
    const route = compileRouter(router, options.ruleCache);
    const placements = entryPoints.map((entryPoint) => ({ entryPoint, tls: router.tls ?? options.entryPointTls?.get(entryPoint) }));
    for (const placement of placements) {
      if (placement.tls) checkTlsOptionsReference(router, tlsOptionsName(placement.tls), config, tlsOptions);
      if (placement.tls && options.certResolvers) checkCertResolverReference(router, placement.tls, options.certResolvers);
    }
    const tlsByEntryPoint = new Map(placements.flatMap(({ entryPoint, tls }) => (tls ? [[entryPoint, tls] as const] : [])));
    checkCertificateDomains(router, [...new Set(tlsByEntryPoint.values())], options);

    const view: RouterView = { priority: route?.priority ?? router.priority ?? defaultPriority(router.rule), entryPoints, tlsByEntryPoint };
    const viewTls = placements.find((placement) => placement.tls)?.tls;
    if (viewTls) view.tls = viewTls;
    routerViews.set(router.name, view);
    yield;
    if (!route || router.errors.length > 0) continue;

    for (const { entryPoint, tls } of placements) {
      if (!tls) {
        plainRoutes.get(entryPoint)?.push(route);
        continue;
      }
      tlsRoutes.get(entryPoint)?.push(route);
      tlsUses.get(entryPoint)?.push({ router, hosts: route.hosts, optionsName: tlsOptionsName(tls) });
    }
  }

  const tables = new Map<string, RouteTable>();
  for (const [name, routes] of plainRoutes) tables.set(name, new RouteTable(routes));
  const tlsTables = new Map<string, RouteTable>();
  for (const [name, routes] of tlsRoutes) tlsTables.set(name, new RouteTable(routes));
  const tlsOptionsSelectors = new Map<string, TlsOptionsSelector>();
  for (const [name, uses] of tlsUses) tlsOptionsSelectors.set(name, buildTlsOptionsSelector(uses, tlsOptions));
  options.ruleCache?.finishBuild();

  const redirections = new Map(options.entryPointRedirections ?? []);
  return { generation: options.generation, builtAt: new Date(), config, tables, tlsTables, tlsOptions, tlsOptionsSelectors, services, middlewares, routerViews, redirections };
}

/** Checks every TLS options item, recording problems on it, and returns the usable ones by name. */
function buildTlsOptions(config: MergedConfig): Map<string, TlsOptions> {
  const usable = new Map<string, TlsOptions>();
  if (!config.tlsOptions.has(DEFAULT_TLS_OPTIONS_NAME)) usable.set(DEFAULT_TLS_OPTIONS_NAME, { ...DEFAULT_TLS_OPTIONS, alpnProtocols: [...DEFAULT_TLS_OPTIONS.alpnProtocols] });

  for (const item of config.tlsOptions.values()) {
    const resolved = resolveTlsOptions(item.name, item);
    item.errors.push(...resolved.errors.map((message) => withOrigin(item, message)));
    item.warnings.push(...resolved.warnings.map((message) => withOrigin(item, message)));
    if (resolved.options && item.errors.length === 0) usable.set(item.name, resolved.options);
  }
  return usable;
}

function tlsOptionsName(tls: RouterTlsConfig): string {
  return tls.options === undefined || tls.options === '' ? DEFAULT_TLS_OPTIONS_NAME : tls.options;
}

/**
 * Disables a router whose TLS options are missing or invalid. Serving it with other options would
 * silently weaken what was configured (a lower TLS version, or no SNI check). Traefik disables such routers too.
 */
function checkTlsOptionsReference(router: MergedRouter, name: string, config: MergedConfig, usable: ReadonlyMap<string, TlsOptions>): void {
  if (usable.has(name)) return;
  const item = config.tlsOptions.get(name);
  const message = item
    ? `TLS options "${name}" are invalid: ${item.errors[0] ?? 'see the TLS options in the API'}`
    : `TLS options "${name}" do not exist; define them under tls.options in the file provider, or use one of: ${[...usable.keys()].sort().join(', ')}`;
  if (!router.errors.includes(withOrigin(router, message))) router.errors.push(withOrigin(router, message));
}

/**
 * Warns about a router that names a certificate resolver that is not configured. The router stays
 * enabled and is served with the default certificate, as Traefik v3 does after logging
 * "Router uses a nonexistent certificate resolver".
 */
function checkCertResolverReference(router: MergedRouter, tls: RouterTlsConfig, configured: readonly string[]): void {
  const name = tls.certResolver;
  // Resolver names are case-insensitive, because the static configuration stores them in lower case.
  if (name === undefined || configured.includes(name.toLowerCase())) return;
  const known = configured.length === 0 ? 'no resolver is configured' : `configured resolvers: ${[...configured].sort().join(', ')}`;
  const message = withOrigin(router, `certificate resolver "${name}" is not configured; ${known} (set --certificatesresolvers.<name>.acme.* or fix the name)`);
  if (!router.warnings.includes(message)) router.warnings.push(message);
}

/**
 * Warns on a router whose resolver can order no certificate for it, such as one whose rule has
 * only HostRegexp, or whose domain is `*.*.example.com`. `settings` are the router's TLS settings
 * on its entry points, which the ACME manager reads too. The router keeps serving, with another
 * certificate that matches or the default one.
 */
function checkCertificateDomains(router: MergedRouter, settings: readonly RouterTlsConfig[], options: Pick<BuildOptions, 'certResolvers' | 'certResolverChallenges'>): void {
  // A disabled router serves nothing, so "the router still serves" would be false there.
  if (router.errors.length > 0) return;
  const configured = options.certResolvers;
  for (const tls of settings) {
    const name = tls.certResolver;
    if (name === undefined) continue;
    if (configured !== undefined && !configured.includes(name.toLowerCase())) continue;
    const challenge = options.certResolverChallenges?.get(name.toLowerCase());
    for (const problem of routerCertificateRequests({ rule: router.rule, ruleSyntax: router.ruleSyntax, tls }, challenge).problems) {
      const message = withOrigin(router, problem);
      if (!router.warnings.includes(message)) router.warnings.push(message);
    }
  }
}

function* buildMiddlewares(config: MergedConfig, services: ReadonlyMap<string, RuntimeService>, logger: Logger): Steps<Map<string, Middleware>> {
  const middlewares = new Map<string, Middleware>();
  for (const middleware of config.middlewares.values()) {
    if (middleware.errors.length > 0 || isChain(middleware)) continue;
    yield;
    try {
      const warn = (message: string): void => {
        const warning = withOrigin(middleware, message);
        if (!middleware.warnings.includes(warning)) middleware.warnings.push(warning);
      };
      middlewares.set(middleware.name, createMiddleware(middleware.type, middleware.options, warn, buildContext(middleware, config, services, logger)));
    } catch (error) {
      middleware.errors.push(withOrigin(middleware, (error as Error).message));
    }
  }
  // Chains come last because they run the middlewares built above.
  buildChains(config, middlewares);
  return middlewares;
}

/** Resolves the service names a middleware refers to, such as the page service of `errors`, and names the middleware in its log lines. */
function buildContext(middleware: MergedMiddleware, config: MergedConfig, services: ReadonlyMap<string, RuntimeService>, logger: Logger): MiddlewareBuildContext {
  return {
    logger: logger.child({ [Fields.module]: 'middleware', [Fields.middleware]: middleware.name, [Fields.middlewareType]: middleware.type }),
    resolveService(name) {
      const qualified = qualifyName(name.trim(), middleware.provider);
      if (services.has(qualified)) return qualified;
      const item = config.services.get(qualified);
      if (item === undefined) throw new Error(`service "${qualified}" does not exist; define it or fix the name`);
      throw new Error(`service "${qualified}" is disabled: ${item.errors[0] ?? 'see that service in the API'}`);
    },
  };
}

/** Entry points named by the router, or all of them; unknown names are errors on the router. */
function routerEntryPoints(router: MergedRouter, available: string[]): string[] {
  if (router.entryPoints.length === 0) return available;
  const known = router.entryPoints.filter((name) => available.includes(name));
  for (const name of router.entryPoints) {
    if (!available.includes(name)) {
      router.errors.push(withOrigin(router, `entry point ${quoteValue(name)} does not exist; defined entry points: ${available.join(', ') || '(none)'}`));
    }
  }
  return known;
}

function compileRouter(router: MergedRouter, cache: RuleCache | undefined): Route | undefined {
  const syntax = router.ruleSyntax ?? 'v3';
  const compiled = cache ? cache.compile(router.rule, syntax) : compileRouterRule(router.rule, syntax);
  if (!compiled.ok) {
    router.errors.push(withOrigin(router, compiled.message));
    return undefined;
  }
  for (const warning of compiled.warnings) router.warnings.push(withOrigin(router, warning));

  return {
    name: router.name,
    rule: router.rule,
    priority: router.priority ?? defaultPriority(router.rule),
    matcher: compiled.matcher,
    hosts: compiled.hosts,
    service: router.service,
    middlewares: router.middlewares,
  };
}
