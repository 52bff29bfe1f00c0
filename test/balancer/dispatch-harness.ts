// Runs Berth's request path in-process for the balancing tests: a dispatcher with the real
// forwarder and a health registry, serving one router `PathPrefix(/)` of service `web@file` on a
// loopback port.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { HealthRegistry } from '../../src/balancer/health-registry.js';
import { mergeProviders } from '../../src/dynamic/merged.js';
import type { LoadBalancerConfig, MiddlewareConfig, ProviderConfig, ServiceConfig } from '../../src/dynamic/model.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createForwarder } from '../../src/proxy/forwarder.js';
import { Dispatcher } from '../../src/routing/dispatch.js';
import { buildRuntime, type Runtime } from '../../src/routing/runtime.js';

export interface InProcessBerth {
  url: string;
  registry: HealthRegistry;
  runtime(): Runtime;
  /** Builds and swaps in a runtime for new load balancer settings, as a provider change does. */
  update(loadBalancer: Partial<LoadBalancerConfig>, middlewares?: Record<string, Record<string, unknown>>): Runtime;
  close(): Promise<void>;
}

const SOURCES = [{ provider: 'file', origin: 'test' }];

function providerConfig(loadBalancer: Partial<LoadBalancerConfig>, middlewares: Record<string, Record<string, unknown>>): ProviderConfig {
  const service: ServiceConfig = {
    loadBalancer: { servers: [], passHostHeader: true, ...loadBalancer },
    sources: SOURCES,
    errors: [],
    warnings: [],
  };
  const items: Record<string, MiddlewareConfig> = {};
  for (const [name, options] of Object.entries(middlewares)) {
    const [type = '', typeOptions = {}] = Object.entries(options)[0] ?? [];
    items[name] = { type, options: typeOptions as Record<string, unknown>, sources: SOURCES, errors: [], warnings: [] };
  }
  return {
    routers: { web: { rule: 'PathPrefix(`/`)', entryPoints: [], service: 'web', middlewares: Object.keys(middlewares), sources: SOURCES, errors: [], warnings: [] } },
    services: { web: service },
    middlewares: items,
    skipped: [],
  };
}

/**
 * Starts the request path for one service. `middlewares` maps a middleware name to
 * `{ type: options }`, as labels declare them; the router uses all of them in order.
 */
export async function startInProcessBerth(loadBalancer: Partial<LoadBalancerConfig>, middlewares: Record<string, Record<string, unknown>> = {}): Promise<InProcessBerth> {
  const logger = silentLogger();
  const registry = new HealthRegistry({ logger });
  const forwarder = createForwarder({ logger });
  let generation = 0;
  const build = (settings: Partial<LoadBalancerConfig>, items: Record<string, Record<string, unknown>>): Runtime => {
    const runtime = buildRuntime(mergeProviders(new Map([['file', providerConfig(settings, items)]])), { entryPoints: ['web'], generation: ++generation, health: registry });
    const problems = [...runtime.config.services.values(), ...runtime.config.routers.values()].flatMap((item) => item.errors);
    if (problems.length > 0) throw new Error(`the test configuration has errors: ${problems.join('; ')}`);
    return runtime;
  };

  const dispatcher = new Dispatcher(build(loadBalancer, middlewares), forwarder, logger);
  const server = http.createServer((request, response) => {
    void dispatcher.handle(request, response, { entryPoint: 'web', scheme: 'http', serverName: 'berth-test' });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    registry,
    runtime: () => dispatcher.runtime,
    update(settings, items = middlewares) {
      const runtime = build(settings, items);
      dispatcher.swap(runtime);
      return runtime;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await forwarder.close();
      await registry.close();
    },
  };
}
