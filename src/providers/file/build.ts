// Turns one decoded dynamic configuration file into provider items, and merges the items of
// several files. Decoding issues are attached to the item they sit in, so a typo disables one
// router and not the file. Every message starts with the file it came from.

import type { ItemSource, MiddlewareConfig, ProviderConfig, RouterConfig, RouterTlsConfig, ServiceConfig, TlsOptionsConfig } from '../../dynamic/model.js';
import type { CertificateFiles } from '../../tls/certificates.js';
import type { FileIssue } from './decode.js';
import type { DynamicFile, FileMiddleware, FileRouter, FileService, FileTlsOptions } from './schema.js';
import { createDictionary, getOwn } from '../../dictionary.js';

/** A certificate named in a file, with that file for messages. */
export interface FileCertificate extends CertificateFiles {
  origin: string;
}

/** The items of one file, or of several merged. Item names are local (no `@file`). */
export interface FileItems {
  routers: Record<string, RouterConfig>;
  services: Record<string, ServiceConfig>;
  middlewares: Record<string, MiddlewareConfig>;
  tlsOptions: Record<string, TlsOptionsConfig>;
  certificates: FileCertificate[];
  defaultCertificate?: FileCertificate;
  /** Problems that belong to no single item, such as an unknown top-level key. */
  errors: string[];
  warnings: string[];
}

/** Items of a kind that are keyed by name. */
type NamedKind = 'routers' | 'services' | 'middlewares' | 'tlsOptions';

const PROVIDER = 'file';

/** Returns items with no entries, whose records have no prototype, so any name is an ordinary key. */
function emptyFileItems(): FileItems {
  return { routers: createDictionary(), services: createDictionary(), middlewares: createDictionary(), tlsOptions: createDictionary(), certificates: [], errors: [], warnings: [] };
}

/** Builds the items of the file at `path` from its decoded content and the decoding issues. */
export function buildFileItems(path: string, decoded: DynamicFile, issues: readonly FileIssue[]): FileItems {
  const origin = `file ${path}`;
  const source: ItemSource = { provider: PROVIDER, origin };
  const items = emptyFileItems();
  const issuesAt = (prefix: readonly string[]): string[] =>
    issues.filter((issue) => prefix.every((segment, index) => issue.path[index] === segment)).map((issue) => issue.message);

  for (const [name, router] of Object.entries(decoded.http?.routers ?? {})) {
    const item = routerFrom(name, router, source);
    item.errors.unshift(...issuesAt(['http', 'routers', name]));
    items.routers[name] = attribute(item, origin);
  }
  for (const [name, service] of Object.entries(decoded.http?.services ?? {})) {
    const item = serviceFrom(name, service, source);
    item.errors.unshift(...issuesAt(['http', 'services', name]));
    items.services[name] = attribute(item, origin);
  }
  for (const [name, middleware] of Object.entries(decoded.http?.middlewares ?? {})) {
    const item = middlewareFrom(name, middleware, source);
    item.errors.unshift(...issuesAt(['http', 'middlewares', name]));
    items.middlewares[name] = attribute(item, origin);
  }
  for (const [name, options] of Object.entries(decoded.tls?.options ?? {})) {
    const item = tlsOptionsFrom(options, source);
    item.errors.unshift(...nameError('TLS options', name), ...issuesAt(['tls', 'options', name]));
    items.tlsOptions[name] = attribute(item, origin);
  }

  addCertificates(items, decoded, issuesAt, origin);
  addUnsupportedSections(items, decoded, origin);

  // Issues outside every item, such as unknown top-level keys, belong to the file.
  const claimed = [['http', 'routers'], ['http', 'services'], ['http', 'middlewares'], ['tls', 'options'], ['tls', 'certificates'], ['tls', 'stores']];
  for (const issue of issues) {
    const inItem = claimed.some((prefix) => issue.path.length > prefix.length && prefix.every((segment, index) => issue.path[index] === segment));
    if (!inItem) items.errors.push(`${origin}: ${issue.message}`);
  }
  return items;
}

/**
 * Merges the items of several files, read in the order given. As in Traefik's directory mode, a
 * name defined in two files keeps its first definition, and the second is reported and ignored.
 */
export function mergeFileItems(files: readonly FileItems[]): FileItems {
  const merged = emptyFileItems();
  const kinds: Array<[NamedKind, string]> = [
    ['routers', 'router'],
    ['services', 'service'],
    ['middlewares', 'middleware'],
    ['tlsOptions', 'TLS options'],
  ];

  for (const file of files) {
    for (const [kind, noun] of kinds) {
      const target: Record<string, { sources: ItemSource[]; warnings: string[] }> = merged[kind];
      const added: Record<string, { sources: ItemSource[]; warnings: string[] }> = file[kind];
      for (const [name, item] of Object.entries(added)) {
        const existing = getOwn(target, name);
        if (existing === undefined) {
          target[name] = item;
          continue;
        }
        const ignored = item.sources.map((source) => source.origin).join(', ');
        existing.warnings.push(`${noun} "${name}" is defined again in ${ignored}, which is ignored; give each ${noun} a unique name`);
      }
    }
    merged.certificates.push(...file.certificates);
    if (file.defaultCertificate !== undefined && merged.defaultCertificate === undefined) merged.defaultCertificate = file.defaultCertificate;
    else if (file.defaultCertificate !== undefined) merged.warnings.push(`${file.defaultCertificate.origin}: tls.stores.default.defaultCertificate is defined again and ignored; ${merged.defaultCertificate?.origin} defines it first`);
    merged.errors.push(...file.errors);
    merged.warnings.push(...file.warnings);
  }
  return merged;
}

/** Returns the provider configuration of merged items. */
export function toProviderConfig(items: FileItems): ProviderConfig {
  return { routers: items.routers, services: items.services, middlewares: items.middlewares, tlsOptions: items.tlsOptions, skipped: [] };
}

function routerFrom(name: string, labels: FileRouter, source: ItemSource): RouterConfig {
  const errors = nameError('router', name);
  const rule = labels.rule ?? '';
  if (rule.trim() === '') errors.push(`router "${name}" has no rule; set http.routers.${name}.rule, such as Host(\`example.com\`)`);
  const service = labels.service ?? '';
  if (service.trim() === '') errors.push(`router "${name}" has no service; set http.routers.${name}.service to a service name`);

  const item: RouterConfig = {
    rule,
    entryPoints: labels.entryPoints ?? [],
    service: service.trim(),
    middlewares: labels.middlewares ?? [],
    sources: [source],
    errors,
    warnings: [],
  };
  // Traefik treats priority 0 as unset, so the rule length decides.
  if (labels.priority !== undefined && labels.priority !== 0) item.priority = labels.priority;
  if (labels.ruleSyntax !== undefined) item.ruleSyntax = labels.ruleSyntax;
  if (labels.tls !== undefined) item.tls = routerTls(labels.tls, name, errors);
  return item;
}

function routerTls(labels: NonNullable<FileRouter['tls']>, name: string, errors: string[]): RouterTlsConfig {
  const tls: RouterTlsConfig = {};
  if (labels.certResolver !== undefined && labels.certResolver.trim() !== '') tls.certResolver = labels.certResolver.trim();
  if (labels.options !== undefined && labels.options.trim() !== '') tls.options = labels.options.trim();
  if (labels.domains !== undefined) {
    const domains: Array<{ main: string; sans: string[] }> = [];
    labels.domains.forEach((domain, index) => {
      const main = domain.main?.trim() ?? '';
      if (main === '') errors.push(`http.routers.${name}.tls.domains[${index}].main is missing; set it to the main name of the certificate`);
      else domains.push({ main, sans: domain.sans ?? [] });
    });
    tls.domains = domains;
  }
  return tls;
}

function serviceFrom(name: string, labels: FileService, source: ItemSource): ServiceConfig {
  const errors = nameError('service', name);
  const loadBalancer = labels.loadBalancer;
  const item: ServiceConfig = { loadBalancer: { servers: [], passHostHeader: loadBalancer?.passHostHeader ?? true }, sources: [source], errors, warnings: [] };

  for (const type of ['weighted', 'mirroring', 'failover'] as const) {
    if (labels[type] !== undefined) errors.push(`service type "${type}" is not supported yet; define the service with loadBalancer.servers`);
  }
  if (loadBalancer === undefined) {
    if (errors.length === 0) errors.push(`service "${name}" has no loadBalancer; set http.services.${name}.loadBalancer.servers`);
    return item;
  }

  (loadBalancer.servers ?? []).forEach((server, index) => {
    const url = server.url?.trim() ?? '';
    if (url === '') errors.push(`http.services.${name}.loadBalancer.servers[${index}].url is missing; set it to a URL such as http://10.0.0.5:8080`);
    else item.loadBalancer.servers.push({ url, weight: server.weight ?? 1 });
    if (server.preservePath !== undefined) item.warnings.push(`http.services.${name}.loadBalancer.servers[${index}].preservePath is not supported yet and is ignored`);
  });

  // Values are checked when the runtime is built, with the same messages as for labels.
  if (loadBalancer.strategy !== undefined) item.loadBalancer.strategy = loadBalancer.strategy;
  if (loadBalancer.healthCheck !== undefined) item.loadBalancer.healthCheck = { ...loadBalancer.healthCheck };
  if (loadBalancer.passiveHealthCheck !== undefined) item.loadBalancer.passiveHealthCheck = { ...loadBalancer.passiveHealthCheck };
  if (loadBalancer.sticky?.cookie !== undefined) item.loadBalancer.sticky = { cookie: { ...loadBalancer.sticky.cookie } };
  return item;
}

function middlewareFrom(name: string, labels: FileMiddleware, source: ItemSource): MiddlewareConfig {
  // Decoding keys the options by type, so several keys mean several types were set.
  const types = Object.keys(labels).sort();
  const item: MiddlewareConfig = {
    type: types[0] ?? '',
    options: getOwn(labels as Record<string, Record<string, unknown>>, types[0] ?? '') ?? {},
    sources: [source],
    errors: nameError('middleware', name),
    warnings: [],
  };
  if (types.length === 0) item.errors.push(`middleware "${name}" has no type; set one type with its options, such as stripPrefix: { prefixes: [/api] }`);
  if (types.length > 1) item.errors.push(`middleware "${name}" sets several types (${types.join(', ')}); a middleware has exactly one type`);
  return item;
}

function tlsOptionsFrom(options: FileTlsOptions, source: ItemSource): TlsOptionsConfig {
  const { clientAuth, ...rest } = options;
  const item: TlsOptionsConfig = { ...rest, sources: [source], errors: [], warnings: [] };
  if (clientAuth !== undefined) item.clientAuth = { ...clientAuth };
  return item;
}

function addCertificates(items: FileItems, decoded: DynamicFile, issuesAt: (prefix: readonly string[]) => string[], origin: string): void {
  (decoded.tls?.certificates ?? []).forEach((certificate, index) => {
    const problems = issuesAt(['tls', 'certificates', String(index)]);
    if (problems.length > 0) {
      items.errors.push(...problems.map((problem) => `${origin}: tls.certificates[${index}] is skipped: ${problem}`));
      return;
    }
    const stores = (certificate.stores ?? []).filter((store) => store.toLowerCase() !== 'default');
    if (stores.length > 0) items.warnings.push(`${origin}: tls.certificates[${index}] names stores ${stores.join(', ')}; only the default store exists, which serves it`);
    items.certificates.push({ certFile: certificate.certFile ?? '', keyFile: certificate.keyFile ?? '', origin });
  });

  for (const [name, store] of Object.entries(decoded.tls?.stores ?? {})) {
    const problems = issuesAt(['tls', 'stores', name]);
    if (name.toLowerCase() !== 'default') {
      items.warnings.push(`${origin}: tls.stores.${name} is ignored; only the default store exists`);
      continue;
    }
    if (problems.length > 0) {
      items.errors.push(...problems.map((problem) => `${origin}: tls.stores.${name} is ignored: ${problem}`));
      continue;
    }
    if (store.defaultGeneratedCert !== undefined) {
      items.warnings.push(`${origin}: tls.stores.${name}.defaultGeneratedCert is not supported yet and is ignored; set defaultCertificate instead`);
    }
    if (store.defaultCertificate !== undefined) {
      items.defaultCertificate = { certFile: store.defaultCertificate.certFile ?? '', keyFile: store.defaultCertificate.keyFile ?? '', origin };
    }
  }
}

function addUnsupportedSections(items: FileItems, decoded: DynamicFile, origin: string): void {
  if (decoded.tcp !== undefined || decoded.udp !== undefined) items.warnings.push(`${origin}: tcp and udp sections are not supported yet and are ignored`);
  if (decoded.http?.serversTransports !== undefined) items.warnings.push(`${origin}: http.serversTransports is not supported yet and is ignored`);
}

/** Returns the error for a name with `@`, which Traefik reserves for `name@provider` references. */
function nameError(kind: string, name: string): string[] {
  return name.includes('@') ? [`${kind} name "${name}" contains "@", which is reserved for name@provider references; rename it`] : [];
}

/** Prefixes every message of an item with its file, so the API and the log show where it came from. */
function attribute<T extends { errors: string[]; warnings: string[] }>(item: T, origin: string): T {
  item.errors = item.errors.map((message) => `${origin}: ${message}`);
  item.warnings = item.warnings.map((message) => `${origin}: ${message}`);
  return item;
}
