// The Docker provider's configuration builder: a pure function from container snapshots to the
// provider's routers, services and middlewares, following Traefik v3's Docker provider.
// The same containers in any order give deep-equal output, so a rebuild can be skipped when the
// result is unchanged.

import type { ProviderConfig, SkippedContainer, SkippedRouter } from '../../dynamic/model.js';
import { buildContainerItems } from './container-config.js';
import type { ContainerBuildContext, ContainerItems, ServerPolicy } from './container-config.js';
import type { ContainerInfo } from './container-info.js';
import { readContainerLabels } from './container-labels.js';
import type { ContainerLabels } from './container-labels.js';
import { mergeContainerItemsSteps } from './merge.js';
import { runToEnd, type Steps } from '../../dynamic/steps.js';
import { compareNames } from './naming.js';
import { parseRuleTemplate } from './template.js';
import { truncateValue } from '../../quote.js';

export interface DockerBuildOptions {
  /** Label prefix without the trailing dot, `traefik` by default in the static configuration. */
  labelPrefix: string;
  /** Route containers that have no `<prefix>.enable` label. */
  exposedByDefault: boolean;
  /** The defaultRule template, such as "Host(`{{ normalize .Name }}`)". */
  defaultRule: string;
  /** Network to connect to when a container has no `<prefix>.docker.network` label. */
  network?: string;
  /** Networks Berth's own container is attached to; preferred when a container is on several. */
  selfNetworks?: string[];
  /** Keep routers and services of containers that are not running or not healthy, with no servers. */
  allowEmptyServices?: boolean;
  /** Labels decoded by earlier builds, which the builder reads and never changes. */
  decodedLabels?: DecodedLabelsCache;
}

/**
 * Returns why a container must not receive traffic, or undefined when it may. A HEALTHCHECK
 * counts only when the image or the run command defines one (health is not `none`).
 */
export function skipReason(container: ContainerInfo): string | undefined {
  if (container.stopping === true) return 'stopping';
  if (container.paused || container.state === 'paused') return 'paused';
  if (container.state !== 'running') return `not running (${container.state})`;
  if (container.health === 'unhealthy') return 'unhealthy (HEALTHCHECK failing)';
  if (container.health === 'starting') return 'health check starting';
  return undefined;
}

function compareContainers(a: ContainerInfo, b: ContainerInfo): number {
  return compareNames(a.name, b.name) || compareNames(a.id, b.id);
}

/** Reason, log severity and label of a skipped container, without its id and name. */
type SkipDetails = Omit<SkippedContainer, 'id' | 'name'>;

/**
 * Decides from `<prefix>.enable` and exposedByDefault whether the container is skipped. A skip
 * without details is not listed, which is the case for containers with no prefixed label at all.
 */
function enableDecision(container: ContainerInfo, labels: ContainerLabels, options: DockerBuildOptions): { skip: boolean; details?: SkipDetails } {
  const prefix = options.labelPrefix;
  const invalidEnable = labels.containerIssues.find((issue) => issue.path.length === 1 && issue.path[0] === 'enable');
  if (invalidEnable !== undefined) {
    // Traefik logs an invalid enable value as an error, so the skip is logged as a warning.
    return { skip: true, details: { reason: invalidEnable.message, severity: 'warning', ...labelAndValue(container, invalidEnable.key) } };
  }

  if (labels.enable === false) return { skip: true, details: { reason: `disabled by label ${prefix}.enable=false` } };
  if (labels.enable === true || options.exposedByDefault) return { skip: false };

  // Containers without any prefixed label are not meant for Berth, so they are not listed at all.
  if (!labels.hasPrefixedLabels) return { skip: true };
  const reason = `not enabled: exposedByDefault is false and label ${prefix}.enable=true is missing`;
  const firstIssue = labels.containerIssues[0];
  if (firstIssue === undefined) return { skip: true, details: { reason } };

  // A misspelled label such as `traefik.enabel=true` usually means the container was meant to be enabled.
  const hints = labels.containerIssues.map((issue) => `; ${issue.message}`).join('');
  // Only the key is kept, because an unknown label may carry a secret such as a password hash.
  return { skip: true, details: { reason: reason + hints, severity: 'warning', label: labelAndValue(container, firstIssue.key).label } };
}

/** Returns the label `key` as written on the container, with its value. */
function labelAndValue(container: ContainerInfo, key: string): { label: string; value?: string } {
  const lower = key.toLowerCase();
  const written = Object.keys(container.labels).find((candidate) => candidate.toLowerCase() === lower);
  if (written === undefined) return { label: key };
  return { label: written, value: container.labels[written] ?? '' };
}

/** Returns the first `<prefix>.tcp` or `<prefix>.udp` label of the container, in sorted order. */
function firstTcpOrUdpLabel(container: ContainerInfo, prefix: string): string | undefined {
  const starts = [`${prefix}.tcp.`, `${prefix}.udp.`].map((start) => start.toLowerCase());
  return Object.keys(container.labels)
    .sort()
    .find((key) => starts.some((start) => key.toLowerCase().startsWith(start)));
}

/**
 * Returns the routers that a skipped container's labels define, as `{ routers }`, or `{}` when it
 * defines none. They are built as for a container in rotation but without servers, and used only to
 * explain a 404.
 */
function skippedRouters(container: ContainerInfo, labels: ContainerLabels, context: ContainerBuildContext): { routers?: SkippedRouter[] } {
  const items = buildContainerItems(container, labels, context, { add: false, reason: 'skipped' });
  const routers: SkippedRouter[] = [];
  for (const [name, declared] of items.routers) {
    const router: SkippedRouter = { name, rule: declared.item.rule };
    if (declared.item.ruleSyntax !== undefined) router.ruleSyntax = declared.item.ruleSyntax;
    routers.push(router);
  }
  return routers.length === 0 ? {} : { routers };
}

/**
 * Decoded labels by the labels object of a container snapshot. The Docker provider keeps the
 * snapshot of a container until an event makes it inspect that container again, so with this
 * cache an event decodes only the labels of the containers it names. A container with thousands
 * of labels took hundreds of milliseconds to decode. Only a caller that never changes a labels
 * object after a build may pass one, because a changed object would still find its old entry.
 */
export type DecodedLabelsCache = WeakMap<Record<string, string>, { prefix: string; labels: ContainerLabels }>;

function decodeContainerLabels(container: ContainerInfo, prefix: string, cache: DecodedLabelsCache | undefined): ContainerLabels {
  const cached = cache?.get(container.labels);
  if (cached !== undefined && cached.prefix === prefix) return cached.labels;
  const labels = readContainerLabels(container.labels, prefix);
  cache?.set(container.labels, { prefix, labels });
  return labels;
}

/** Builds the provider configuration for one snapshot of containers. */
export function buildProviderConfig(containers: ContainerInfo[], options: DockerBuildOptions, provider = 'docker'): ProviderConfig {
  return runToEnd(buildProviderConfigSteps(containers, options, provider));
}

/** Steps of `buildProviderConfig`, with a pause point after each container and each merged item. */
export function* buildProviderConfigSteps(containers: ContainerInfo[], options: DockerBuildOptions, provider = 'docker'): Steps<ProviderConfig> {
  const sorted = [...containers].sort(compareContainers);
  const skipped: SkippedContainer[] = [];
  const containerItems: ContainerItems[] = [];

  let defaultRule: ContainerBuildContext['defaultRule'];
  try {
    defaultRule = parseRuleTemplate(options.defaultRule);
  } catch (error) {
    defaultRule = error as Error;
  }

  const context: ContainerBuildContext = {
    provider,
    defaultRule,
    containers: sorted,
    prefix: options.labelPrefix,
    selfNetworks: options.selfNetworks ?? [],
  };
  if (options.network !== undefined) context.defaultNetwork = options.network;

  for (const container of sorted) {
    yield;
    // A fault while building one container must not stop the provider, which would leave every
    // other container unrouted, so it becomes a skip of that container with the error as reason.
    try {
      const built = buildContainer(container, options, context);
      if ('items' in built) containerItems.push(built.items);
      else if (built.skipped !== undefined) skipped.push(built.skipped);
    } catch (error) {
      skipped.push({ id: container.id, name: container.name, reason: `building its configuration failed: ${truncateValue(String(error))}`, severity: 'warning' });
    }
  }

  return { ...(yield* mergeContainerItemsSteps(containerItems)), skipped };
}

/** Reads the labels of one container and builds its items, or returns why it is skipped (undefined for a skip that is not listed). */
function buildContainer(
  container: ContainerInfo,
  options: DockerBuildOptions,
  context: ContainerBuildContext,
): { skipped: SkippedContainer | undefined } | { items: ContainerItems } {
  // NOTE: one container's labels decode in one step, about 200 ms for 3,000 routers in
  // bench/rebuild.mjs, so a change to such a container still stalls requests that long.
  const labels = decodeContainerLabels(container, options.labelPrefix, options.decodedLabels);

  const enable = enableDecision(container, labels, options);
  if (enable.skip) {
    return { skipped: enable.details === undefined ? undefined : { id: container.id, name: container.name, ...enable.details, ...skippedRouters(container, labels, context) } };
  }

  // Traefik ignores the HTTP part of a container whose labels declare only TCP or UDP items.
  const hasHttp = [labels.routers, labels.services, labels.middlewares].some((items) => Object.keys(items).length > 0);
  if (labels.hasTcpOrUdp && !hasHttp) {
    const label = firstTcpOrUdpLabel(container, options.labelPrefix);
    return {
      skipped: {
        id: container.id,
        name: container.name,
        reason: `tcp/udp routers are not supported yet; labels under ${options.labelPrefix}.tcp and ${options.labelPrefix}.udp are ignored`,
        severity: 'info',
        ...(label === undefined ? {} : { label }),
      },
    };
  }

  const reason = skipReason(container);
  let policy: ServerPolicy = { add: true };
  if (reason !== undefined) {
    if (!(options.allowEmptyServices === true || labels.allowNonRunning)) {
      return { skipped: { id: container.id, name: container.name, reason, ...skippedRouters(container, labels, context) } };
    }
    // The routers stay, so requests get 503 instead of 404 while the container has no server.
    policy = { add: false, reason };
  }

  return { items: buildContainerItems(container, labels, context, policy) };
}
