// Builds the immutable runtime from the merged dynamic configuration: compiled rules per entry
// point, services with their balancers, middleware chains. A change builds a new runtime; the
// entry points swap one reference to it, so requests in flight finish on the old one.
import { resolveReferences, withOrigin, type MergedConfig, type MergedRouter, type MergedService } from '../dynamic/merged.js';
import { compileRule, defaultPriority, literalHosts, parseRule } from '../rules/index.js';
import { createMiddleware } from '../middlewares/registry.js';
import type { Middleware } from '../middlewares/types.js';
import { WeightedRoundRobin } from '../balancer/wrr.js';
import { RouteTable, type Route } from './table.js';

/** One server of a service as the runtime uses it. */
export interface RuntimeServer {
  url: string;
  target: URL;
  weight: number;
  containerId?: string;
}

export interface RuntimeService {
  name: string;
  servers: RuntimeServer[];
  balancer: WeightedRoundRobin<RuntimeServer>;
  passHostHeader: boolean;
}

/** What the API reports about a router beyond its configuration. */
export interface RouterView {
  priority: number;
  entryPoints: string[];
}

export interface Runtime {
  readonly generation: number;
  readonly builtAt: Date;
  /** The configuration this runtime was built from, with every item's final diagnostics. */
  readonly config: MergedConfig;
  readonly tables: ReadonlyMap<string, RouteTable>;
  readonly services: ReadonlyMap<string, RuntimeService>;
  readonly middlewares: ReadonlyMap<string, Middleware>;
  readonly routerViews: ReadonlyMap<string, RouterView>;
}

export interface BuildOptions {
  /** Entry points that serve user routers (the internal one is excluded). */
  entryPoints: string[];
  generation: number;
}

/** Compiles `config` into a runtime. Problems are recorded on the items; this never throws for bad input. */
export function buildRuntime(config: MergedConfig, options: BuildOptions): Runtime {
  const services = buildServices(config);
  const middlewares = buildMiddlewares(config);
  resolveReferences(config);

  const routesByEntryPoint = new Map<string, Route[]>(options.entryPoints.map((name) => [name, []]));
  const routerViews = new Map<string, RouterView>();
  for (const router of config.routers.values()) {
    const entryPoints = routerEntryPoints(router, options.entryPoints);
    const route = compileRouter(router);
    routerViews.set(router.name, { priority: route?.priority ?? router.priority ?? defaultPriority(router.rule), entryPoints });
    if (!route || router.errors.length > 0) continue;
    for (const name of entryPoints) routesByEntryPoint.get(name)?.push(route);
  }

  const tables = new Map<string, RouteTable>();
  for (const [name, routes] of routesByEntryPoint) tables.set(name, new RouteTable(routes));

  return { generation: options.generation, builtAt: new Date(), config, tables, services, middlewares, routerViews };
}

function buildServices(config: MergedConfig): Map<string, RuntimeService> {
  const services = new Map<string, RuntimeService>();
  for (const service of config.services.values()) {
    const servers = parseServers(service);
    if (service.errors.length > 0) continue;
    services.set(service.name, {
      name: service.name,
      servers,
      balancer: new WeightedRoundRobin(servers),
      passHostHeader: service.loadBalancer.passHostHeader,
    });
  }
  return services;
}

function parseServers(service: MergedService): RuntimeServer[] {
  const servers: RuntimeServer[] = [];
  for (const server of service.loadBalancer.servers) {
    let target: URL;
    try {
      target = new URL(server.url);
    } catch {
      service.errors.push(withOrigin(service, `server URL "${server.url}" is invalid: write it as http://HOST:PORT`));
      continue;
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      service.errors.push(withOrigin(service, `server URL "${server.url}" has an unsupported scheme: use http or https`));
      continue;
    }
    servers.push({ url: server.url, target, weight: server.weight, ...(server.containerId ? { containerId: server.containerId } : {}) });
  }
  return servers;
}

function buildMiddlewares(config: MergedConfig): Map<string, Middleware> {
  const middlewares = new Map<string, Middleware>();
  for (const middleware of config.middlewares.values()) {
    if (middleware.errors.length > 0) continue;
    try {
      middlewares.set(middleware.name, createMiddleware(middleware.type, middleware.options));
    } catch (error) {
      middleware.errors.push(withOrigin(middleware, (error as Error).message));
    }
  }
  return middlewares;
}

/** Entry points named by the router, or all of them; unknown names are errors on the router. */
function routerEntryPoints(router: MergedRouter, available: string[]): string[] {
  if (router.entryPoints.length === 0) return available;
  const known = router.entryPoints.filter((name) => available.includes(name));
  for (const name of router.entryPoints) {
    if (!available.includes(name)) {
      router.errors.push(withOrigin(router, `entry point "${name}" does not exist; defined entry points: ${available.join(', ') || '(none)'}`));
    }
  }
  return known;
}

function compileRouter(router: MergedRouter): Route | undefined {
  const parsed = parseRule(router.rule, router.ruleSyntax ?? 'v3');
  if (!parsed.ok) {
    router.errors.push(withOrigin(router, parsed.error.message));
    return undefined;
  }
  for (const warning of parsed.warnings) router.warnings.push(withOrigin(router, warning));

  return {
    name: router.name,
    rule: router.rule,
    priority: router.priority ?? defaultPriority(router.rule),
    matcher: compileRule(parsed.tree),
    hosts: literalHosts(parsed.tree),
    service: router.service,
    middlewares: router.middlewares,
  };
}
