// Builds the services of a runtime: each service's servers, its balancer (strategy, health and
// sticky cookie) and the health state of every server. With the long-lived health registry, a
// rebuild keeps check results, failure windows and in-flight counts. Without it, as for a report
// such as `berth explain`, every server starts as up.
import { withOrigin, type MergedConfig, type MergedService } from '../dynamic/merged.js';
import { healthSettings } from '../balancer/health-options.js';
import type { HealthRegistry, HealthTarget } from '../balancer/health-registry.js';
import { ServerHealth } from '../balancer/server-health.js';
import { ServiceBalancer, type BalancedServer, type StrategyName } from '../balancer/service-balancer.js';
import { stickyCookie, stickyValue, type StickyCookie } from '../balancer/sticky.js';
import { redactServerUrl } from '../observability/redact.js';
import { runToEnd, type Steps } from '../dynamic/steps.js';

/** One server of a service as the runtime uses it. */
export interface RuntimeServer extends BalancedServer {
  url: string;
  target: URL;
  weight: number;
  containerId?: string;
}

export interface RuntimeService {
  name: string;
  servers: RuntimeServer[];
  balancer: ServiceBalancer<RuntimeServer>;
  passHostHeader: boolean;
}

/** A service whose settings passed their checks, waiting for the health state of its servers. */
interface PendingService {
  service: MergedService;
  servers: Array<Omit<RuntimeServer, 'health'>>;
  strategy: StrategyName;
  sticky?: StickyCookie;
}

/**
 * Builds every service without errors; problems are recorded on the service, which disables it.
 * With a registry, the health checks of servers that are no longer built stop.
 */
export function buildServices(config: MergedConfig, registry?: HealthRegistry): Map<string, RuntimeService> {
  return runToEnd(buildServicesSteps(config, registry));
}

/**
 * Steps of `buildServices`, with a pause point after checking each service. The health registry
 * is updated in the last step, so work stopped before it leaves the registry as it was.
 */
export function* buildServicesSteps(config: MergedConfig, registry?: HealthRegistry): Steps<Map<string, RuntimeService>> {
  const pending: PendingService[] = [];
  const targets: HealthTarget[] = [];

  for (const service of config.services.values()) {
    const servers = parseServers(service);
    const health = healthSettings(service.loadBalancer);
    const strategy = strategyOf(service);
    const sticky = service.loadBalancer.sticky === undefined ? undefined : stickyCookie(service.name, service.loadBalancer.sticky.cookie);
    const errors = [...health.errors, ...(sticky?.errors ?? [])];
    const warnings = [...health.warnings, ...(sticky?.warnings ?? [])];
    service.errors.push(...errors.map((message) => withOrigin(service, message)));
    service.warnings.push(...warnings.map((message) => withOrigin(service, message)));
    if (service.errors.length > 0) continue;

    const item: PendingService = { service, servers, strategy };
    if (sticky?.cookie !== undefined) item.sticky = sticky.cookie;
    pending.push(item);
    for (const server of servers) {
      const target: HealthTarget = { service: service.name, url: server.url, target: server.target };
      if (health.active !== undefined) target.active = health.active;
      if (health.passive !== undefined) target.passive = health.passive;
      targets.push(target);
    }
    yield;
  }

  const healths = registry === undefined ? targets.map((target) => new ServerHealth(target.service, target.url)) : registry.apply(targets);

  const services = new Map<string, RuntimeService>();
  let next = 0;
  for (const { service, servers: parsed, strategy, sticky } of pending) {
    const servers = parsed.map((server) => ({ ...server, health: healths[next++] as ServerHealth }));
    services.set(service.name, {
      name: service.name,
      servers,
      balancer: new ServiceBalancer(servers, strategy, sticky),
      passHostHeader: service.loadBalancer.passHostHeader,
    });
  }
  return services;
}

function strategyOf(service: MergedService): StrategyName {
  const strategy = service.loadBalancer.strategy ?? 'wrr';
  if (strategy === 'wrr' || strategy === 'p2c') return strategy;
  service.warnings.push(withOrigin(service, `strategy ${strategy} is not supported yet, so wrr is used; set strategy to wrr or p2c`));
  return 'wrr';
}

function parseServers(service: MergedService): Array<Omit<RuntimeServer, 'health'>> {
  const servers: Array<Omit<RuntimeServer, 'health'>> = [];
  for (const server of service.loadBalancer.servers) {
    // Messages end up in the API and the log, so they quote the URL without its password.
    const displayedUrl = redactServerUrl(server.url);
    let target: URL;
    try {
      target = new URL(server.url);
    } catch {
      service.errors.push(withOrigin(service, `server URL "${displayedUrl}" is invalid: write it as http://HOST:PORT`));
      continue;
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:' && target.protocol !== 'h2c:') {
      service.errors.push(withOrigin(service, `server URL "${displayedUrl}" has an unsupported scheme: use http, https or h2c`));
      continue;
    }
    if ((target.pathname !== '/' && target.pathname !== '') || target.search !== '') {
      // Traefik sends requests to the server URL's origin only, so a compose file written for it
      // expects the path to be dropped.
      service.warnings.push(withOrigin(service, `the path of server URL "${displayedUrl}" is ignored; add it with an addprefix middleware`));
      target.pathname = '/';
      target.search = '';
    }
    if (!Number.isFinite(server.weight) || server.weight < 0) {
      service.errors.push(withOrigin(service, `server weight ${String(server.weight)} of ${displayedUrl} is invalid: use a whole number of at least 0`));
      continue;
    }
    servers.push({
      url: server.url,
      target,
      weight: server.weight,
      stickyValue: stickyValue(server.url),
      ...(server.containerId ? { containerId: server.containerId } : {}),
    });
  }
  return servers;
}
