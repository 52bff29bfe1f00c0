// Merging of the items that several containers declare under one name. Replicas of a service
// declare identical routers and services, which merge into one item whose servers are the union.
// Different definitions under one name are a conflict: the item is kept, so the API shows it,
// but disabled with an error that names both containers and what differs.

import type { Diagnostics, ItemSource, MiddlewareConfig, RouterConfig, ServiceConfig } from '../../dynamic/model.js';
import type { ContainerItems, Declared } from './container-config.js';
import { compareNames, describeContainer } from './naming.js';
import { createDictionary, getOwn } from '../../dictionary.js';
import { runToEnd, type Steps } from '../../dynamic/steps.js';

type Kind = 'router' | 'service' | 'middleware';

interface Item extends Diagnostics {
  sources: ItemSource[];
}

interface Accumulated<T extends Item> {
  item: T;
  definitionJson: string;
  definition: unknown;
  container: string;
}

/** JSON with object keys sorted, so two equal definitions give the same text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const sorted = createDictionary<unknown>();
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}

/** Names the top-level settings in which two definitions differ, for the conflict message. */
function differingSettings(a: unknown, b: unknown): string[] {
  const left = (a ?? {}) as Record<string, unknown>;
  const right = (b ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
  return keys.filter((key) => stableJson(getOwn(left, key)) !== stableJson(getOwn(right, key)));
}

function appendUnique(target: string[], messages: readonly string[]): void {
  for (const message of messages) if (!target.includes(message)) target.push(message);
}

function* mergeKind<T extends Item>(
  kind: Kind,
  declarations: Array<{ container: string; name: string; declared: Declared<T> }>,
  combine: (into: T, from: T) => void,
): Steps<Map<string, T>> {
  const merged = new Map<string, Accumulated<T>>();

  for (const { container, name, declared } of declarations) {
    yield;
    const definitionJson = stableJson(declared.definition);
    const existing = merged.get(name);
    if (existing === undefined) {
      merged.set(name, { item: declared.item, definitionJson, definition: declared.definition, container });
      continue;
    }

    const target = existing.item;
    if (existing.definitionJson !== definitionJson) {
      const settings = differingSettings(existing.definition, declared.definition).join(', ');
      appendUnique(target.errors, [
        `${kind} "${name}" is defined differently by ${existing.container} and ${container} (${settings} differ); give both the same labels or use different names`,
      ]);
    }
    combine(target, declared.item);
    appendUnique(target.errors, declared.item.errors);
    appendUnique(target.warnings, declared.item.warnings);
    target.sources.push(...declared.item.sources);
  }

  const result = new Map<string, T>();
  for (const [name, { item }] of merged) result.set(name, item);
  return result;
}

function sortedRecord<T>(entries: Map<string, T>): Record<string, T> {
  const record = createDictionary<T>();
  for (const name of [...entries.keys()].sort(compareNames)) record[name] = entries.get(name) as T;
  return record;
}

function sortSources(sources: ItemSource[]): void {
  sources.sort((a, b) => compareNames(a.origin, b.origin) || compareNames(a.provider, b.provider));
}

/**
 * Merges the items of all kept containers. `perContainer` must be in a fixed order (the builder
 * sorts containers by name and id), because the first definition of a conflicting name is kept.
 */
export function mergeContainerItems(perContainer: readonly ContainerItems[]): MergedContainerItems {
  return runToEnd(mergeContainerItemsSteps(perContainer));
}

export interface MergedContainerItems {
  routers: Record<string, RouterConfig>;
  services: Record<string, ServiceConfig>;
  middlewares: Record<string, MiddlewareConfig>;
}

/** Steps of `mergeContainerItems`, with a pause point before each declared item. */
export function* mergeContainerItemsSteps(perContainer: readonly ContainerItems[]): Steps<MergedContainerItems> {
  const flatten = <T>(pick: (items: ContainerItems) => Map<string, Declared<T>>) =>
    perContainer.flatMap((items) =>
      [...pick(items)].map(([name, declared]) => ({ container: describeContainer(items.container), name, declared })),
    );

  const routers = yield* mergeKind<RouterConfig>('router', flatten((items) => items.routers), () => undefined);
  const services = yield* mergeKind<ServiceConfig>('service', flatten((items) => items.services), (into, from) => {
    into.loadBalancer.servers.push(...from.loadBalancer.servers);
  });
  const middlewares = yield* mergeKind<MiddlewareConfig>('middleware', flatten((items) => items.middlewares), () => undefined);

  for (const service of services.values()) {
    service.loadBalancer.servers.sort((a, b) => compareNames(a.url, b.url) || compareNames(a.containerId ?? '', b.containerId ?? ''));
  }
  for (const item of [...routers.values(), ...services.values(), ...middlewares.values()]) sortSources(item.sources);

  return { routers: sortedRecord(routers), services: sortedRecord(services), middlewares: sortedRecord(middlewares) };
}
