// The server a container adds to a service: `scheme://host:port`, or the `loadbalancer.server.url`
// label, which replaces the address and port entirely.
// The host is 127.0.0.1 in host network mode, and the shared container's address in
// `container:<id>` mode. Otherwise it is the address on the network named by
// `<prefix>.docker.network`, else by the provider's `network` option, else on a network picked
// deterministically, preferring the networks Berth itself is attached to.

import type { ServerConfig } from '../../dynamic/model.js';
import type { ServiceLabels } from '../../labels/http-schemas.js';
import type { ContainerInfo, ContainerNetwork } from './container-info.js';
import { compareNames, composeIdentity, describeContainer } from './naming.js';
import { redactServerUrl } from '../../observability/redact.js';

export interface AddressContext {
  /** Every container of the snapshot, to follow `container:<id>` network modes. */
  containers: readonly ContainerInfo[];
  /** Label prefix without the dot, for messages and for reading the network label. */
  prefix: string;
  /** The provider's `network` option. */
  defaultNetwork?: string;
  /** Networks of Berth's own container. */
  selfNetworks: readonly string[];
}

export interface HostResult {
  /** Host for the URL: an IPv4 address, or an IPv6 address in brackets. */
  host?: string;
  error?: string;
  warnings: string[];
}

interface RequestedNetwork {
  name: string;
  /** Origin of the name (a label or the provider option), for messages. */
  source: string;
}

// A longer chain of `container:` modes than this is treated as a loop.
const MAX_SHARED_DEPTH = 4;

function networkAddress(network: ContainerNetwork): string | undefined {
  if (network.ipAddress !== '') return network.ipAddress;
  if (network.ipv6Address !== undefined && network.ipv6Address !== '') return `[${network.ipv6Address}]`;
  return undefined;
}

/** Reads `<prefix>.docker.network` from raw labels, in any case. */
export function networkLabel(container: ContainerInfo, prefix: string): string | undefined {
  // Compares whole keys instead of selecting every prefixed label, because a container may carry
  // thousands. As with selectPrefixed, the first spelling after the prefix wins, and among keys that
  // differ only in the prefix's case, the last one.
  const start = `${prefix.toLowerCase()}.`;
  const wanted = `${start}docker.network`;
  let spelling: string | undefined;
  let value: string | undefined;
  for (const key of Object.keys(container.labels)) {
    if (key.toLowerCase() !== wanted) continue;
    const relative = key.slice(start.length);
    spelling ??= relative;
    if (relative === spelling) value = container.labels[key];
  }
  return value === undefined || value === '' ? undefined : value;
}

/** Finds the container that `container:<ref>` names, by full id, id prefix or name. */
function findSharedContainer(reference: string, containers: readonly ContainerInfo[]): ContainerInfo | undefined {
  const name = reference.replace(/^\//, '');
  return (
    containers.find((candidate) => candidate.id === reference) ??
    containers.find((candidate) => candidate.name === name) ??
    containers.find((candidate) => reference.length >= 4 && candidate.id.startsWith(reference))
  );
}

/** Suggests the attached network the user probably meant: `<project>_<name>`, else one ending in `_<name>`. */
function suggestNetwork(container: ContainerInfo, requested: string): string | undefined {
  const names = container.networks.map((network) => network.name);
  const project = composeIdentity(container)?.project;
  if (project !== undefined && names.includes(`${project}_${requested}`)) return `${project}_${requested}`;
  return names.find((name) => name.endsWith(`_${requested}`));
}

function pickNetwork(container: ContainerInfo, context: AddressContext): ContainerNetwork | undefined {
  const reachable = container.networks
    .filter((network) => networkAddress(network) !== undefined)
    .sort((a, b) => compareNames(a.name, b.name));
  return reachable.find((network) => context.selfNetworks.includes(network.name)) ?? reachable[0];
}

// Messages leave out the container they are about, because the caller prefixes them with it.
function resolve(container: ContainerInfo, requested: RequestedNetwork | undefined, context: AddressContext, depth: number): HostResult {
  const mode = container.networkMode;

  if (mode === 'host') return { host: '127.0.0.1', warnings: [] };
  if (mode === 'none') {
    return { error: 'network mode "none" gives the container no address Berth can reach; attach it to a network or set a server url label', warnings: [] };
  }

  if (mode.startsWith('container:')) {
    const reference = mode.slice('container:'.length);
    const shared = findSharedContainer(reference, context.containers);
    if (shared === undefined) return { error: `network mode "${mode}" names a container that was not found`, warnings: [] };
    if (depth >= MAX_SHARED_DEPTH) return { error: `network mode "${mode}" continues a chain of more than ${MAX_SHARED_DEPTH} shared network namespaces`, warnings: [] };

    // As in Traefik, the shared container's own network label wins over this container's.
    const own = networkLabel(shared, context.prefix);
    const next = own === undefined ? requested : { name: own, source: `label ${context.prefix}.docker.network of ${describeContainer(shared)}` };
    const via = describeContainer(shared);
    const inner = resolve(shared, next, context, depth + 1);
    const result: HostResult = { warnings: inner.warnings.map((warning) => `through ${via}: ${warning}`) };
    if (inner.host !== undefined) result.host = inner.host;
    if (inner.error !== undefined) result.error = `through ${via}: ${inner.error}`;
    return result;
  }

  const warnings: string[] = [];
  if (requested !== undefined) {
    const named = container.networks.find((network) => network.name === requested.name);
    if (named !== undefined) {
      const address = networkAddress(named);
      if (address !== undefined) return { host: address, warnings };
      return { error: `no IP address on network "${named.name}" (from ${requested.source})`, warnings };
    }

    const attached = container.networks.map((network) => network.name).join(', ') || 'none';
    const suggestion = suggestNetwork(container, requested.name);
    const hint = suggestion === undefined ? '.' : `; did you mean "${suggestion}"?`;
    const fallback = pickNetwork(container, context);
    const using = fallback === undefined ? '' : ` Using "${fallback.name}" instead.`;
    warnings.push(`network "${requested.name}" (from ${requested.source}) is not attached to the container (attached: ${attached})${hint}${using}`);
  }

  const chosen = pickNetwork(container, context);
  if (chosen === undefined) {
    const names = container.networks.map((network) => network.name).join(', ');
    const error = names === '' ? 'the container is attached to no network' : `no IP address on the container's networks (${names})`;
    return { error, warnings };
  }
  return { host: networkAddress(chosen) as string, warnings };
}

/** Chooses the host Berth connects to for `container`; never returns an empty host. */
export function resolveHost(container: ContainerInfo, context: AddressContext): HostResult {
  const label = networkLabel(container, context.prefix);
  let requested: RequestedNetwork | undefined;
  if (label !== undefined) requested = { name: label, source: `label ${context.prefix}.docker.network` };
  else if (context.defaultNetwork !== undefined && context.defaultNetwork !== '') {
    requested = { name: context.defaultNetwork, source: "the provider's network option" };
  }
  return resolve(container, requested, context, 0);
}

type ServerLabels = NonNullable<NonNullable<ServiceLabels['loadBalancer']>['server']>;

export interface ServerResult {
  server?: ServerConfig;
  errors: string[];
  warnings: string[];
}

const URL_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'h2c:']);

function fromUrl(container: ContainerInfo, labels: ServerLabels, urlKey: string, weight: number): ServerResult {
  const text = labels.url ?? '';
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return { errors: [`invalid value "${redactServerUrl(text)}" for label "${urlKey}": expected an absolute URL such as http://10.0.0.5:8080`], warnings: [] };
  }
  if (!URL_SCHEMES.has(parsed.protocol) || parsed.hostname === '') {
    return { errors: [`invalid value "${redactServerUrl(text)}" for label "${urlKey}": expected an http, https or h2c URL with a host`], warnings: [] };
  }

  const warnings: string[] = [];
  if (labels.port !== undefined || labels.scheme !== undefined) {
    warnings.push(`label "${urlKey}" is set, so the server port and scheme labels are ignored`);
  }
  return { server: { url: text, weight, containerId: container.id }, errors: [], warnings };
}

/**
 * Builds the server of `container` for service `serviceName`. The port is the port label, else the
 * lowest exposed TCP port, which is Traefik's choice when several are exposed.
 */
export function buildServer(
  container: ContainerInfo,
  serviceName: string,
  labels: ServerLabels | undefined,
  context: AddressContext,
): ServerResult {
  const keyBase = `${context.prefix}.http.services.${serviceName}.loadbalancer.server`;
  const weight = labels?.weight ?? 1;
  if (labels?.url !== undefined) return fromUrl(container, labels, `${keyBase}.url`, weight);

  const port = labels?.port ?? container.exposedPorts[0];
  if (port === undefined) {
    return { errors: [`port is missing: set ${keyBase}.port or EXPOSE a port`], warnings: [] };
  }

  const host = resolveHost(container, context);
  if (host.host === undefined) {
    return { errors: [host.error ?? 'the container has no reachable address'], warnings: host.warnings };
  }

  const scheme = labels?.scheme ?? 'http';
  return { server: { url: `${scheme}://${host.host}:${port}`, weight, containerId: container.id }, errors: [], warnings: host.warnings };
}
