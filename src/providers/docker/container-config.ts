// The routers, services and middlewares that one container declares, with Traefik's defaults.
// Without service labels the container gets one service named after it, which is left out when it
// fails and every router names another service. Without router labels it
// gets one router of the same name with the defaultRule, and a router without `service` uses the
// container's only service.

import type { LoadBalancerConfig, MiddlewareConfig, RouterConfig, RouterTlsConfig, ServiceConfig } from '../../dynamic/model.js';
import type { MiddlewareLabels, RouterLabels, ServiceLabels } from '../../labels/http-schemas.js';
import type { AddressContext } from './address.js';
import type { ContainerInfo } from './container-info.js';
import type { ContainerLabels } from './container-labels.js';
import { legacyWarning } from './container-labels.js';
import { containerLogName, containerServiceName, describeContainer } from './naming.js';
import { buildServer } from './address.js';
import type { RuleTemplate, TemplateModel } from './template.js';
import { createDictionary, getOwn } from '../../dictionary.js';

/** One item as a container declares it, with the part that must match across replicas. */
export interface Declared<T> {
  item: T;
  /** The item's settings without servers, sources and diagnostics; replicas must agree on it. */
  definition: unknown;
}

export interface ContainerItems {
  container: ContainerInfo;
  routers: Map<string, Declared<RouterConfig>>;
  services: Map<string, Declared<ServiceConfig>>;
  middlewares: Map<string, Declared<MiddlewareConfig>>;
}

export interface ContainerBuildContext extends AddressContext {
  provider: string;
  /** The parsed defaultRule, or the parse error to report on every router that needs it. */
  defaultRule: RuleTemplate | Error;
}

/** Server policy: add the container's servers, or keep its items without servers for `reason`. */
export type ServerPolicy = { add: true } | { add: false; reason: string };

function routerFor(
  name: string,
  labels: RouterLabels,
  serviceNames: string[],
  container: ContainerInfo,
  context: ContainerBuildContext,
): Declared<RouterConfig> {
  const errors: string[] = [];
  let rule = labels.rule ?? '';

  // Traefik applies the defaultRule to every router whose rule is empty, not only to the default router.
  if (rule === '') {
    const model: TemplateModel = { Name: containerServiceName(container), ContainerName: container.name, Labels: container.labels };
    try {
      if (context.defaultRule instanceof Error) throw context.defaultRule;
      rule = context.defaultRule.render(model);
      if (rule === '') errors.push(`the defaultRule template produced an empty rule; set ${context.prefix}.http.routers.${name}.rule`);
    } catch (error) {
      errors.push(`the defaultRule template failed: ${(error as Error).message}`);
    }
  }

  let service = labels.service ?? '';
  if (service === '' && serviceNames.length === 1) {
    service = serviceNames[0] ?? '';
  } else if (service === '') {
    errors.push(`router "${name}" has no service and the container defines several (${serviceNames.join(', ')}); set ${context.prefix}.http.routers.${name}.service`);
  }

  const item: RouterConfig = {
    rule,
    entryPoints: labels.entryPoints ?? [],
    service,
    middlewares: labels.middlewares ?? [],
    sources: [{ provider: context.provider, origin: describeContainer(container), container: containerLogName(container) }],
    errors,
    warnings: [],
  };
  // Traefik treats priority 0 as unset, so the rule length decides.
  if (labels.priority !== undefined && labels.priority !== 0) item.priority = labels.priority;
  if (labels.ruleSyntax !== undefined) item.ruleSyntax = labels.ruleSyntax;
  if (labels.tls !== undefined) item.tls = routerTls(labels.tls, name, context, errors);

  const definition = { rule, entryPoints: item.entryPoints, service, middlewares: item.middlewares, priority: item.priority, ruleSyntax: item.ruleSyntax, tls: item.tls };
  return { item, definition };
}

/** Builds a router's TLS settings from its decoded `tls` labels; `tls=true` alone gives `{}`. */
function routerTls(labels: NonNullable<RouterLabels['tls']>, name: string, context: ContainerBuildContext, errors: string[]): RouterTlsConfig {
  const tls: RouterTlsConfig = {};
  if (labels.certResolver !== undefined && labels.certResolver.trim() !== '') tls.certResolver = labels.certResolver.trim();
  if (labels.options !== undefined && labels.options.trim() !== '') tls.options = labels.options.trim();
  if (labels.domains !== undefined) {
    tls.domains = [];
    labels.domains.forEach((domain, index) => {
      const main = domain.main?.trim() ?? '';
      if (main === '') {
        errors.push(`${context.prefix}.http.routers.${name}.tls.domains[${index}].main is missing; set it to the certificate's main domain`);
        return;
      }
      tls.domains?.push({ main, sans: domain.sans ?? [] });
    });
  }
  return tls;
}

function serviceFor(
  name: string,
  labels: ServiceLabels,
  container: ContainerInfo,
  context: ContainerBuildContext,
  policy: ServerPolicy,
): Declared<ServiceConfig> {
  const loadBalancer = labels.loadBalancer ?? {};
  const item: ServiceConfig = {
    loadBalancer: { servers: [], passHostHeader: loadBalancer.passHostHeader ?? true, ...balancingSettings(loadBalancer) },
    sources: [{ provider: context.provider, origin: describeContainer(container), container: containerLogName(container) }],
    errors: [],
    warnings: [],
  };

  if (policy.add) {
    const result = buildServer(container, name, loadBalancer.server, context);
    if (result.server !== undefined) item.loadBalancer.servers.push(result.server);
    item.errors.push(...result.errors);
    item.warnings.push(...result.warnings);
  } else {
    item.warnings.push(`no server added (${policy.reason})`);
  }

  // Replicas may differ in their server (address, port, scheme, weight) but not in the rest.
  const { server: _server, ...shared } = loadBalancer;
  return { item, definition: { ...shared, passHostHeader: item.loadBalancer.passHostHeader } };
}

/**
 * Copies the strategy, health check and sticky cookie labels into the service. Their values are
 * checked when the runtime is built, so the Docker and file providers share one set of messages.
 */
function balancingSettings(labels: NonNullable<ServiceLabels['loadBalancer']>): Partial<LoadBalancerConfig> {
  const settings: Partial<LoadBalancerConfig> = {};
  if (labels.strategy !== undefined) settings.strategy = labels.strategy;
  if (labels.healthCheck !== undefined) settings.healthCheck = { ...labels.healthCheck };
  if (labels.passiveHealthCheck !== undefined) settings.passiveHealthCheck = { ...labels.passiveHealthCheck };
  if (labels.sticky?.cookie !== undefined) settings.sticky = { cookie: { ...labels.sticky.cookie } };
  return settings;
}

function middlewareFor(name: string, labels: MiddlewareLabels, container: ContainerInfo, context: ContainerBuildContext): Declared<MiddlewareConfig> {
  // Decoding keys the options by type, so several keys mean several types were set.
  const types = Object.keys(labels).sort();
  const item: MiddlewareConfig = {
    type: types[0] ?? '',
    options: getOwn(labels as Record<string, Record<string, unknown>>, types[0] ?? '') ?? {},
    sources: [{ provider: context.provider, origin: describeContainer(container), container: containerLogName(container) }],
    errors: [],
    warnings: [],
  };
  if (types.length > 1) {
    item.errors.push(`middleware "${name}" sets several types (${types.join(', ')}); a middleware has exactly one type`);
  }
  return { item, definition: { type: item.type, options: item.options } };
}

/** Returns the error for a name with `@`, which Traefik reserves for `name@provider` references. */
function nameError(kind: string, name: string): string[] {
  return name.includes('@') ? [`${kind} name "${name}" contains "@", which is reserved for name@provider references; rename the ${kind}`] : [];
}

/** Prefixes every message of an item with the container, so the API and the log show where it came from. */
function attribute(item: { errors: string[]; warnings: string[] }, origin: string): void {
  item.errors = item.errors.map((message) => `${origin}: ${message}`);
  item.warnings = item.warnings.map((message) => `${origin}: ${message}`);
}

/** Builds the items of one kept container; `labels` come from readContainerLabels. */
export function buildContainerItems(container: ContainerInfo, labels: ContainerLabels, context: ContainerBuildContext, policy: ServerPolicy): ContainerItems {
  const origin = describeContainer(container);
  const keyPrefix = `${context.prefix}.`;
  const defaultName = containerServiceName(container);
  const containerErrors = labels.containerIssues.map((issue) => issue.message);
  const issuesOf = (kind: keyof ContainerLabels['itemIssues'], name: string): string[] => labels.itemIssues[kind].get(name) ?? [];

  const serviceLabels: Record<string, ServiceLabels> = Object.keys(labels.services).length > 0 ? labels.services : createDictionary([[defaultName, {}]]);
  const serviceNames = Object.keys(serviceLabels).sort();
  const hasRouterLabels = Object.keys(labels.routers).length > 0;
  // Traefik creates no default router when the container defines several services.
  const servicesWithoutRouter = !hasRouterLabels && serviceNames.length > 1;
  const routerLabels: Record<string, RouterLabels> = hasRouterLabels || servicesWithoutRouter ? labels.routers : createDictionary([[defaultName, {}]]);

  const items: ContainerItems = { container, routers: new Map(), services: new Map(), middlewares: new Map() };
  const isGenerated = Object.keys(labels.services).length === 0;
  const routerNeedsService = Object.values(routerLabels).some((router) => (router.service ?? '').trim() === '');

  for (const name of serviceNames) {
    const declared = serviceFor(name, getOwn(serviceLabels, name) ?? {}, container, context, policy);
    const { item } = declared;
    // Traefik always generates this service and skips the whole container when it fails. Berth
    // drops a failed one that no router of the container uses, such as when every router names
    // a service of another container, because its error would be noise.
    if (isGenerated && !routerNeedsService && item.errors.length > 0) continue;
    item.errors.unshift(...nameError('service', name), ...issuesOf('services', name), ...containerErrors);
    for (const legacy of labels.legacy.filter((label) => label.target === 'service')) {
      item.warnings.push(legacyWarning(legacy, keyPrefix, name));
    }
    if (servicesWithoutRouter) {
      item.warnings.push(`no router was created because the container defines several services; add a ${keyPrefix}http.routers.<name>.rule label`);
    }
    attribute(item, origin);
    items.services.set(name, declared);
  }

  for (const name of Object.keys(routerLabels).sort()) {
    const declared = routerFor(name, getOwn(routerLabels, name) ?? {}, serviceNames, container, context);
    const { item } = declared;
    item.errors.unshift(...nameError('router', name), ...issuesOf('routers', name), ...containerErrors);
    for (const legacy of labels.legacy.filter((label) => label.target === 'router')) {
      item.warnings.push(legacyWarning(legacy, keyPrefix, name));
    }
    if (labels.hasTcpOrUdp) {
      item.warnings.push(`tcp/udp routers are not supported yet; labels under ${keyPrefix}tcp and ${keyPrefix}udp are ignored`);
    }
    attribute(item, origin);
    items.routers.set(name, declared);
  }

  for (const name of Object.keys(labels.middlewares).sort()) {
    const declared = middlewareFor(name, getOwn(labels.middlewares, name) ?? {}, container, context);
    declared.item.errors.unshift(...nameError('middleware', name), ...issuesOf('middlewares', name));
    attribute(declared.item, origin);
    items.middlewares.set(name, declared);
  }

  return items;
}
