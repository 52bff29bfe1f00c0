// Builds runtimes from a few router and service definitions, without Docker.
import { mergeProviders } from '../../src/dynamic/merged.js';
import type { MiddlewareConfig, ProviderConfig, RouterConfig, ServiceConfig, SkippedContainer } from '../../src/dynamic/model.js';
import { EntryPoint } from '../../src/entrypoints/server.js';
import { silentLogger, type Logger } from '../../src/observability/logger.js';
import type { TunnelingForwarder } from '../../src/proxy/forwarder.js';
import { Dispatcher } from '../../src/routing/dispatch.js';
import { buildRuntime, type Runtime } from '../../src/routing/runtime.js';

export interface RouterInput {
  rule: string;
  service?: string;
  priority?: number;
  entryPoints?: string[];
  middlewares?: string[];
  ruleSyntax?: 'v2' | 'v3';
  /** Serve the router over TLS only, with the default TLS options. */
  tls?: boolean;
}

export interface RuntimeInput {
  routers: Record<string, RouterInput>;
  /** Service name to server URLs; a service named by a router but left out here is missing. */
  services?: Record<string, string[]>;
  middlewares?: Record<string, { type: string; options: Record<string, unknown> }>;
  entryPoints?: string[];
  /** Parent of the middlewares' loggers; silent when left out. */
  logger?: Logger;
  /** Containers the provider skipped, as in /api/rawdata. */
  skipped?: SkippedContainer[];
}

/** Builds the runtime of one `docker` provider with the given items; names get `@docker`. */
export function runtimeOf(input: RuntimeInput): Runtime {
  const source = (origin: string) => [{ provider: 'docker', origin }];
  const routers: Record<string, RouterConfig> = {};
  for (const [name, router] of Object.entries(input.routers)) {
    const config: RouterConfig = {
      rule: router.rule,
      entryPoints: router.entryPoints ?? [],
      service: router.service ?? name,
      middlewares: router.middlewares ?? [],
      sources: source(`container ${name}`),
      errors: [],
      warnings: [],
    };
    if (router.priority !== undefined) config.priority = router.priority;
    if (router.ruleSyntax !== undefined) config.ruleSyntax = router.ruleSyntax;
    if (router.tls === true) config.tls = {};
    routers[name] = config;
  }

  const services: Record<string, ServiceConfig> = {};
  for (const [name, urls] of Object.entries(input.services ?? {})) {
    services[name] = {
      loadBalancer: { servers: urls.map((url) => ({ url, weight: 1 })), passHostHeader: true },
      sources: source(`container ${name}`),
      errors: [],
      warnings: [],
    };
  }

  const middlewares: Record<string, MiddlewareConfig> = {};
  for (const [name, middleware] of Object.entries(input.middlewares ?? {})) {
    middlewares[name] = { ...middleware, sources: source(`container ${name}`), errors: [], warnings: [] };
  }

  const provider: ProviderConfig = { routers, services, middlewares, skipped: input.skipped ?? [] };
  return buildRuntime(mergeProviders(new Map([['docker', provider]])), { entryPoints: input.entryPoints ?? ['web'], generation: 1, ...(input.logger ? { logger: input.logger } : {}) });
}

/** Starts an entry point `web` on 127.0.0.1 that dispatches requests and upgrades through `runtime`. */
export async function listenWithRuntime(runtime: Runtime, forwarder: TunnelingForwarder): Promise<{ entryPoint: EntryPoint; port: number }> {
  const dispatcher = new Dispatcher(runtime, forwarder, silentLogger());
  const options = { entryPoint: 'web', serverName: 'berth-test' };
  const entryPoint = new EntryPoint({
    name: 'web',
    address: '127.0.0.1:0',
    logger: silentLogger(),
    handler: (request, response, scheme) => dispatcher.handle(request, response, { ...options, scheme }),
    upgradeHandler: (request, socket, head, scheme) => dispatcher.handleUpgrade(request, socket, head, { ...options, scheme }),
  });
  const { port } = await entryPoint.listen();
  return { entryPoint, port };
}
